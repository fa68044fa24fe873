/**
 * `x-kubernetes-list-type: set` and `map` uniqueness, as
 * apiextensions-apiserver's listtype.ValidateListSetsAndMaps checks it: each
 * duplicate is reported once, at its second occurrence.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { isPlainObject } from '../util/json.js';
import { child, index } from './paths.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

/** Checks every set and map list under `obj` (the whole custom object, or a part named by `path`). */
export function validateListSetsAndMaps(path: string, s: JSONSchemaProps | undefined, obj: unknown): FieldError[] {
  if (!s || !isPlainObject(obj)) return [];
  const out: FieldError[] = [];
  const ap = additionalPropertiesOf(s);
  for (const [k, v] of Object.entries(obj)) {
    const sub = s.properties?.[k] ?? ap;
    if (sub) out.push(...walk(s.properties?.[k] ? child(path, k) : `${path}[${k}]`, sub, v));
  }
  return out;
}

function walk(path: string, s: JSONSchemaProps, v: unknown): FieldError[] {
  if (Array.isArray(v)) return validateArray(path, s, v);
  if (isPlainObject(v)) return validateListSetsAndMaps(path, s, v);
  return [];
}

function validateArray(path: string, s: JSONSchemaProps, list: unknown[]): FieldError[] {
  const out: FieldError[] = [];
  const listType = s['x-kubernetes-list-type'];
  if (listType === 'set') {
    for (const i of nonUnique(list)) out.push(fieldErrors.duplicate(index(path, i), list[i]));
  } else if (listType === 'map') {
    out.push(...validateListMap(path, s['x-kubernetes-list-map-keys'] ?? [], list));
  }
  const items = itemsOf(s);
  if (items) list.forEach((x, i) => out.push(...walk(index(path, i), items, x)));
  return out;
}

/** Indices of second occurrences; compound values compare by their JSON text, as kube marshals them. */
function nonUnique(list: unknown[]): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  list.forEach((x, i) => {
    const k = typeof x === 'object' && x !== null ? `json:${JSON.stringify(x)}` : `${typeof x}:${String(x)}`;
    const times = seen.get(k) ?? 0;
    seen.set(k, times + 1);
    if (times === 1) out.push(i);
  });
  return out;
}

function validateListMap(path: string, keys: string[], list: unknown[]): FieldError[] {
  const bad = list.findIndex((x) => x !== null && !isPlainObject(x));
  if (bad >= 0) return [fieldErrors.invalid(index(path, bad), list[bad], 'must be an object for an array of list-type map')];
  if (list.length <= 1) return [];
  const keyValues = list.map((x) => {
    const key: Record<string, unknown> = {};
    if (isPlainObject(x)) for (const k of keys) if (k in x) key[k] = x[k];
    return key;
  });
  return nonUnique(keyValues).map((i) => fieldErrors.duplicate(index(path, i), keyValues[i]));
}
