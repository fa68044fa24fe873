/**
 * Patch bodies applied to a current object: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902, through fast-json-patch) and strategic merge patch
 * (strategic-merge.ts), decoded, bounded and worded as kube-apiserver's
 * patch handler (handlers/patch.go) does. Each returns a new value; the
 * input is not modified.
 */
import fastJsonPatch from 'fast-json-patch';
import type { KObject } from '../api/object.js';
import { clone, isPlainObject, ownMember, setOwnMember } from '../util/json.js';
import { type Decoded, type FieldValidation, goKind, parseJsonText, parseYamlText } from './decode.js';
import { StatusError } from '../api/errors.js';
import { checkResultBounds, JSON_PATCH_MAX_COPY_BYTES, MAX_BODY_BYTES, MAX_JSON_PATCH_OPERATIONS } from './limits.js';
import { strategicMerge } from './strategic-merge.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

/** What PATCH takes, in kube's order (its patchTypes list for built-in kinds). */
export const PATCH_MEDIA_TYPES: readonly string[] = [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply];

/** kube's 422 for a patch that could not be applied (NewGenericServerResponse), with the reason after it. */
function patchRejected(why: string): StatusError {
  return new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${why}`, {});
}

/**
 * Decodes a PATCH body of `type` as kube's patchers do, bounded: body size,
 * syntax and nesting, the operation count of a JSON patch. Duplicate fields
 * are reported for Warn and Strict, as kube's strict unmarshalling finds them.
 */
export function decodePatch(type: PatchType, body: Uint8Array | undefined, validation: FieldValidation): Decoded {
  const bytes = body ?? new Uint8Array();
  if (bytes.length > MAX_BODY_BYTES) throw StatusError.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
  const text = Buffer.from(bytes).toString('utf8');
  if (type === PATCH_TYPES.apply) {
    const out = parseYamlText(text);
    if ('error' in out) throw StatusError.badRequest(`error decoding YAML: ${out.error}`);
    return out;
  }
  const strict = validation !== 'Ignore';
  // kube's strict pass (Warn, Strict) prefixes its errors; the strategic patcher passes them bare.
  const prefix = type === PATCH_TYPES.strategic ? '' : 'error decoding patch: ';
  const out = parseJsonText(text);
  if ('error' in out) throw StatusError.badRequest(`${prefix}${out.error}`);
  if (type === PATCH_TYPES.json) {
    if (!Array.isArray(out.value)) {
      throw StatusError.badRequest(
        `${prefix}json: cannot unmarshal ${goKind(out.value)} into Go value of type ${strict ? '[]handlers.jsonPatchOp' : 'jsonpatch.Patch'}`,
      );
    }
    if (out.value.length > MAX_JSON_PATCH_OPERATIONS) {
      throw StatusError.tooLarge(
        `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${out.value.length}`,
      );
    }
    // kube's strict pass names duplicates inside operations as `json patch duplicate field "[0].path"`.
    return { value: out.value, duplicates: out.duplicates.map((d) => `json patch ${d}`) };
  }
  if (!isPlainObject(out.value))
    throw StatusError.badRequest(`${prefix}json: cannot unmarshal ${goKind(out.value)} into Go value of type map[string]interface {}`);
  return out;
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwnMember(out, k, mergePatch(ownMember(out, k), v));
  }
  return out;
}

/**
 * RFC 6902 applied one operation at a time, so that `copy` operations are
 * charged what they add (JSON bytes of the value copied) against
 * JSON_PATCH_MAX_COPY_BYTES before they run: 26 copies of an object into
 * itself would otherwise double it 26 times.
 */
export function jsonPatch(target: KObject, ops: unknown[]): unknown {
  let doc: unknown = clone(target);
  let copied = 0;
  try {
    // The operations' shapes only: given the document, validate() would apply the whole patch to a copy first.
    const err = fastJsonPatch.validate(ops as fastJsonPatch.Operation[]);
    if (err) throw err;
    for (const op of ops as fastJsonPatch.Operation[]) {
      if (op.op === 'copy') {
        copied += Buffer.byteLength(JSON.stringify(fastJsonPatch.getValueByPointer(doc, op.from)) ?? '');
        if (copied > JSON_PATCH_MAX_COPY_BYTES) {
          throw patchRejected(
            `Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${JSON_PATCH_MAX_COPY_BYTES}`,
          );
        }
      }
      doc = fastJsonPatch.applyOperation(doc, op, true, true, true).newDocument;
    }
    return doc;
  } catch (err) {
    if (err instanceof StatusError) throw err;
    // fast-json-patch's messages start with what went wrong; the lines after it dump the operation and document.
    throw patchRejected(String((err as Error).message ?? err).split('\n')[0]!);
  }
}

/**
 * Applies a decoded patch of the given type to `current`; the result is
 * bounded (nesting, size) but may be any JSON value: the caller checks it is
 * an object of the right kind.
 */
export function applyPatch(current: KObject, patch: unknown, type: PatchType): unknown {
  let out: unknown;
  switch (type) {
    case PATCH_TYPES.merge:
      out = mergePatch(current, patch);
      break;
    case PATCH_TYPES.json:
      out = jsonPatch(current, patch as unknown[]);
      break;
    case PATCH_TYPES.strategic:
      out = strategicMerge(current, patch as Record<string, unknown>, current.kind);
      break;
    default:
      throw StatusError.unsupportedMediaType(PATCH_MEDIA_TYPES);
  }
  checkResultBounds(out, patchRejected);
  return out;
}
