/**
 * The bounds on the work one request may cause, as kube-apiserver sets them
 * (its values and wording where it has one), so no single request can hold
 * the event loop, the memory or the call stack that every other request
 * shares. Each bound is checked before the work it guards.
 */
import { isPlainObject } from '../util/json.js';
import { StatusError } from '../api/errors.js';

/** Kubernetes' maxRequestBodyBytes (genericapiserver's MaxRequestBodyBytes default). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * How deep a decoded value may nest. Go's decoder stops at 10,000; kumo's
 * recursive code runs out of Node's default stack well before that (the
 * `yaml` parser near 900 levels when called inside a request, deepEqual and
 * the strategic merge near 2,000), so the bound is 500: about half of the
 * weakest, and far beyond any real object (a Deployment nests about 12
 * deep). Every value that passes it is safe everywhere.
 */
export const MAX_NESTING_DEPTH = 500;

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

/**
 * An upper bound on how deep a YAML text nests, from its text alone, so the
 * parser (recursive) never sees a text deeper than MAX_NESTING_DEPTH. Each
 * indentation level and each leading `- ` counts twice (a block sequence may
 * sit at its parent key's indentation, and each entry may open a mapping),
 * every `[`/`{` once, quoted or not: never less than the real depth, and
 * still a small number for any real manifest.
 */
export function yamlNestingBound(text: string): number {
  const indents: number[] = [];
  let flow = 0;
  let max = 0;
  for (const line of text.split('\n')) {
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = line.length - trimmed.length;
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
    }
    const dashes = (/^(?:-(?:\s+|$))+/.exec(trimmed)?.[0].match(/-/g) ?? []).length;
    const block = 2 * (indents.length + dashes);
    max = Math.max(max, block + flow);
    for (const c of trimmed) {
      if (c === '[' || c === '{') max = Math.max(max, block + ++flow);
      else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
  }
  return max;
}

/** Go's scanner wording for a value nested too deep. */
export const DEPTH_ERROR = "invalid character '{' exceeded max depth";

/** 413 for an object a patch or apply would make larger than MAX_OBJECT_BYTES (`size` in bytes of its JSON). */
function objectTooLarge(size: number): StatusError {
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
