/**
 * Shapes: how server-side apply sees a value (structured-merge-diff's
 * schema): structs with named fields, free-form maps, lists that are atomic,
 * sets or maps keyed by some fields, and scalars. Built from the Go types'
 * markers the way Kubernetes' OpenAPI does: `+listType`/`+listMapKey`, else a
 * `merge` patch strategy makes a list keyed by its patchMergeKey (or a set),
 * else it is atomic; `+structType=atomic` and `+mapType=atomic` make leaves.
 * Values without a schema (unknown fields, kinds without Go types) are
 * "deduced": objects are granular maps, lists atomic.
 */
import type { GoField } from './go-struct.js';
import { goStruct, jsonFields, parseType, structForKind, type TypeRef } from './types.js';

export type ListType = 'atomic' | 'set' | 'map';

export type Shape =
  | { kind: 'scalar' }
  | { kind: 'struct'; struct: string; atomic: boolean }
  | { kind: 'map'; elem: Shape; atomic: boolean }
  | { kind: 'list'; elem: Shape; listType: ListType; keys: readonly string[] }
  | { kind: 'deduced' };

export const SCALAR: Shape = { kind: 'scalar' };
export const DEDUCED: Shape = { kind: 'deduced' };

function shapeOfRef(ref: TypeRef, field: GoField | undefined): Shape {
  switch (ref.kind) {
    case 'scalar':
    case 'special':
      return SCALAR;
    case 'struct':
      return { kind: 'struct', struct: ref.name, atomic: field?.structType === 'atomic' || goStruct(ref.name)?.structType === 'atomic' };
    case 'map':
      return { kind: 'map', elem: shapeOfRef(ref.elem, undefined), atomic: field?.mapType === 'atomic' };
    case 'list': {
      const strategy = field?.patchStrategy?.split(',') ?? [];
      const listType = (field?.listType as ListType | undefined) ?? (strategy.includes('merge') ? (field?.patchMergeKey ? 'map' : 'set') : 'atomic');
      const keys = listType === 'map' ? (field?.listMapKeys ?? (field?.patchMergeKey ? [field.patchMergeKey] : [])) : [];
      return { kind: 'list', elem: shapeOfRef(ref.elem, undefined), listType, keys };
    }
  }
}

const fieldShapes = new WeakMap<GoField, Shape>();

export function shapeOfField(field: GoField): Shape {
  let s = fieldShapes.get(field);
  if (!s) {
    s = shapeOfRef(parseType(field.type), field);
    fieldShapes.set(field, s);
  }
  return s;
}

/** The shape of a kind's objects; deduced for kinds without Go types. */
export function rootShape(apiVersion: string, kind: string): Shape {
  const struct = structForKind(apiVersion, kind);
  return struct ? { kind: 'struct', struct, atomic: false } : DEDUCED;
}

/** The shape of `key` inside a struct or map (deduced when the schema does not name it). */
export function childShape(shape: Shape, key: string): Shape {
  if (shape.kind === 'struct') {
    const f = jsonFields(shape.struct).get(key);
    return f ? shapeOfField(f) : DEDUCED;
  }
  if (shape.kind === 'map') return shape.elem;
  return DEDUCED;
}

/** Whether `key` is a declared field of a struct (as opposed to a free-form map key). */
export function isNamedField(shape: Shape, key: string): boolean {
  return shape.kind === 'struct' && jsonFields(shape.struct).has(key);
}

/** The declared field of a struct shape, if any. */
export function fieldOf(shape: Shape, key: string): GoField | undefined {
  return shape.kind === 'struct' ? jsonFields(shape.struct).get(key) : undefined;
}

/** Default of a list map key field, for items that leave it out (`protocol` of ports is "TCP"). */
export function keyDefault(list: Shape & { kind: 'list' }, key: string): unknown {
  return list.elem.kind === 'struct' ? jsonFields(list.elem.struct).get(key)?.default : undefined;
}
