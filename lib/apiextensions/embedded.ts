/**
 * Objects nested in a custom resource under `x-kubernetes-embedded-resource`
 * (a Pod template, a raw manifest) must look like Kubernetes objects:
 * apiVersion and kind present and well formed, metadata valid as ObjectMeta
 * (apiextensions-apiserver's schema/objectmeta.Validate). The custom
 * resource's own metadata is the API server's generic path's to validate.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { dns1035Label, pathSegmentName, validateAnnotations, validateLabels, validateFinalizers } from '../api/validation.js';
import { isPlainObject } from '../util/json.js';
import { child, index } from './paths.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

export function validateEmbeddedResources(path: string, s: JSONSchemaProps | undefined, x: unknown): FieldError[] {
  if (!s) return [];
  const out: FieldError[] = [];
  if (isPlainObject(x)) {
    if (s['x-kubernetes-embedded-resource']) out.push(...validateEmbeddedResource(path, x));
    const ap = additionalPropertiesOf(s);
    for (const [k, v] of Object.entries(x)) {
      const prop = s.properties?.[k];
      if (prop) out.push(...validateEmbeddedResources(child(path, k), prop, v));
      else if (ap) out.push(...validateEmbeddedResources(`${path}[${k}]`, ap, v));
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    x.forEach((v, i) => out.push(...validateEmbeddedResources(index(path, i), items, v)));
  }
  return out;
}

/** schema.ParseGroupVersion: "v1" or "group/version", nothing more. */
function groupVersionError(apiVersion: string): string | undefined {
  return apiVersion.split('/').length > 2 ? `unexpected GroupVersion string: ${apiVersion}` : undefined;
}

function validateEmbeddedResource(path: string, x: Record<string, unknown>): FieldError[] {
  const out: FieldError[] = [];
  if (!('apiVersion' in x)) out.push(fieldErrors.required(child(path, 'apiVersion')));
  if (!('kind' in x)) out.push(fieldErrors.required(child(path, 'kind')));
  const apiVersion = x.apiVersion;
  if ('apiVersion' in x) {
    if (typeof apiVersion !== 'string') out.push(fieldErrors.invalid(child(path, 'apiVersion'), apiVersion, 'must be a string'));
    else if (!apiVersion) out.push(fieldErrors.invalid(child(path, 'apiVersion'), apiVersion, 'must not be empty'));
    else {
      const err = groupVersionError(apiVersion);
      if (err) out.push(fieldErrors.invalid(child(path, 'apiVersion'), apiVersion, err));
    }
  }
  const kind = x.kind;
  if ('kind' in x) {
    if (typeof kind !== 'string') out.push(fieldErrors.invalid(child(path, 'kind'), kind, 'must be a string'));
    else if (!kind) out.push(fieldErrors.invalid(child(path, 'kind'), kind, 'must not be empty'));
    else {
      const errs = dns1035Label(kind.toLowerCase());
      if (errs.length > 0) out.push(fieldErrors.invalid(child(path, 'kind'), kind, `may have mixed case, but should otherwise match: ${errs.join(',')}`));
    }
  }
  if ('metadata' in x) out.push(...validateEmbeddedMetadata(child(path, 'metadata'), x.metadata));
  return out;
}

function validateEmbeddedMetadata(path: string, meta: unknown): FieldError[] {
  if (!isPlainObject(meta)) return [fieldErrors.invalid(path, meta, 'expected map[string]interface{}')];
  const out: FieldError[] = [];
  for (const f of ['name', 'generateName'] as const) {
    const v = meta[f];
    if (typeof v === 'string' && v) for (const msg of pathSegmentName(v)) out.push(fieldErrors.invalid(child(path, f), v, msg));
  }
  out.push(...validateLabels(meta.labels as Record<string, string> | undefined, child(path, 'labels')));
  out.push(...validateAnnotations(meta.annotations as Record<string, string> | undefined, child(path, 'annotations')));
  out.push(...validateFinalizers(meta.finalizers as string[] | undefined, child(path, 'finalizers')));
  return out;
}
