/**
 * kubectl's client-side apply patch (k8s.io/apimachinery strategicpatch
 * CreateThreeWayMergePatch): from the last-applied configuration
 * (`original`), the manifest being applied (`modified`) and the live object
 * (`current`), a strategic merge patch that
 *   - deletes what the user removed since the last apply (original → modified),
 *   - sets what differs between the live object and the manifest
 *     (current → modified, ignoring fields the manifest does not mention, so
 *     server defaults and other writers' fields survive).
 * Lists with a merge key (containers by name, ports by containerPort...) are
 * diffed item by item with `$patch: delete` and `$setElementOrder/` as
 * kubectl sends them; other lists are atomic. An empty patch means the apply
 * changes nothing (`unchanged`).
 */
import type { FieldSchema } from '../../apiserver/strategic-merge.js';
import { deepEqual, isPlainObject } from '../../util/json.js';

type Obj = Record<string, unknown>;

interface DiffOptions {
  ignoreDeletions: boolean;
  ignoreChangesAndAdditions: boolean;
}

const ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

const keyString = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function diffMaps(original: Obj, modified: Obj, schema: FieldSchema | undefined, o: DiffOptions): Obj {
  const patch: Obj = {};
  for (const [key, mv] of Object.entries(modified)) {
    if (!(key in original)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const ov = original[key];
    if (kindOf(ov) !== kindOf(mv)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const sub = schema?.fields?.[key];
    if (isPlainObject(ov)) {
      const p = diffMaps(ov, mv as Obj, sub, o);
      if (Object.keys(p).length > 0) patch[key] = p;
    } else if (Array.isArray(ov)) {
      diffSlice(key, ov, mv as unknown[], patch, sub, o);
    } else if (!o.ignoreChangesAndAdditions && !deepEqual(ov, mv)) {
      patch[key] = mv;
    }
  }
  if (!o.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!(key in modified)) patch[key] = null;
  }
  return patch;
}

function diffSlice(key: string, original: unknown[], modified: unknown[], patch: Obj, schema: FieldSchema | undefined, o: DiffOptions): void {
  const list = schema?.list;
  const elementsAreMaps = [...original, ...modified].some((x) => isPlainObject(x));
  if (list?.key && elementsAreMaps) {
    diffListOfMaps(key, original as Obj[], modified as Obj[], list.key, patch, schema?.items, o);
  } else if (list?.primitive && !elementsAreMaps) {
    diffListOfScalars(key, original, modified, patch, o);
  } else if (!o.ignoreChangesAndAdditions && !deepEqual(original, modified)) {
    patch[key] = modified;
  }
}

function diffListOfMaps(
  key: string,
  original: Obj[],
  modified: Obj[],
  mergeKey: string,
  patch: Obj,
  itemSchema: FieldSchema | undefined,
  o: DiffOptions,
): void {
  const byKey = new Map(original.map((item) => [keyString(item[mergeKey]), item]));
  const inModified = new Set(modified.map((item) => keyString(item[mergeKey])));
  const changes: Obj[] = [];
  for (const item of modified) {
    const before = byKey.get(keyString(item[mergeKey]));
    if (before) {
      const p = diffMaps(before, item, itemSchema, o);
      if (Object.keys(p).length > 0) changes.push({ ...p, [mergeKey]: item[mergeKey] });
    } else if (!o.ignoreChangesAndAdditions) {
      changes.push(item);
    }
  }
  const deletions: Obj[] = [];
  if (!o.ignoreDeletions) {
    const gone = original.filter((item) => !inModified.has(keyString(item[mergeKey])));
    gone.sort((a, b) => (keyString(a[mergeKey]) < keyString(b[mergeKey]) ? -1 : 1));
    for (const item of gone) deletions.push({ $patch: 'delete', [mergeKey]: item[mergeKey] });
  }
  const all = [...changes, ...deletions];
  const orderSame = original.length === modified.length && original.every((item, i) => deepEqual(item[mergeKey], modified[i]![mergeKey]));
  if (all.length > 0) patch[key] = all;
  if ((!o.ignoreChangesAndAdditions && (all.length > 0 || !orderSame)) || (!o.ignoreDeletions && all.length > 0)) {
    patch[`${ORDER}${key}`] = modified.map((item) => ({ [mergeKey]: item[mergeKey] }));
  }
}

function diffListOfScalars(key: string, original: unknown[], modified: unknown[], patch: Obj, o: DiffOptions): void {
  const additions = o.ignoreChangesAndAdditions ? [] : modified.filter((v) => !original.some((x) => deepEqual(x, v)));
  const deletions = o.ignoreDeletions ? [] : original.filter((v) => !modified.some((x) => deepEqual(x, v)));
  if (additions.length > 0) patch[key] = additions;
  if (deletions.length > 0) patch[`${DELETE_PRIMITIVE}${key}`] = deletions;
  if ((!o.ignoreDeletions && deletions.length > 0) || (!o.ignoreChangesAndAdditions && !deepEqual(original, modified))) {
    patch[`${ORDER}${key}`] = modified;
  }
}

/** Merges the additive `delta` patch into the `deletions` patch (strategicpatch.mergeMap without parallel-list merging). */
function mergePatches(deletions: Obj, delta: Obj, schema: FieldSchema | undefined): Obj {
  const out: Obj = { ...deletions };
  for (const [key, dv] of Object.entries(delta)) {
    if (!(key in out) || key.startsWith(ORDER) || key.startsWith(DELETE_PRIMITIVE)) {
      out[key] = dv;
      continue;
    }
    const av = out[key];
    const sub = schema?.fields?.[key];
    if (isPlainObject(av) && isPlainObject(dv)) {
      out[key] = mergePatches(av, dv, sub);
    } else if (Array.isArray(av) && Array.isArray(dv) && sub?.list?.key) {
      const mergeKey = sub.list.key;
      const merged = [...av] as Obj[];
      for (const item of dv as Obj[]) {
        const i = merged.findIndex((x) => isPlainObject(x) && deepEqual(x[mergeKey], item[mergeKey]));
        if (i >= 0) merged[i] = mergePatches(merged[i]!, item, sub.items);
        else merged.push(item);
      }
      out[key] = merged;
    } else if (Array.isArray(av) && Array.isArray(dv) && sub?.list?.primitive) {
      out[key] = [...av, ...dv.filter((v) => !av.some((x) => deepEqual(x, v)))];
    } else {
      out[key] = dv;
    }
  }
  return out;
}

/**
 * The strategic merge patch client-side apply sends. `original` is the
 * parsed last-applied annotation (undefined when the live object has none).
 */
export function threeWayMergePatch(original: Obj | undefined, modified: Obj, current: Obj, schema: FieldSchema): Obj {
  const delta = diffMaps(current, modified, schema, { ignoreDeletions: true, ignoreChangesAndAdditions: false });
  const deletions = diffMaps(original ?? {}, modified, schema, { ignoreDeletions: false, ignoreChangesAndAdditions: true });
  return mergePatches(deletions, delta, schema);
}
