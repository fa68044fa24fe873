/**
 * Turns request bodies into objects: JSON or YAML (protobuf is decoded in
 * protobuf.ts), within Kubernetes' 3 MiB request limit. Every failure is a
 * 4xx StatusError; nothing here touches the store.
 */
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import { apiVersionOf } from '../api/registry.js';
import { unknownFieldsOf } from './schema/unknown.js';
import { StatusError } from './errors.js';

/** Kubernetes' maxRequestBodyBytes. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/** Parses a JSON or YAML body into a value. */
export function parseBody(body: Uint8Array | undefined, contentType: string | undefined): unknown {
  if (!body || body.length === 0) throw StatusError.badRequest('the request body is empty');
  if (body.length > MAX_BODY_BYTES) throw StatusError.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
  const text = Buffer.from(body).toString('utf8');
  const type = mediaType(contentType);
  if (type.endsWith('yaml')) return parseYaml(text);
  try {
    return JSON.parse(text);
  } catch (err) {
    // YAML is a superset of JSON; Kubernetes accepts YAML under a JSON content type only via its own sniffing, so be strict here.
    throw StatusError.badRequest(`error decoding request body: invalid JSON: ${(err as Error).message}`);
  }
}

export function parseYaml(text: string): unknown {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw StatusError.badRequest('error decoding YAML: empty document');
  const real = docs.filter((d) => d.contents !== null);
  for (const doc of real) {
    if (doc.errors.length > 0) throw StatusError.badRequest(`error decoding YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  if (real.length !== 1) throw StatusError.badRequest(`error decoding YAML: expected one document, got ${real.length}`);
  return real[0]!.toJS();
}

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  throw StatusError.badRequest(`fieldValidation parameter unsupported: ${v}, must be one of Ignore, Warn, Strict`);
}

/** zod issue path → Kubernetes field path (`spec.containers[0].image`). */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/**
 * Checks a decoded value is an object of the route's kind with the right
 * field types. Returns warnings for unknown fields (Warn) or throws (Strict).
 * The object is returned as sent: unknown fields are kept.
 */
export function checkObject(rt: ResourceType, value: unknown, validation: FieldValidation): { object: KObject; warnings: string[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw StatusError.badRequest(`the body of the request must be a JSON or YAML object`);
  }
  const obj = value as Record<string, unknown>;
  const expectedVersion = apiVersionOf(rt);
  // As Kubernetes' decoder (gvkWithDefaults): a body without kind or apiVersion takes the endpoint's.
  if (obj.kind === undefined || obj.kind === null || obj.kind === '') obj.kind = rt.kind;
  if (obj.apiVersion === undefined || obj.apiVersion === null || obj.apiVersion === '') obj.apiVersion = expectedVersion;
  if (obj.apiVersion !== expectedVersion) {
    throw StatusError.badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`,
    );
  }
  if (obj.kind !== rt.kind) {
    throw StatusError.badRequest(`${String(obj.kind)} in version "${rt.version}" cannot be handled as a ${rt.kind}: the kind in the data does not match the expected kind (${rt.kind})`);
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  const parsed = (rt.schema as z.ZodType).safeParse(obj);
  if (!parsed.success) {
    const causes = parsed.error.issues.map((i) => ({
      reason: 'FieldValueTypeInvalid',
      field: fieldPath(i.path),
      message: `Invalid value: ${i.message}`,
    }));
    const first = causes[0]!;
    throw new StatusError(400, 'BadRequest', `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ${first.field}: ${first.message}`, {
      kind: rt.kind,
      causes,
    });
  }
  const warnings: string[] = [];
  if (validation !== 'Ignore') {
    const unknown = unknownFieldsOf(rt, obj);
    if (unknown.length > 0) {
      if (validation === 'Strict') {
        const list = unknown.map((f) => `unknown field "${f}"`);
        throw new StatusError(400, 'BadRequest', `strict decoding error: ${list.join(', ')}`, {
          causes: unknown.map((f) => ({ reason: 'FieldValueInvalid', message: `unknown field "${f}"`, field: f })),
        });
      }
      warnings.push(...unknown.map((f) => `unknown field "${f}"`));
    }
  }
  return { object: obj as unknown as KObject, warnings };
}

