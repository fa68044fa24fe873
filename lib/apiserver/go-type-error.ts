/**
 * A field of the wrong type, worded as Go's JSON decoder words it (its
 * UnmarshalTypeError, which kube-apiserver passes through): `json: cannot
 * unmarshal string into Go struct field PodSpec.spec.containers of type
 * []v1.Container`. The Go types come from schema/types.ts, so the message
 * names the same struct and type kube would; the path is the JSON field path
 * without list indices, as Go's error context records it.
 */
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { isPlainObject } from '../util/json.js';
import { jsonFields, parseType, structForKind, type TypeRef } from './schema/types.js';

/** Go's spelling of a generated field type (`[]core/v1.Container` → `[]v1.Container`). */
function goTypeName(ref: TypeRef): string {
  switch (ref.kind) {
    case 'list':
      return `[]${goTypeName(ref.elem)}`;
    case 'map':
      return `map[string]${goTypeName(ref.elem)}`;
    case 'struct':
      return ref.name.slice(ref.name.indexOf('/') + 1);
    case 'scalar':
      return ref.scalar === 'double' ? 'float64' : ref.scalar === 'bytes' ? '[]uint8' : ref.scalar;
    case 'special':
      return (
        { Quantity: 'resource.Quantity', IntOrString: 'intstr.IntOrString', RawExtension: 'runtime.RawExtension' }[ref.special as string] ?? `v1.${ref.special}`
      );
  }
}

/** How Go names the JSON value it could not store (`number 1.5` for a fraction bound for an integer). */
function valueKind(value: unknown, into: TypeRef | undefined): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') {
    const integer = into?.kind === 'scalar' && (into.scalar === 'int32' || into.scalar === 'int64');
    return integer ? `number ${String(value)}` : 'number';
  }
  return value === null ? 'null' : 'object';
}

/**
 * The message for the first mismatch, at `path` (a zod issue path) in
 * `value`, an object of `rt`'s kind.
 */
export function goTypeError(rt: ResourceType, value: unknown, path: readonly PropertyKey[]): string {
  let struct = structForKind(apiVersionOf(rt), rt.kind);
  let structName = rt.kind;
  let ref: TypeRef | undefined = struct ? { kind: 'struct', name: struct } : undefined;
  let current: unknown = value;
  const names: string[] = [];
  for (const step of path) {
    current = isPlainObject(current) || Array.isArray(current) ? (current as Record<PropertyKey, unknown>)[step as string] : undefined;
    if (!ref) {
      if (typeof step === 'string') names.push(step);
      continue;
    }
    if (ref.kind === 'struct' && typeof step === 'string') {
      struct = ref.name;
      structName = struct.slice(struct.lastIndexOf('.') + 1);
      const field = jsonFields(struct).get(step);
      names.push(step);
      ref = field ? parseType(field.type) : undefined;
    } else if (ref.kind === 'list' || ref.kind === 'map') {
      ref = ref.elem;
    } else ref = undefined;
  }
  const into = ref ? goTypeName(ref) : 'interface {}';
  if (names.length === 0) return `json: cannot unmarshal ${valueKind(current, ref)} into Go value of type ${into}`;
  return `json: cannot unmarshal ${valueKind(current, ref)} into Go struct field ${structName}.${names.join('.')} of type ${into}`;
}

/** Whether a JSON value fits a Go type as Go's decoder sees it (null fits anything: it leaves the zero value). */
function fits(ref: TypeRef, value: unknown): boolean {
  if (value === null) return true;
  switch (ref.kind) {
    case 'struct':
    case 'map':
      return isPlainObject(value);
    case 'list':
      return Array.isArray(value);
    case 'scalar':
      switch (ref.scalar) {
        case 'string':
        case 'bytes':
          return typeof value === 'string';
        case 'bool':
          return typeof value === 'boolean';
        case 'double':
          return typeof value === 'number';
        case 'int32':
          return Number.isInteger(value) && Math.abs(value as number) <= 2 ** 31;
        case 'int64':
          return Number.isInteger(value);
      }
      return false;
    case 'special':
      switch (ref.special) {
        case 'Quantity':
          return typeof value === 'string' || typeof value === 'number';
        case 'IntOrString':
          return typeof value === 'string' || Number.isInteger(value);
        case 'Time':
        case 'MicroTime':
        case 'Duration':
          return typeof value === 'string';
        default:
          return true;
      }
  }
}

/**
 * The first field of `value` whose JSON type its Go type cannot take, as a
 * path for goTypeError; undefined when every field fits (or the kind has no
 * Go types). Fields the types do not declare are not looked at (they are
 * unknown fields, handled apart). Missing fields are fine: this is what
 * Go's decoder checks, not validation, so partial objects (apply
 * configurations) pass.
 */
export function goTypeMismatch(rt: ResourceType, value: unknown): PropertyKey[] | undefined {
  const root = structForKind(apiVersionOf(rt), rt.kind);
  if (!root) return undefined;
  const walk = (ref: TypeRef, v: unknown, path: PropertyKey[]): PropertyKey[] | undefined => {
    if (!fits(ref, v)) return path;
    if (v === null) return undefined;
    if (ref.kind === 'struct') {
      const fields = jsonFields(ref.name);
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const f = fields.get(k);
        const bad = f ? walk(parseType(f.type), child, [...path, k]) : undefined;
        if (bad) return bad;
      }
    } else if (ref.kind === 'list') {
      for (const [i, child] of (v as unknown[]).entries()) {
        const bad = walk(ref.elem, child, [...path, i]);
        if (bad) return bad;
      }
    } else if (ref.kind === 'map') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const bad = walk(ref.elem, child, [...path, k]);
        if (bad) return bad;
      }
    }
    return undefined;
  };
  const rootFields = jsonFields(root);
  for (const [k, child] of Object.entries(isPlainObject(value) ? value : {})) {
    const f = rootFields.get(k);
    const bad = f ? walk(parseType(f.type), child, [k]) : undefined;
    if (bad) return bad;
  }
  return undefined;
}
