/**
 * Patch bodies applied to a current object: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902, through fast-json-patch) and strategic merge patch
 * (strategic-merge.ts). Each returns a new object; the input is not modified.
 */
import fastJsonPatch from 'fast-json-patch';
import type { KObject } from '../api/object.js';
import { clone, isPlainObject } from '../util/json.js';
import { StatusError } from './errors.js';
import { strategicMerge } from './strategic-merge.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function jsonPatch(target: KObject, ops: unknown): KObject {
  if (!Array.isArray(ops)) throw StatusError.badRequest('json patch must be a JSON array of operations');
  try {
    const err = fastJsonPatch.validate(ops as fastJsonPatch.Operation[], clone(target));
    if (err) throw err;
    return fastJsonPatch.applyPatch(clone(target), ops as fastJsonPatch.Operation[], true, false).newDocument as KObject;
  } catch (err) {
    if (err instanceof StatusError) throw err;
    const e = err as { name?: string; message?: string };
    throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${e.message ?? String(err)}`.split('\n')[0]!);
  }
}

/** Applies a patch of the given content type to `current`. */
export function applyPatch(current: KObject, patch: unknown, contentType: string): KObject {
  switch (contentType) {
    case PATCH_TYPES.merge: {
      if (!isPlainObject(patch)) throw StatusError.badRequest('merge patch must be a JSON object');
      return mergePatch(current, patch) as KObject;
    }
    case PATCH_TYPES.json:
      return jsonPatch(current, patch);
    case PATCH_TYPES.strategic: {
      if (!isPlainObject(patch)) throw StatusError.badRequest('strategic merge patch must be a JSON object');
      return strategicMerge(current, patch, current.kind) as KObject;
    }
    default:
      throw StatusError.unsupportedMediaType(contentType);
  }
}
