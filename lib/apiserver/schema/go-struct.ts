/**
 * The shape of a generated Go struct (k8s-types.generated.ts holds one per type):
 * its own module so that the generated table and the lookups over it
 * (types.ts) do not import each other.
 */

/** A struct field as generated. `type` is `*`-prefixed for Go pointers; see TypeRef for the grammar. */
export interface GoField {
  /** JSON name; empty for an inline (embedded) struct. */
  name: string;
  type: string;
  proto?: number;
  omitempty?: boolean;
  inline?: boolean;
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: string;
  listMapKeys?: string[];
  mapType?: string;
  structType?: string;
  required?: boolean;
  /** The `+default=` marker's value (list map keys use it for items that leave the key out). */
  default?: unknown;
  doc?: string;
}

export interface GoStruct {
  doc: string;
  structType?: string;
  fields: GoField[];
}
