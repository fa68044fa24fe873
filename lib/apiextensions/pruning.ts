/**
 * Pruning: fields a structural schema does not declare are dropped from a
 * custom object before it is stored (apiextensions-apiserver's
 * pruning.PruneWithOptions). `x-kubernetes-preserve-unknown-fields` keeps a
 * subtree's unknown fields (its declared fields are still pruned inside), and
 * apiVersion, kind and metadata are kept at the root and in embedded
 * resources. The pruned paths are returned so the API server can warn about
 * them (fieldValidation=Warn) or refuse the request (Strict), as for built-in
 * kinds.
 */
import { isPlainObject } from '../util/json.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Removes undeclared fields from `obj` in place and returns their paths,
 * sorted (`spec.foo`, `spec.items[0].bar`). `isResourceRoot` treats the value
 * as a whole object (its apiVersion, kind and metadata are kept).
 */
export function prune(obj: unknown, schema: JSONSchemaProps | undefined, isResourceRoot: boolean): string[] {
  const s: JSONSchemaProps = isResourceRoot ? { ...(schema ?? {}), 'x-kubernetes-embedded-resource': true } : (schema ?? {});
  const out: string[] = [];
  walk(obj, s, '', out);
  return out.sort();
}

const keyPath = (parent: string, k: string) => (parent ? `${parent}.${k}` : k);

function walk(x: unknown, s: JSONSchemaProps | undefined, path: string, out: string[]): void {
  if (s?.['x-kubernetes-preserve-unknown-fields']) {
    skipPrune(x, s, path, out);
    return;
  }
  if (isPlainObject(x)) {
    for (const [k, v] of Object.entries(x)) {
      if (s?.['x-kubernetes-embedded-resource'] && META_FIELDS.has(k)) continue;
      const prop = s?.properties?.[k];
      if (prop) walk(v, prop, keyPath(path, k), out);
      else if (s?.additionalProperties !== undefined) walk(v, additionalPropertiesOf(s), keyPath(path, k), out);
      else {
        // At the root kube keeps apiVersion/kind/metadata silently; elsewhere they are unknown like any field.
        if (!META_FIELDS.has(k) || path) out.push(keyPath(path, k));
        delete x[k];
      }
    }
  } else if (Array.isArray(x)) {
    x.forEach((v, i) => walk(v, s ? itemsOf(s) : undefined, `${path}[${i}]`, out));
  }
}

/** Under preserve-unknown-fields: keep unknown keys, but still prune inside declared ones. */
function skipPrune(x: unknown, s: JSONSchemaProps, path: string, out: string[]): void {
  if (isPlainObject(x)) {
    for (const [k, v] of Object.entries(x)) {
      if (s['x-kubernetes-embedded-resource'] && META_FIELDS.has(k)) continue;
      const prop = s.properties?.[k];
      if (prop) walk(v, prop, keyPath(path, k), out);
      else if (s.additionalProperties !== undefined) walk(v, additionalPropertiesOf(s), keyPath(path, k), out);
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    if (items) x.forEach((v, i) => skipPrune(v, items, `${path}[${i}]`, out));
  }
}
