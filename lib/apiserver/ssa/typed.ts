/**
 * Structured-merge-diff's typed operations over plain JSON values and their
 * shapes (schema/shape.ts): the field set a value sets (ToFieldSet), the
 * comparison of two values (Added/Removed/Modified), merging an applied
 * configuration into a live object, and removing a set of fields. Ported
 * from sigs.k8s.io/structured-merge-diff/v4 typed/{tofieldset,compare,
 * merge,remove}.go; none of them modifies its inputs.
 */
import { childShape, DEDUCED, fieldOf, isNamedField, keyDefault, SCALAR, type Shape } from '../schema/shape.js';
import { isPointer } from '../schema/types.js';
import { clone, deepEqual, isPlainObject, ownMember, setOwnMember } from '../../util/json.js';
import { fieldElement, FieldSet, keyElement, valueElement } from './fieldpath.js';

type Json = unknown;

/** A value's shape once deduced values are resolved by what they hold. */
function resolve(shape: Shape, v: Json): Shape {
  if (shape.kind !== 'deduced') return shape;
  if (isPlainObject(v)) return { kind: 'map', elem: DEDUCED, atomic: false };
  if (Array.isArray(v)) return { kind: 'list', elem: DEDUCED, listType: 'atomic', keys: [] };
  return SCALAR;
}

function isLeaf(shape: Shape): boolean {
  return (
    shape.kind === 'scalar' ||
    shape.kind === 'deduced' ||
    ((shape.kind === 'struct' || shape.kind === 'map') && shape.atomic) ||
    (shape.kind === 'list' && shape.listType === 'atomic')
  );
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

/** The path element of a list item (`k:{...}` for keyed lists, `v:...` for sets). */
export function itemElement(list: Shape & { kind: 'list' }, item: Json): string {
  if (list.listType === 'set') {
    if (item === null || typeof item === 'object') throw new SchemaError('associative list without keys has an element that is not a scalar');
    return valueElement(item);
  }
  if (!isPlainObject(item)) throw new SchemaError('associative list with keys may not have non-map elements');
  const keys: Record<string, unknown> = {};
  for (const k of list.keys) {
    if (item[k] !== undefined) keys[k] = item[k];
    else {
      const d = keyDefault(list, k);
      if (d !== undefined) keys[k] = d;
    }
  }
  if (list.keys.length > 0 && Object.keys(keys).length === 0) {
    throw new SchemaError(
      `associative list with keys has an element that omits all key fields ${JSON.stringify(list.keys)} (and doesn't have default values for any key fields)`,
    );
  }
  return keyElement(keys);
}

/** The fields a value sets (SMD's ToFieldSet). */
export function toFieldSet(value: Json, shape: Shape): FieldSet {
  const out = new FieldSet();
  walkSet(value, shape, out);
  return out;
}

function walkSet(v: Json, declared: Shape, node: FieldSet): void {
  const shape = resolve(declared, v);
  if (isLeaf(shape)) {
    node.member = true;
    return;
  }
  if (shape.kind === 'list') {
    if (!Array.isArray(v)) return;
    for (const item of v) {
      const child = node.child(itemElement(shape, item));
      walkSet(item, shape.elem, child);
      child.member = true;
    }
    return;
  }
  if (!isPlainObject(v)) {
    // A mistyped value (null where a struct goes) counts as set here.
    if (v === null) node.member = true;
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    const child = node.child(fieldElement(k));
    walkSet(val, childShape(shape, k), child);
    if (val === null || (isPlainObject(val) && Object.keys(val).length === 0) || !isNamedField(shape, k)) child.member = true;
  }
}

export interface Comparison {
  added: FieldSet;
  removed: FieldSet;
  modified: FieldSet;
}

/**
 * What changed from `lhs` to `rhs` (SMD's Compare). A non-pointer struct
 * field is never added or removed itself: Go always has it, so Kubernetes
 * never records it (only what changes inside it).
 */
export function compare(lhs: Json, rhs: Json, shape: Shape): Comparison {
  const c: Comparison = { added: new FieldSet(), removed: new FieldSet(), modified: new FieldSet() };
  compareNode(lhs, rhs, shape, [], c, false);
  return c;
}

function compareNode(l: Json, r: Json, declared: Shape, path: string[], c: Comparison, implicit: boolean): void {
  const shape = resolve(declared, r !== undefined ? r : l);
  const emptyBoth = (x: Json) => x === undefined || x === null || (Array.isArray(x) && x.length === 0) || (isPlainObject(x) && Object.keys(x).length === 0);
  const leaf = isLeaf(shape) || ((shape.kind === 'list' || shape.kind === 'map' || shape.kind === 'struct') && emptyBoth(l) && emptyBoth(r));
  if (leaf) {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
    return;
  }
  if (shape.kind === 'list') {
    const li = indexItems(shape, l);
    const ri = indexItems(shape, r);
    for (const pe of new Set([...li.keys(), ...ri.keys()])) compareNode(li.get(pe), ri.get(pe), shape.elem, [...path, pe], c, false);
  } else if (shape.kind === 'struct' || shape.kind === 'map') {
    const lo = isPlainObject(l) ? l : {};
    const ro = isPlainObject(r) ? r : {};
    for (const k of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
      const field = fieldOf(shape, k);
      const child = childShape(shape, k);
      const implicitChild = field !== undefined && child.kind === 'struct' && !isPointer(field);
      compareNode(lo[k], ro[k], child, [...path, fieldElement(k)], c, implicitChild);
    }
  }
  if (implicit || path.length === 0) return;
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

/** A list's items by path element; the first of duplicates wins. */
function indexItems(shape: Shape & { kind: 'list' }, v: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  if (!Array.isArray(v)) return out;
  for (const item of v) {
    const pe = itemElement(shape, item);
    if (!out.has(pe)) out.set(pe, item);
  }
  return out;
}

/**
 * Merges an applied configuration into a live value (SMD's Merge): the
 * configuration's scalars and atomic values win, granular maps merge by
 * key, keyed lists and sets by item, keeping the live items the
 * configuration does not name in place. A null in the configuration
 * removes the field.
 */
export function merge(lhs: Json, rhs: Json, declared: Shape): Json {
  if (rhs === undefined) return lhs === undefined ? undefined : clone(lhs);
  if (lhs === undefined || rhs === null) return clone(rhs);
  const shape = resolve(declared, rhs);
  if (isLeaf(shape)) return clone(rhs);
  if (shape.kind === 'list') {
    if (!Array.isArray(lhs) || !Array.isArray(rhs)) return clone(rhs);
    return mergeList(shape, lhs, rhs);
  }
  if (!isPlainObject(lhs) || !isPlainObject(rhs)) return clone(rhs);
  const out: Record<string, Json> = clone(lhs);
  for (const [k, rv] of Object.entries(rhs)) {
    const m = merge(ownMember(lhs, k) as Json | undefined, rv, childShape(shape, k));
    if (m === null || m === undefined) delete out[k];
    else setOwnMember(out, k, m);
  }
  return out;
}

/** SMD's visitListItems ordering: shared items in the configuration's order, live-only items where they were. */
function mergeList(shape: Shape & { kind: 'list' }, lhs: Json[], rhs: Json[]): Json[] {
  const lpe = lhs.map((x) => itemElement(shape, x));
  const rpe = rhs.map((x) => itemElement(shape, x));
  const lIdx = new Map<string, Json>();
  lpe.forEach((pe, i) => lIdx.has(pe) || lIdx.set(pe, lhs[i]));
  const rIdx = new Map<string, Json>();
  rpe.forEach((pe, i) => rIdx.has(pe) || rIdx.set(pe, rhs[i]));
  const shared = rpe.filter((pe) => lIdx.has(pe));
  let next = shared.shift();
  const done = new Set<string>();
  const out: Json[] = [];
  const item = (pe: string, l: Json, r: Json) => {
    const m = merge(l, r, shape.elem);
    if (m !== undefined && m !== null) out.push(m);
  };
  for (let li = 0, ri = 0; li < lpe.length || ri < rpe.length;) {
    if (li < lpe.length && ri < rpe.length) {
      const pe = lpe[li]!;
      if (pe === rpe[ri]) {
        done.add(pe);
        item(pe, lIdx.get(pe), rIdx.get(pe));
        li++;
        ri++;
        next = shared.shift();
        continue;
      }
      if (rIdx.has(pe) && next !== undefined && next !== pe) {
        li++;
        continue;
      }
    }
    if (li < lpe.length) {
      const pe = lpe[li]!;
      if (!rIdx.has(pe)) {
        item(pe, lhs[li], undefined);
        li++;
        continue;
      } else if (done.has(pe)) li++;
    }
    if (ri < rpe.length) {
      const pe = rpe[ri]!;
      done.add(pe);
      item(pe, lIdx.get(pe), rIdx.get(pe));
      ri++;
      if (next === pe) next = shared.shift();
    }
  }
  return out;
}

/** The value without the fields in `set` (SMD's RemoveItems); emptied maps and lists disappear. */
export function removeItems(value: Json, set: FieldSet, declared: Shape): Json {
  const shape = resolve(declared, value);
  if (isLeaf(shape)) return value;
  if (shape.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return value;
    const out: Json[] = [];
    for (const item of value) {
      const child = set.get(itemElement(shape, item));
      if (child?.member) continue;
      out.push(child ? removeItems(item, child, shape.elem) : item);
    }
    return out.length > 0 ? out : undefined;
  }
  if (!isPlainObject(value) || Object.keys(value).length === 0) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const child = set.get(fieldElement(k));
    if (child?.member) continue;
    const nv = child ? removeItems(v, child, childShape(shape, k)) : v;
    if (nv !== undefined) setOwnMember(out, k, nv);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The set with every named struct field on its paths made a member (SMD's EnsureNamedFieldsAreMembers). */
export function namedFieldsAsMembers(set: FieldSet, shape: Shape): FieldSet {
  const out = new FieldSet();
  out.member = set.member;
  for (const [pe, child] of set.children) {
    let cs: Shape = DEDUCED;
    let named = false;
    if (pe.startsWith('f:')) {
      const name = pe.slice(2);
      cs = childShape(shape, name);
      named = isNamedField(shape, name);
    } else if (pe.startsWith('k:') && shape.kind === 'list') cs = shape.elem;
    const c = namedFieldsAsMembers(child, cs);
    if (named) c.member = true;
    out.children.set(pe, c);
  }
  return out;
}
