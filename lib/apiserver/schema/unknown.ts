/**
 * Unknown fields, found against the Kubernetes Go types (every field
 * Kubernetes declares is known, whether or not kumo acts on it, so
 * manifests valid for Kubernetes pass) and dropped, as Kubernetes' decoder
 * drops them; the caller warns about them or, under
 * `fieldValidation=Strict`, refuses them. Kinds without Go types fall back
 * to their zod schema.
 */
import type { z } from 'zod';
import { apiVersionOf, type ResourceType } from '../../api/registry.js';
import { unknownFields as zodUnknownFields } from '../../api/unknown-fields.js';
import { isPlainObject } from '../../util/json.js';
import { jsonFields, parseType, structForKind, type TypeRef } from './types.js';

/** The envelope fields every object has besides its struct's (TypeMeta is not in the generated structs). */
const TYPE_META = new Set(['apiVersion', 'kind']);

/**
 * Removes the fields the kind's schema does not declare from `value` (in
 * place), as Kubernetes' decoder drops them, and returns their paths.
 */
export function dropUnknownFields(rt: ResourceType, value: unknown): string[] {
  if (rt.pruneUnknown) return isPlainObject(value) ? rt.pruneUnknown(value) : [];
  const root = structForKind(apiVersionOf(rt), rt.kind);
  if (!root) return zodUnknownFields(rt.schema as z.ZodType, value);
  const out: string[] = [];
  if (!isPlainObject(value)) return out;
  const fields = jsonFields(root);
  for (const [k, v] of Object.entries(value)) {
    if (TYPE_META.has(k)) continue;
    const f = fields.get(k);
    if (!f) {
      out.push(k);
      delete value[k];
    } else walk(parseType(f.type), v, k, out);
  }
  return out;
}

function walk(ref: TypeRef, value: unknown, path: string, out: string[]): void {
  switch (ref.kind) {
    case 'struct': {
      if (!isPlainObject(value)) return;
      const fields = jsonFields(ref.name);
      for (const [k, v] of Object.entries(value)) {
        const f = fields.get(k);
        const p = `${path}.${k}`;
        if (!f) {
          out.push(p);
          delete value[k];
        } else walk(parseType(f.type), v, p, out);
      }
      return;
    }
    case 'list':
      if (Array.isArray(value)) value.forEach((item, i) => walk(ref.elem, item, `${path}[${i}]`, out));
      return;
    case 'map':
      if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(ref.elem, v, `${path}.${k}`, out);
      return;
    default:
      return;
  }
}
