/**
 * The bounds on the work one request may cause, as kube-apiserver sets them
 * (its values and wording where it has one), so no single request can hold
 * the event loop, the memory or the call stack that every other request
 * shares. Each bound is checked before the work it guards.
 */
import { isPlainObject } from '../util/json.js';
import { StatusError } from './errors.js';

/** Kubernetes' maxRequestBodyBytes (genericapiserver's MaxRequestBodyBytes default). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * How deep a decoded value may nest. Go's decoder stops at 10,000; kumo's
 * recursive code (clone and deepEqual, merge and strategic patches, the
 * stores' JSON encoding) overflows Node's default stack near 3,000 levels,
 * so the bound is a third of that: far beyond any real object (a Deployment
 * nests about 12 deep), and every value that passes it is safe everywhere.
 */
export const MAX_NESTING_DEPTH = 1000;

/** handlers/patch.go maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** genericapiserver's JSONPatchMaxCopyBytes: what `copy` operations may add up to in one JSON patch. */
export const JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024;

/**
 * The largest object a patch or an apply may produce: what a client could
 * send whole (kube leaves it to etcd, which refuses requests over 1.5 MiB).
 */
export const MAX_OBJECT_BYTES = MAX_BODY_BYTES;

/** YAML alias expansion budget (the `yaml` package's maxAliasCount; go-yaml refuses "excessive aliasing"). */
export const MAX_YAML_ALIAS_COUNT = 100;

/** kube-apiserver's --request-timeout default: the deadline of a request that is not a watch or a stream. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** handlers' requestTimeoutUpperBound: writes (create, update, patch, delete) get at most this long. */
export const WRITE_TIMEOUT_MS = 34_000;

/** Whether `value` nests deeper than `max` (a scalar is depth 0, `{}` and `[]` depth 1). Iterative: safe on any input. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    const children = Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : undefined;
    if (!children) continue;
    if (depth + 1 > max) return true;
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push({ v: c, depth: depth + 1 });
  }
  return false;
}

/** Go's scanner wording for a value nested too deep. */
export const DEPTH_ERROR = "invalid character '{' exceeded max depth";

/** 413 for an object a patch or apply would make larger than MAX_OBJECT_BYTES (`size` in bytes of its JSON). */
export function objectTooLarge(size: number): StatusError {
  return StatusError.tooLarge(`Request entity too large: the resulting object is ${size} bytes, limit is ${MAX_OBJECT_BYTES}`);
}

/**
 * Checks what a patch or an apply produced: nesting first (iteratively, so
 * the size check's JSON encoding cannot overflow), then size.
 */
export function checkResultBounds(value: unknown, invalid: (why: string) => StatusError): void {
  if (nestsDeeperThan(value, MAX_NESTING_DEPTH)) throw invalid(`the result nests deeper than ${MAX_NESTING_DEPTH} levels`);
  const size = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (size > MAX_OBJECT_BYTES) throw objectTooLarge(size);
}
