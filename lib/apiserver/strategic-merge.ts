/**
 * Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch):
 * a merge patch whose lists merge by key where the Kubernetes types say so
 * (containers by name, ports by containerPort, ...), with the directives
 * `$patch` (replace | delete | merge), `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
 *
 * The merge keys are the `patchMergeKey`/`patchStrategy` tags of k8s.io/api
 * (schema/k8s-types.generated.ts); lists without a merge strategy are
 * atomic and replaced whole, as for CRDs.
 */
import { StatusError } from '../api/errors.js';
import { K8S_TYPES } from './schema/k8s-types.generated.js';
import type { GoField } from './schema/go-struct.js';
import { elemStruct, jsonFields, parseType, structForKind } from './schema/types.js';
import { clone, deepEqual, isPlainObject, ownMember, setOwnMember } from '../util/json.js';

export interface FieldSchema {
  fields?: Record<string, FieldSchema>;
  /** For lists: how items merge. `key` set → merge by that key; `primitive` → merge as a set. Absent → atomic. */
  list?: { key?: string; primitive?: boolean };
  /** Schema of list items or map values. */
  items?: FieldSchema;
  /** The field's patch strategy includes `retainKeys`. */
  retainKeys?: boolean;
}

const schemaCache = new Map<string, FieldSchema>();

/**
 * The patch schema of a Go struct, from the generated k8s.io/api types:
 * each field's `patchStrategy`/`patchMergeKey` tags. Built lazily (the
 * type graph is large and shared), so `fields` is a getter.
 */
function structSchema(name: string): FieldSchema {
  const cached = schemaCache.get(name);
  if (cached) return cached;
  let fields: Record<string, FieldSchema> | undefined;
  const schema: FieldSchema = {
    get fields() {
      if (!fields) {
        fields = {};
        for (const [json, f] of jsonFields(name)) fields[json] = fieldSchema(f);
      }
      return fields;
    },
  };
  schemaCache.set(name, schema);
  return schema;
}

function fieldSchema(f: GoField): FieldSchema {
  const ref = parseType(f.type);
  const strategy = f.patchStrategy?.split(',') ?? [];
  const retainKeys = strategy.includes('retainKeys');
  const inner = elemStruct(ref);
  if (ref.kind === 'list') {
    const merge = strategy.includes('merge');
    const primitive = ref.elem.kind === 'scalar' || ref.elem.kind === 'special';
    const list = merge ? (f.patchMergeKey && !primitive ? { key: f.patchMergeKey } : primitive ? { primitive: true } : undefined) : undefined;
    return { ...(list ? { list } : {}), ...(inner ? { items: structSchema(inner) } : {}), ...(retainKeys ? { retainKeys } : {}) };
  }
  if (ref.kind === 'map') return inner ? { items: structSchema(inner) } : {};
  if (inner) {
    const s = structSchema(inner);
    return retainKeys
      ? {
          get fields() {
            return s.fields;
          },
          retainKeys,
        }
      : s;
  }
  return {};
}

/** Root struct names by kind (kinds are unique across the groups kumo serves; core wins a tie). */
const kindRoots = new Map<string, string>();
for (const name of Object.keys(K8S_TYPES).sort((a, b) => Number(b.startsWith('core/')) - Number(a.startsWith('core/')))) {
  const kind = name.slice(name.lastIndexOf('.') + 1);
  if (!kindRoots.has(kind)) kindRoots.set(kind, name);
}

const OBJECT_META_ONLY: FieldSchema = { fields: { metadata: structSchema('meta/v1.ObjectMeta') } };

const ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function bad(msg: string): StatusError {
  return new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
}

export function strategicMerge(original: unknown, patch: Record<string, unknown>, kind: string, apiVersion?: string): unknown {
  return mergeMap(isPlainObject(original) ? clone(original) : {}, patch, patchSchemaFor(kind, apiVersion));
}

function mergeMap(original: Record<string, unknown>, patch: Record<string, unknown>, schema: FieldSchema | undefined): Record<string, unknown> {
  const directive = patch.$patch;
  if (directive === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  if (directive === 'delete') return {};
  if (directive !== undefined && directive !== 'merge') throw bad(`Unknown patch type: ${String(directive)}`);

  const out = original;
  const retain = patch.$retainKeys;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(ORDER)) continue;
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      const current = ownMember(out, field);
      if (Array.isArray(current) && Array.isArray(value))
        setOwnMember(
          out,
          field,
          current.filter((x) => !value.some((v) => deepEqual(v, x))),
        );
      continue;
    }
    // Struct fields by name; values of map-typed fields share the map's item schema.
    const child = (schema?.fields && (ownMember(schema.fields, key) as FieldSchema | undefined)) ?? schema?.items;
    const current = ownMember(out, key);
    if (value === null) {
      delete out[key];
      continue;
    }
    if (Array.isArray(value)) {
      setOwnMember(out, key, mergeList(Array.isArray(current) ? current : [], value, child, ownMember(patch, `${ORDER}${key}`)));
      continue;
    }
    if (isPlainObject(value)) {
      if (value.$patch === 'delete' && Object.keys(value).length === 1) {
        delete out[key];
        continue;
      }
      setOwnMember(out, key, mergeMap(isPlainObject(current) ? current : {}, value, child));
      continue;
    }
    setOwnMember(out, key, value);
  }
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  // A $setElementOrder for a list the patch did not otherwise touch still reorders it.
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(ORDER)) continue;
    const field = key.slice(ORDER.length);
    if (field in patch || !Array.isArray(out[field]) || !Array.isArray(order)) continue;
    out[field] = reorder(out[field] as unknown[], order, schema?.fields?.[field]?.list?.key);
  }
  return out;
}

function mergeList(original: unknown[], patch: unknown[], schema: FieldSchema | undefined, order: unknown): unknown[] {
  const list = schema?.list;
  // A list-level `$patch: replace` item replaces the whole list.
  if (patch.some((p) => isPlainObject(p) && p.$patch === 'replace' && Object.keys(p).length === 1)) {
    return clone(patch.filter((p) => !(isPlainObject(p) && p.$patch === 'replace')));
  }
  if (list?.primitive) {
    const out = [...original];
    for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(v);
    return Array.isArray(order) ? reorder(out, order, undefined) : out;
  }
  const key = list?.key;
  if (!key) return clone(patch);
  const out = original.map((x) => clone(x));
  for (const item of patch) {
    if (!isPlainObject(item)) throw bad(`list items must be objects to merge by "${key}"`);
    const id = item[key];
    if (id === undefined) throw bad(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const i = out.findIndex((x) => isPlainObject(x) && deepEqual(x[key], id));
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = mergeMap(out[i] as Record<string, unknown>, item, schema?.items);
    else out.push(mergeMap({}, item, schema?.items));
  }
  return Array.isArray(order) ? reorder(out, order, key) : out;
}

/** Orders `items` as `order` lists them; items the order does not name keep their relative place at the end. */
function reorder(items: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const idOf = (x: unknown) => (key && isPlainObject(x) ? x[key] : x);
  const orderIds = order.map((o) => (key && isPlainObject(o) ? o[key] : o));
  const ranked = items.map((item, i) => {
    const r = orderIds.findIndex((id) => deepEqual(id, idOf(item)));
    return { item, rank: r < 0 ? orderIds.length + i : r };
  });
  ranked.sort((a, b) => a.rank - b.rank);
  return ranked.map((r) => r.item);
}

/**
 * A kind's merge keys, for the server and for clients that compute
 * strategic merge patches (kumo apply's three-way patch). Kinds without Go
 * types (custom resources) merge lists atomically, as Kubernetes does.
 */
export function patchSchemaFor(kind: string, apiVersion?: string): FieldSchema {
  const root = (apiVersion ? structForKind(apiVersion, kind) : undefined) ?? kindRoots.get(kind);
  return root ? structSchema(root) : OBJECT_META_ONLY;
}
