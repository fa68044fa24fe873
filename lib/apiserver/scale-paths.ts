/**
 * Values at a custom resource's scale paths (`.spec.replicas`,
 * `.status.selector`): the simple JSONPaths a CRD's scale subresource names,
 * which validation has checked to be dotted field names (kube's
 * validateSimpleJSONPath). The replicas of a built-in kind are at
 * `.spec.replicas` and `.status.replicas`.
 */
import type { KObject } from '../api/object.js';
import { isPlainObject } from '../util/json.js';

function fields(path: string): string[] {
  return path.replace(/^\./, '').split('.');
}

/** The value at `path`, or undefined when a field on the way is missing or not an object. */
export function valueAt(obj: KObject, path: string): unknown {
  let cur: unknown = obj;
  for (const f of fields(path)) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[f];
  }
  return cur;
}

/** A copy of `obj` with `value` at `path`, the objects on the way created where missing (as unstructured.SetNestedField). Must not mutate `obj`. */
export function withValueAt(obj: KObject, path: string, value: unknown): KObject {
  const out = structuredClone(obj);
  const names = fields(path);
  let cur: Record<string, unknown> = out;
  for (const f of names.slice(0, -1)) {
    if (!isPlainObject(cur[f])) cur[f] = {};
    cur = cur[f] as Record<string, unknown>;
  }
  cur[names[names.length - 1]!] = value;
  return out;
}
