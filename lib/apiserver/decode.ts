/**
 * Turns request bodies into objects as kube-apiserver's decoders do: JSON,
 * YAML or protobuf (protobuf.ts) by the request's media type (anything else
 * is 415), within the bounds of limits.ts, worded as kube words each failure.
 * Unknown fields are dropped (with a warning under Warn, refused under
 * Strict, as are duplicate fields). Every failure is a 4xx StatusError;
 * nothing here touches the store.
 */
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import { apiVersionOf } from '../api/registry.js';
import { isPlainObject } from '../util/json.js';
import { StatusError } from '../api/errors.js';
import { goTypeError, goTypeMismatch } from './go-type-error.js';
import { scanJson } from './json-syntax.js';
import { DEPTH_ERROR, MAX_BODY_BYTES, MAX_NESTING_DEPTH, MAX_YAML_ALIAS_COUNT, nestsDeeperThan, yamlNestingBound } from './limits.js';
import { decodeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { dropUnknownFields } from './schema/unknown.js';

const JSON_CONTENT_TYPE = 'application/json';
const YAML_CONTENT_TYPE = 'application/yaml';

/** What an object body may be sent as (kube's serializer's SupportedMediaTypes, in its order). */
export const OBJECT_MEDIA_TYPES = [JSON_CONTENT_TYPE, YAML_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE] as const;

/** The media type of a Content-Type header (lower case, parameters dropped), or undefined when there is none. */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/**
 * A body's media type, which must be one of `accepted`: else 415, as kube
 * answers. A body without a Content-Type is refused too (kube would read it
 * as JSON), so that a browser's cross-site "simple" request, whose bodies are
 * text/plain, form data or untyped, can never be read as an object.
 */
export function requireMediaType(contentType: string | undefined, accepted: readonly string[]): string {
  const type = mediaType(contentType);
  if (type === undefined || !accepted.includes(type)) throw StatusError.unsupportedMediaType(accepted);
  return type;
}

/** A decoded body and what strict decoding found besides unknown fields. */
export interface Decoded {
  value: unknown;
  /** Fields given twice, as strict decoding words them (`duplicate field "spec.replicas"`); reported under Warn and Strict. */
  duplicates: string[];
}

/** kube's summarizeData: the start of a body, for decode errors. */
function summarize(body: Uint8Array): string {
  if (body.length === 0) return '<empty>';
  if (body[0] === 0) return `<binary: ${body.length} bytes>`;
  const text = Buffer.from(body.subarray(0, 30)).toString('utf8');
  return body.length > 30 ? `${text} ...` : text;
}

/** kube's transformDecodeError for a body whose kind could not be read. */
function unrecognized(kind: string, why: string, body: Uint8Array): StatusError {
  return StatusError.badRequest(`the object provided is unrecognized (must be of type ${kind}): ${why} (${summarize(body)})`);
}

function tooLarge(): StatusError {
  return StatusError.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
}

/** JSON text to a value: Go's syntax errors, the nesting bound, duplicate keys. Throws `why` text. */
export function parseJsonText(text: string): Decoded | { error: string } {
  const syntax = scanJson(text, MAX_NESTING_DEPTH);
  if (syntax.error !== undefined) return { error: syntax.error };
  return { value: JSON.parse(text) as unknown, duplicates: syntax.duplicates.map((f) => `duplicate field "${f}"`) };
}

/**
 * YAML text to a value, one document, aliases bounded (go-yaml refuses
 * "excessive aliasing"; the `yaml` package counts expansions the same way),
 * nesting bounded. Errors are go-yaml-shaped: `yaml: line N: ...`.
 */
export function parseYamlText(text: string): Decoded | { error: string } {
  if (yamlNestingBound(text) > MAX_NESTING_DEPTH) return { error: DEPTH_ERROR };
  // logLevel 'error': the parser's warnings (unresolved tags, collection keys) would go to the process's stderr.
  const docs = parseAllDocuments(text, { uniqueKeys: false, logLevel: 'error' });
  if (!Array.isArray(docs)) return { error: 'yaml: empty document' };
  const real = docs.filter((d) => d.contents !== null);
  for (const doc of real) {
    const e = doc.errors[0];
    if (e) return { error: `yaml: line ${e.linePos?.[0].line ?? 1}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
  }
  if (real.length > 1) return { error: `yaml: expected one document, got ${real.length}` };
  if (real.length === 0) return { value: null, duplicates: [] };
  let value: unknown;
  try {
    value = real[0]!.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError) return { error: /alias/i.test(err.message) ? 'yaml: document contains excessive aliasing' : `yaml: ${err.message}` };
    // Aliases can stack nesting the text does not show; the expansion budget bounds them, this catches the rest.
    if (err instanceof RangeError) return { error: DEPTH_ERROR };
    throw err;
  }
  if (nestsDeeperThan(value, MAX_NESTING_DEPTH)) return { error: DEPTH_ERROR };
  const unsupported = nonJsonValue(value);
  if (unsupported !== undefined) return { error: `json: unsupported value: ${unsupported}` };
  return { value, duplicates: yamlDuplicates(text) };
}

/**
 * The first value in `value` that JSON cannot hold (what YAML's tags make:
 * NaN and infinities, !!binary buffers, !!set and !!omap collections,
 * !!timestamp dates), as text, or undefined when it is all JSON. YAML is
 * read as the JSON it converts to, as kube's YAMLToJSON reads it. Iterative.
 */
function nonJsonValue(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return String(v);
      continue;
    }
    // Element by element: spreading a large array into push() would overflow the call stack.
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) stack.push(x);
    else return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
  }
  return undefined;
}

/** Repeated mapping keys as go-yaml's strict mode (YAMLToJSONStrict) reports them: one error listing each. */
function yamlDuplicates(text: string): string[] {
  const strict = parseAllDocuments(text, { uniqueKeys: true, logLevel: 'error' });
  if (!Array.isArray(strict)) return [];
  const lines: string[] = [];
  for (const doc of strict) {
    for (const e of doc.errors) {
      if (e.code !== 'DUPLICATE_KEY') continue;
      const key = text
        .slice(e.pos[0], e.pos[1])
        .trim()
        .replace(/^["']|["']$/g, '');
      lines.push(`  line ${e.linePos?.[0].line ?? 1}: key ${JSON.stringify(key)} already set in map`);
    }
  }
  return lines.length > 0 ? [`error converting YAML to JSON: yaml: unmarshal errors:\n${lines.join('\n')}`] : [];
}

/**
 * Decodes an object body (create, update, subresources, delete options) of
 * kind `into` (for messages). Media type, size, syntax and nesting are
 * checked here; the kind's own shape by checkObject.
 */
export function decodeObjectBody(body: Uint8Array | undefined, contentType: string | undefined, into: string): Decoded {
  const type = requireMediaType(contentType, OBJECT_MEDIA_TYPES);
  const bytes = body ?? new Uint8Array();
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  if (type === PROTOBUF_CONTENT_TYPE) {
    const value = decodeProtobuf(bytes);
    // Free-form fields (FieldsV1) carry JSON of their own: bound what came out.
    if (nestsDeeperThan(value, MAX_NESTING_DEPTH)) throw unrecognized(into, DEPTH_ERROR, bytes);
    return { value, duplicates: [] };
  }
  const text = Buffer.from(bytes).toString('utf8');
  if (type === YAML_CONTENT_TYPE) {
    const out = parseYamlText(text);
    if ('error' in out) throw unrecognized(into, `error converting YAML to JSON: ${out.error}`, bytes);
    return out;
  }
  const out = parseJsonText(text);
  if ('error' in out) throw unrecognized(into, `couldn't get version/kind; json parse error: ${out.error}`, bytes);
  return out;
}

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  throw StatusError.badRequest(`fieldValidation parameter unsupported: ${v}, must be one of Ignore, Warn, Strict`);
}

/** What strict decoding found: duplicate fields, then unknown ones, in kube's words. */
export function strictErrors(duplicates: readonly string[], unknown: readonly string[]): string[] {
  return [...duplicates, ...unknown.map((f) => `unknown field "${f}"`)];
}

/**
 * Whether `value` has the field types of `rt`'s schema (`partial`: only the
 * types of the fields it has, for apply configurations); the first mismatch
 * as Go's decoder words it (`json: cannot unmarshal string into Go struct
 * field PodSpec.spec.containers of type []v1.Container`).
 */
export function typeMismatch(rt: ResourceType, value: Record<string, unknown>, partial = false): string | undefined {
  const bad = goTypeMismatch(rt, value);
  if (bad) return goTypeError(rt, value, bad);
  if (partial) return undefined;
  // kumo's schemas (the same Go types, plus the fields its code relies on: scripts/k8s-zod-rules.mjs) also refuse
  // null list items and map values, which their TypeScript types do not allow; worded the same way.
  const parsed = (rt.schema as z.ZodType).safeParse(value);
  return parsed.success ? undefined : goTypeError(rt, value, parsed.error.issues[0]!.path);
}

/**
 * Checks a decoded value is an object of the route's kind with the right
 * field types, and drops the fields the kind does not declare (Kubernetes'
 * decoder does): with a warning for each under Warn, silently under Ignore;
 * under Strict they, and duplicate fields, refuse the request (400, as
 * kube's create and update handlers answer). Mutates and returns `value`.
 */
export function checkObject(
  rt: ResourceType,
  value: unknown,
  validation: FieldValidation,
  duplicates: readonly string[] = [],
): { object: KObject; warnings: string[] } {
  const expectedVersion = apiVersionOf(rt);
  if (!isPlainObject(value)) {
    throw StatusError.badRequest(
      `the object provided is unrecognized (must be of type ${rt.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${goKind(value)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
    );
  }
  const obj = value;
  // As Kubernetes' decoder (gvkWithDefaults): a body without kind or apiVersion takes the endpoint's.
  if (obj.kind === undefined || obj.kind === null || obj.kind === '') obj.kind = rt.kind;
  if (obj.apiVersion === undefined || obj.apiVersion === null || obj.apiVersion === '') obj.apiVersion = expectedVersion;
  if (obj.apiVersion !== expectedVersion) {
    throw StatusError.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`);
  }
  if (obj.kind !== rt.kind) {
    throw StatusError.badRequest(
      `${String(obj.kind)} in version "${rt.version}" cannot be handled as a ${rt.kind}: the kind in the data does not match the expected kind (${rt.kind})`,
    );
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  const mismatch = typeMismatch(rt, obj);
  if (mismatch) throw StatusError.badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ${mismatch}`);
  const found = strictErrors(validation === 'Ignore' ? [] : duplicates, dropUnknownFields(rt, obj));
  if (validation === 'Strict' && found.length > 0) {
    throw StatusError.badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${found.join(', ')}`);
  }
  return { object: obj as unknown as KObject, warnings: validation === 'Warn' ? found : [] };
}

/** How Go's decoder names a JSON value's kind in an UnmarshalTypeError. */
export function goKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'number' ? 'number' : typeof value === 'string' ? 'string' : 'object';
}
