/**
 * The cloud front door's logic: Lambda Function URL events (the API Gateway
 * HTTP API payload v2) in, ApiServer responses out, in two modes.
 *
 * - Buffered (API Gateway HTTP API, Function URL with InvokeMode BUFFERED):
 *   one result object. A watch becomes a long-poll: events are collected
 *   until the poll window closes (or shortly after the first events, once
 *   they stop coming), then returned newline-delimited with a trailing
 *   BOOKMARK, so clients re-watch from where the body ended.
 * - Streaming (Function URL with InvokeMode RESPONSE_STREAM): status and
 *   headers go out first as the runtime's HTTP integration prelude, then the
 *   body as it is produced; a watch ends before the invocation's time runs out.
 *
 * Nothing here knows where the ApiServer's store lives; functions/api.ts
 * wires that. Invariant: no path through this module lets an exception or a
 * stack trace reach the client; failures become Status bodies.
 */
import type { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { apiVersionOf, type ResourceRegistry } from '../api/registry.js';
import { isPlainObject } from '../util/json.js';
import { MAX_BODY_BYTES } from './limits.js';
import { AUDIT_ID_HEADER, auditIdOf } from '../api/audit-id.js';
import { StatusError } from '../api/errors.js';
import { route } from './router.js';
import type { ApiRequest, ApiResponse } from '../api/request.js';
import { INITIAL_EVENTS_END } from './watch.js';
import { defaultLogger, type Logger } from '../log/logger.js';

export type FunctionUrlEvent = APIGatewayProxyEventV2;
export type BufferedResult = APIGatewayProxyStructuredResultV2;

/** The part of the Lambda context the front door reads. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export interface RequestHandler {
  handle(req: ApiRequest): Promise<ApiResponse>;
}

export interface LambdaFrontDoorOptions {
  /** The kinds the server serves (the servers' own registry): a buffered watch's closing bookmark names its kind. */
  kinds: ResourceRegistry;
  /** Longest a buffered watch (or log follow) is held open. @default 10 s */
  watchPollMs?: number;
  /** A buffered watch that has delivered events ends once none came for this long. @default 250 ms */
  quietMs?: number;
  /** Invocation time kept back for writing the answer. @default 2 s */
  marginMs?: number;
  /** Where failures are logged, with the request's auditID. @default defaultLogger() */
  logger?: Logger;
}

const DEFAULT_POLL_MS = 10_000;
const DEFAULT_QUIET_MS = 250;
const DEFAULT_MARGIN_MS = 2_000;

/** Content type of the Lambda runtime's HTTP integration response (status and headers ahead of the body). */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The runtime separates the JSON prelude from the body with this many NUL bytes. */
export const PRELUDE_DELIMITER_LENGTH = 8;

/**
 * Builds an ApiRequest from a Function URL / HTTP API v2 event. Throws a
 * StatusError (413) for a body over Kubernetes' request limit.
 */
export function requestFromEvent(event: FunctionUrlEvent, signal?: AbortSignal): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  // Function URLs already lower-case names and join repeated headers with commas; lower-case again for API Gateway.
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  if (event.cookies && event.cookies.length > 0 && headers.cookie === undefined) headers.cookie = event.cookies.join('; ');
  let body: Uint8Array | undefined;
  if (event.body !== undefined && event.body !== null && event.body !== '') {
    body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
    if (body.length > MAX_BODY_BYTES) throw StatusError.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
  }
  const http = event.requestContext?.http;
  return {
    method: (http?.method ?? 'GET').toUpperCase(),
    path: event.rawPath || '/',
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    ...(body ? { body } : {}),
    ...(signal ? { signal } : {}),
    ...(http?.sourceIp ? { remoteAddress: http.sourceIp } : {}),
  };
}

/** Any failure as a StatusError: its message only, never a stack. */
function asStatusError(err: unknown): StatusError {
  return err instanceof StatusError ? err : StatusError.internal(err instanceof Error ? err.message : String(err));
}

/** A failure as a Status response, carrying the request's id as every response does. */
function statusResponse(err: unknown, auditId: string): ApiResponse {
  const status = asStatusError(err);
  return { status: status.code, headers: { 'content-type': 'application/json', [AUDIT_ID_HEADER]: auditId }, body: status.toStatus() };
}

/** The id of the request in an event (the client's Audit-ID if usable, else a new one). */
function eventAuditId(event: FunctionUrlEvent): string {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  return auditIdOf(headers);
}

/**
 * The event with its request's id assigned, as kube-apiserver's
 * WithAuditInit assigns it before anything else runs: the request, its
 * authentication, the server, every log record about it and the answer
 * (refusals of the event itself included) carry this one.
 */
function withAuditId(event: FunctionUrlEvent): FunctionUrlEvent {
  return { ...event, headers: { ...event.headers, [AUDIT_ID_HEADER]: eventAuditId(event) } };
}

/** Response headers as Lambda takes them: no hop-by-hop or length headers (the service sets those). */
function outgoingHeaders(out: ApiResponse, fallbackType: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) {
    const name = k.toLowerCase();
    if (name === 'transfer-encoding' || name === 'content-length' || name === 'connection') continue;
    headers[name] = v;
  }
  headers['content-type'] ??= fallbackType;
  return headers;
}

/** What a watch request asked for that shapes the end of its body. */
interface WatchShape {
  /** The request's resourceVersion, when it names a position (not "" or "0"). */
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutMs?: number;
  /** kind and apiVersion for a bookmark. */
  kind?: string;
  apiVersion?: string;
}

function watchShape(req: ApiRequest, kinds: ResourceRegistry): WatchShape {
  const q = req.query;
  const rv = q.get('resourceVersion');
  const timeout = q.get('timeoutSeconds');
  const shape: WatchShape = { allowBookmarks: q.get('allowWatchBookmarks') === 'true' };
  if (rv && rv !== '0') shape.resourceVersion = rv;
  if (timeout && /^\d+$/.test(timeout) && Number(timeout) > 0) shape.timeoutMs = Number(timeout) * 1000;
  try {
    const r = route(req.method, req.path, q, kinds);
    if (r.type === 'resource') {
      shape.kind = r.resourceType.kind;
      shape.apiVersion = apiVersionOf(r.resourceType);
    }
  } catch {
    // The server already answered this request; a route error only means no bookmark.
  }
  return shape;
}

interface WatchLine {
  type?: unknown;
  object?: { metadata?: { resourceVersion?: unknown; annotations?: Record<string, unknown> } };
}

function lineOf(ev: unknown): WatchLine {
  return isPlainObject(ev) ? (ev as WatchLine) : {};
}

function resourceVersionOf(ev: unknown): string | undefined {
  const rv = lineOf(ev).object?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/** A bookmark that only reports progress (not the end of the initial events of a watch-list). */
function isProgressBookmark(ev: unknown): boolean {
  const line = lineOf(ev);
  return line.type === 'BOOKMARK' && line.object?.metadata?.annotations?.[INITIAL_EVENTS_END] !== 'true';
}

/**
 * Follows the newest position a watch body has reached, so the body can end
 * with a bookmark at it. Revisions are compared as numbers: kumo's
 * resourceVersions are per-resource counters (see lib/store/types.ts).
 */
class Position {
  private rv: string | undefined;
  constructor(start: string | undefined) {
    this.rv = start;
  }
  see(ev: unknown): void {
    const rv = resourceVersionOf(ev);
    if (rv === undefined) return;
    if (this.rv === undefined || !/^\d+$/.test(rv) || !/^\d+$/.test(this.rv) || Number(rv) >= Number(this.rv)) this.rv = rv;
  }
  get current(): string | undefined {
    return this.rv;
  }
}

function bookmarkAt(shape: WatchShape, rv: string): unknown {
  return { type: 'BOOKMARK', object: { kind: shape.kind, apiVersion: shape.apiVersion, metadata: { resourceVersion: rv } } };
}

/** A failure in the middle of a watch, reported the way Kubernetes does: an ERROR event carrying a Status. */
function errorEvent(err: unknown): unknown {
  return { type: 'ERROR', object: asStatusError(err).toStatus() };
}

/** Waits for `p` at most `ms`; resolves to 'timeout' if it takes longer. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  if (ms <= 0) return 'timeout';
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a source gets to wind down after its abort before it is abandoned. */
const SETTLE_MS = 1_000;

/**
 * Iterates `source` until it ends or `until()` (re-read before each item)
 * passes. Then aborts it through `abort` (the signal the request carried),
 * takes the read in flight if it settles within SETTLE_MS, and lets go. A
 * source that ignores the abort is abandoned, never awaited: the invocation
 * must answer in time whatever a watch or a log follow does.
 */
async function* bounded<T>(source: AsyncIterable<T>, abort: AbortController, until: () => number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let pending = it.next();
  const settle = (p: Promise<IteratorResult<T>>) => p.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      settle(pending);
      const r = await within(pending, until() - Date.now());
      if (r === 'timeout') break;
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
      pending = it.next();
    }
    abort.abort();
    const last = await within(pending, SETTLE_MS);
    if (last === 'timeout') return;
    if (last.done) finished = true;
    else yield last.value;
  } finally {
    abort.abort();
    // Closing a generator that is still running would wait for it; only close one that is idle.
    if (!finished)
      void pending
        .then(
          () => it.return?.(),
          () => undefined,
        )
        .catch(() => undefined);
  }
}

/**
 * Reads a watch for a long-poll: until `deadline`, or until `quietMs` after
 * the last event once one has arrived, or until the stream ends or reports
 * an ERROR. Progress bookmarks are dropped: the caller ends the body with one
 * at the final position.
 */
async function collectWatch(
  events: AsyncIterable<unknown>,
  abort: AbortController,
  deadline: number,
  quietMs: number,
  position: Position,
): Promise<{ lines: unknown[]; failure?: unknown }> {
  const lines: unknown[] = [];
  let lastEventAt: number | undefined;
  const until = () => (lastEventAt === undefined ? deadline : Math.min(deadline, lastEventAt + quietMs));
  try {
    for await (const value of bounded(events, abort, until)) {
      position.see(value);
      if (isProgressBookmark(value)) continue;
      lines.push(value);
      lastEventAt = Date.now();
      if (lineOf(value).type === 'ERROR') break;
    }
    return { lines };
  } catch (err) {
    return { lines, failure: err };
  }
}

/** Reads a byte stream (a log follow) until it ends or `deadline`. */
async function collectBytes(chunks: AsyncIterable<Uint8Array>, abort: AbortController, deadline: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of bounded(chunks, abort, () => deadline)) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

function isTextual(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t.startsWith('text/') || t === 'application/json' || t.endsWith('+json') || t.endsWith('yaml');
}

/** Milliseconds this invocation may still spend before answering. */
function budget(context: InvocationContext | undefined, marginMs: number): number {
  const left = context?.getRemainingTimeInMillis();
  return left === undefined || !Number.isFinite(left) ? Number.POSITIVE_INFINITY : Math.max(0, left - marginMs);
}

/**
 * Turns an ApiResponse into one buffered Lambda result. `abort` must be the
 * controller whose signal the request carried: it ends watches and follows
 * when the long-poll is over.
 */
export async function bufferedResult(
  req: ApiRequest,
  out: ApiResponse,
  abort: AbortController,
  opts: { deadline: number; quietMs: number; logger: Logger; kinds: ResourceRegistry },
): Promise<BufferedResult> {
  return fitPayload(req, await shapeBuffered(req, out, abort, opts));
}

/** Kubernetes' apiserver gzips responses above this size for clients that accept it (kubectl does). */
const GZIP_THRESHOLD_BYTES = 128 * 1024;
/** What a buffered Lambda response may carry (6 MB, the result object's own JSON included), with room for headers. */
export const MAX_BUFFERED_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024;

function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    return (coding === 'gzip' || coding === '*') && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

/**
 * Compresses a large body for a client that accepts gzip, and refuses one
 * still too large for Lambda with a Status, rather than letting the service
 * answer a bare 502.
 */
function fitPayload(req: ApiRequest, result: BufferedResult): BufferedResult {
  const body = result.body ?? '';
  const raw = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  let out = result;
  if (raw.length > GZIP_THRESHOLD_BYTES && acceptsGzip(req.headers['accept-encoding']) && result.headers?.['content-encoding'] === undefined) {
    out = { ...result, headers: { ...result.headers, 'content-encoding': 'gzip' }, body: gzipSync(raw).toString('base64'), isBase64Encoded: true };
  }
  if (Buffer.byteLength(out.body ?? '') <= MAX_BUFFERED_RESPONSE_BYTES) return out;
  const err = StatusError.internal(
    `the response (${raw.length} bytes) is larger than a buffered Lambda response can carry; ask for less (e.g. a list with limit) or use the streaming endpoint`,
  );
  return { statusCode: err.code, headers: { 'content-type': 'application/json' }, body: JSON.stringify(err.toStatus()), isBase64Encoded: false };
}

async function shapeBuffered(
  req: ApiRequest,
  out: ApiResponse,
  abort: AbortController,
  opts: { deadline: number; quietMs: number; logger: Logger; kinds: ResourceRegistry },
): Promise<BufferedResult> {
  if ('body' in out) {
    return { statusCode: out.status, headers: outgoingHeaders(out, 'application/json'), body: JSON.stringify(out.body), isBase64Encoded: false };
  }
  if ('text' in out) {
    return { statusCode: out.status, headers: outgoingHeaders(out, 'text/plain'), body: out.text, isBase64Encoded: false };
  }
  if ('bytes' in out) {
    const headers = outgoingHeaders(out, 'application/octet-stream');
    const bytes = await collectBytes(out.bytes, abort, opts.deadline);
    const text = isTextual(headers['content-type']!) ? bytes.toString('utf8') : undefined;
    // Text that survives a UTF-8 round trip goes as is; anything else as base64.
    if (text !== undefined && Buffer.from(text, 'utf8').equals(bytes)) return { statusCode: out.status, headers, body: text, isBase64Encoded: false };
    return { statusCode: out.status, headers, body: bytes.toString('base64'), isBase64Encoded: true };
  }
  const shape = watchShape(req, opts.kinds);
  const position = new Position(shape.resourceVersion);
  const deadline = Math.min(opts.deadline, shape.timeoutMs !== undefined ? Date.now() + shape.timeoutMs : Number.POSITIVE_INFINITY);
  const { lines, failure } = await collectWatch(out.events, abort, deadline, opts.quietMs, position);
  if (failure !== undefined) {
    logStreamFailure(opts.logger, req, failure);
    // Nothing sent yet: answer with the error itself rather than an empty watch.
    if (lines.length === 0) return shapeBuffered(req, statusResponse(failure, out.headers?.[AUDIT_ID_HEADER] ?? auditIdOf(req.headers)), abort, opts);
    lines.push(errorEvent(failure));
  } else if (shape.allowBookmarks && position.current !== undefined && lineOf(lines.at(-1)).type !== 'ERROR') {
    lines.push(bookmarkAt(shape, position.current));
  }
  return {
    statusCode: out.status,
    headers: outgoingHeaders(out, 'application/json'),
    body: lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
    isBase64Encoded: false,
  };
}

/** The `awslambda` global the Node.js Lambda runtime provides, as far as this module uses it. */
export interface LambdaRuntimeGlobal {
  streamifyResponse<E, C>(fn: (event: E, stream: Writable, context: C) => Promise<void>): (event: E, stream: Writable, context: C) => Promise<void>;
  HttpResponseStream: { from(stream: Writable, prelude: Record<string, unknown>): Writable };
}

/** The runtime's `awslambda` global, when running inside Lambda. */
export function lambdaRuntime(): LambdaRuntimeGlobal | undefined {
  // The AWS SDK's invoke store sets an empty `awslambda` object wherever it is loaded: only the runtime's has these.
  const g = (globalThis as unknown as { awslambda?: Partial<LambdaRuntimeGlobal> }).awslambda;
  return typeof g?.streamifyResponse === 'function' && g.HttpResponseStream ? (g as LambdaRuntimeGlobal) : undefined;
}

/**
 * `awslambda.HttpResponseStream.from` when the runtime provides it; otherwise
 * the same bytes written directly: the prelude as JSON, then 8 NUL bytes.
 * (The runtime writes the prelude lazily, just before the first body write.)
 */
export function httpResponseStream(stream: Writable, prelude: { statusCode: number; headers: Record<string, string> }): Writable {
  const runtime = lambdaRuntime();
  if (runtime) return runtime.HttpResponseStream.from(stream, prelude);
  (stream as Writable & { setContentType?: (type: string) => void }).setContentType?.(HTTP_INTEGRATION_CONTENT_TYPE);
  stream.write(JSON.stringify(prelude));
  stream.write(new Uint8Array(PRELUDE_DELIMITER_LENGTH));
  return stream;
}

async function write(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (stream.destroyed) return;
  if (!stream.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      stream.on('drain', done).on('close', done).on('error', done);
    });
  }
}

async function endStream(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return;
  await new Promise<void>((resolve) => {
    stream.once('error', () => resolve());
    stream.end(() => resolve());
  });
}

/**
 * Writes an ApiResponse to a Lambda response stream: prelude first, then the
 * body as it is produced. Watches and follows end at `deadline` (through
 * `abort`, whose signal the request carried), a watch then with a bookmark
 * at its last position when the client allows bookmarks.
 */
export async function streamResult(
  req: ApiRequest,
  out: ApiResponse,
  abort: AbortController,
  stream: Writable,
  deadline: number,
  logger: Logger,
  kinds: ResourceRegistry,
): Promise<void> {
  const fallback = 'body' in out || 'events' in out ? 'application/json' : 'text' in out ? 'text/plain' : 'application/octet-stream';
  const http = httpResponseStream(stream, { statusCode: out.status, headers: outgoingHeaders(out, fallback) });
  const gone = () => abort.abort();
  http.once('close', gone);
  const until = () => (abort.signal.aborted ? 0 : deadline);
  try {
    if ('body' in out) await write(http, JSON.stringify(out.body));
    else if ('text' in out) await write(http, out.text);
    else if ('bytes' in out) {
      // The runtime sends status and headers with the first write: make one now, not when the first log line comes.
      await write(http, '');
      try {
        for await (const chunk of bounded(out.bytes, abort, until)) await write(http, chunk);
      } catch (err) {
        logStreamFailure(logger, req, err);
      }
    } else {
      await write(http, '');
      const shape = watchShape(req, kinds);
      const position = new Position(shape.resourceVersion);
      let last: unknown;
      try {
        for await (const ev of bounded(out.events, abort, until)) {
          position.see(ev);
          last = ev;
          await write(http, `${JSON.stringify(ev)}\n`);
        }
        const rv = position.current;
        const ended = lineOf(last);
        if (shape.allowBookmarks && rv !== undefined && ended.type !== 'ERROR' && !(ended.type === 'BOOKMARK' && resourceVersionOf(last) === rv)) {
          await write(http, `${JSON.stringify(bookmarkAt(shape, rv))}\n`);
        }
      } catch (err) {
        logStreamFailure(logger, req, err);
        await write(http, `${JSON.stringify(errorEvent(err))}\n`);
      }
    }
  } finally {
    http.off('close', gone);
    abort.abort();
    await endStream(http);
  }
}

function logStreamFailure(logger: Logger, req: ApiRequest, err: unknown): void {
  logger.error(`kumo api: ${req.method} ${req.path}: stream failed: ${err instanceof Error ? err.message : String(err)}`, {
    auditID: req.headers[AUDIT_ID_HEADER],
    error: err,
  });
}

/**
 * The two Lambda entry points over one ApiServer (or anything that handles
 * ApiRequests). `server` is called per invocation and should return the
 * same instance on warm invocations.
 */
export function lambdaFrontDoor(server: (mode: 'buffered' | 'streaming') => Promise<RequestHandler>, opts: LambdaFrontDoorOptions) {
  const pollMs = opts.watchPollMs ?? DEFAULT_POLL_MS;
  const quietMs = opts.quietMs ?? DEFAULT_QUIET_MS;
  const marginMs = opts.marginMs ?? DEFAULT_MARGIN_MS;
  const logger = opts.logger ?? defaultLogger();

  async function buffered(received: FunctionUrlEvent, context?: InvocationContext): Promise<BufferedResult> {
    const event = withAuditId(received);
    const abort = new AbortController();
    let req: ApiRequest | undefined;
    try {
      req = requestFromEvent(event, abort.signal);
      const out = await (await server('buffered')).handle(req);
      const deadline = Date.now() + Math.min(pollMs, budget(context, marginMs));
      return await bufferedResult(req, out, abort, { deadline, quietMs, logger, kinds: opts.kinds });
    } catch (err) {
      logFailure(logger, event, err);
      return bufferedResult(req ?? requestFromEventSafe(event), statusResponse(err, eventAuditId(event)), abort, {
        deadline: Date.now(),
        quietMs,
        logger,
        kinds: opts.kinds,
      });
    } finally {
      abort.abort();
    }
  }

  async function streaming(received: FunctionUrlEvent, stream: Writable, context?: InvocationContext): Promise<void> {
    const event = withAuditId(received);
    const abort = new AbortController();
    let req: ApiRequest | undefined;
    let out: ApiResponse;
    try {
      req = requestFromEvent(event, abort.signal);
      out = await (await server('streaming')).handle(req);
    } catch (err) {
      logFailure(logger, event, err);
      out = statusResponse(err, eventAuditId(event));
    }
    await streamResult(req ?? requestFromEventSafe(event), out, abort, stream, Date.now() + budget(context, marginMs), logger, opts.kinds);
  }

  return { buffered, streaming };
}

/** The request with no body, for answering when the body itself was the problem. */
function requestFromEventSafe(event: FunctionUrlEvent): ApiRequest {
  return requestFromEvent({ ...event, body: undefined, isBase64Encoded: false });
}

function logFailure(logger: Logger, event: FunctionUrlEvent, err: unknown): void {
  if (err instanceof StatusError && err.code < 500) return;
  const method = event.requestContext?.http?.method ?? '?';
  logger.error(`kumo api: ${method} ${event.rawPath}: ${err instanceof Error ? err.message : String(err)}`, { auditID: eventAuditId(event), error: err });
}
