/**
 * The Kubernetes Go types of the kinds kumo serves (generated from k8s.io/api
 * into k8s-types.generated.ts) as lookups: a kind's root struct, a struct's
 * fields by JSON name (inline structs flattened, as JSON sees them) and by
 * protobuf number, and parsed field types. Protobuf decoding, strategic merge
 * patch, server-side apply and OpenAPI all read the types through here.
 */
import type { GoField, GoStruct } from './go-struct.js';
import { K8S_TYPES } from './k8s-types.generated.js';

/** Leaf types with their own wire and JSON forms. */
export const SPECIAL_TYPES = ['Quantity', 'IntOrString', 'Time', 'MicroTime', 'Duration', 'FieldsV1', 'RawExtension'] as const;
export type SpecialType = (typeof SPECIAL_TYPES)[number];
export type ScalarType = 'string' | 'bool' | 'int32' | 'int64' | 'double' | 'bytes';

/** A parsed field type: `[]X` list, `map[]X` map (string keys), a struct name (`core/v1.Pod`), a scalar or a special type. */
export type TypeRef =
  | { kind: 'scalar'; scalar: ScalarType }
  | { kind: 'special'; special: SpecialType }
  | { kind: 'struct'; name: string }
  | { kind: 'list'; elem: TypeRef }
  | { kind: 'map'; elem: TypeRef };

const typeCache = new Map<string, TypeRef>();

/** Parses a generated type string; a leading `*` (pointer) is ignored here (see isPointer). */
export function parseType(type: string): TypeRef {
  const cached = typeCache.get(type);
  if (cached) return cached;
  const t = type.startsWith('*') ? type.slice(1) : type;
  let ref: TypeRef;
  if (t.startsWith('[]')) ref = { kind: 'list', elem: parseType(t.slice(2)) };
  else if (t.startsWith('map[]')) ref = { kind: 'map', elem: parseType(t.slice(5)) };
  else if ((SPECIAL_TYPES as readonly string[]).includes(t)) ref = { kind: 'special', special: t as SpecialType };
  else if (t.includes('.')) ref = { kind: 'struct', name: t };
  else ref = { kind: 'scalar', scalar: t as ScalarType };
  typeCache.set(type, ref);
  return ref;
}

export function isPointer(field: GoField): boolean {
  return field.type.startsWith('*');
}

export function goStruct(name: string): GoStruct | undefined {
  return K8S_TYPES[name];
}

/** The root struct of a kind: `apps/v1` + `Deployment` → `apps/v1.Deployment`. */
export function structForKind(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = group === '' ? 'core' : group === 'meta.k8s.io' ? 'meta' : group!.split('.')[0]!;
  const name = `${pkg}/${version}.${kind}`;
  if (K8S_TYPES[name]) return name;
  // Options types (DeleteOptions) are meta/v1's, sent under any group's version.
  const meta = `meta/${version}.${kind}`;
  return K8S_TYPES[meta] ? meta : undefined;
}

const jsonFieldCache = new Map<string, ReadonlyMap<string, GoField>>();

/** A struct's fields by JSON name, with inline structs' fields in place (as JSON sees them). */
export function jsonFields(name: string): ReadonlyMap<string, GoField> {
  const cached = jsonFieldCache.get(name);
  if (cached) return cached;
  const out = new Map<string, GoField>();
  for (const f of goStruct(name)?.fields ?? []) {
    if (f.inline) {
      const ref = parseType(f.type);
      if (ref.kind === 'struct') for (const [k, v] of jsonFields(ref.name)) out.set(k, v);
    } else out.set(f.name, f);
  }
  jsonFieldCache.set(name, out);
  return out;
}

const protoFieldCache = new Map<string, ReadonlyMap<number, GoField>>();

/** A struct's fields by protobuf field number (inline structs are nested messages on the wire). */
export function protoFields(name: string): ReadonlyMap<number, GoField> {
  const cached = protoFieldCache.get(name);
  if (cached) return cached;
  const out = new Map<number, GoField>();
  for (const f of goStruct(name)?.fields ?? []) if (f.proto !== undefined) out.set(f.proto, f);
  protoFieldCache.set(name, out);
  return out;
}

/** The struct a field's value (or its list/map elements) is, if any. */
export function elemStruct(ref: TypeRef): string | undefined {
  if (ref.kind === 'struct') return ref.name;
  if (ref.kind === 'list' || ref.kind === 'map') return elemStruct(ref.elem);
  return undefined;
}
