/**
 * The local front door: a Node HTTP(S) server that turns requests into
 * ApiRequests for the core and writes ApiResponses back, streaming watches
 * and logs as chunked responses.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { MAX_BODY_BYTES } from './limits.js';
import { AUDIT_ID_HEADER, auditIdOf } from '../api/audit-id.js';
import { StatusError } from '../api/errors.js';
import type { ApiRequest, ApiResponse } from '../api/request.js';
import { defaultLogger, type Logger } from '../log/logger.js';

export interface Handler {
  handle(req: ApiRequest): Promise<ApiResponse>;
}

/** Handles connection upgrades (WebSocket exec); returns false if it does not take the request. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface HttpServerOptions {
  tls?: { key: string | Buffer; cert: string | Buffer };
  onUpgrade?: UpgradeHandler;
  /**
   * Judges every request, upgrades included, before anything else is done
   * (its body is not read): a StatusError is the answer, undefined lets it
   * through. `kumo up --insecure-http` refuses non-loopback hosts and web
   * pages with it (lib/local/loopback-guard.ts).
   */
  filter?: (req: IncomingMessage) => StatusError | undefined;
  /** Where a failing transport is logged (with the request's auditID). @default defaultLogger() */
  logger?: Logger;
}

/** Answers a connection upgrade with a Status instead of switching protocols. */
export function refuseUpgrade(socket: Duplex, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${err.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * The request body, or 'too-large' as soon as it passes Kubernetes' limit:
 * the 413 goes out at once while the rest of the upload is read and
 * discarded (destroying the request would reset the connection before the
 * client reads the answer).
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData).off('end', onEnd).off('error', reject);
      // An upload the client abandons now errors with no one to tell; unhandled, that would end the process.
      req.on('error', () => undefined).resume();
      resolve('too-large');
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

function lowerCased(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return headers;
}

/**
 * The ApiRequest of an HTTP request, with the request's id assigned (the
 * client's Audit-ID when usable, else a new one), as kube-apiserver's
 * WithAuditInit assigns it before anything else runs: authentication, the
 * server, their log records and the response all read this one.
 */
export function toApiRequest(req: IncomingMessage, body: Buffer | undefined, signal: AbortSignal): ApiRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers = lowerCased(req);
  headers[AUDIT_ID_HEADER] = auditIdOf(headers);
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    ...(body && body.length > 0 ? { body } : {}),
    signal,
    ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
  };
}

export async function writeResponse(res: ServerResponse, out: ApiResponse, signal: AbortSignal, logger: Logger = defaultLogger()): Promise<void> {
  const headers = { ...(out.headers ?? {}) };
  if ('body' in out) {
    const text = JSON.stringify(out.body);
    res.writeHead(out.status, { ...headers, 'content-type': headers['content-type'] ?? 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  if ('text' in out) {
    res.writeHead(out.status, { ...headers, 'content-type': headers['content-type'] ?? 'text/plain', 'content-length': Buffer.byteLength(out.text) });
    res.end(out.text);
    return;
  }
  delete headers['transfer-encoding'];
  delete headers['content-length'];
  res.writeHead(out.status, headers);
  res.flushHeaders();
  const iterator = 'events' in out ? out.events : out.bytes;
  try {
    for await (const item of iterator) {
      if (signal.aborted) break;
      const chunk = 'events' in out ? `${JSON.stringify(item)}\n` : (item as Uint8Array);
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } catch (err) {
    if (!signal.aborted) logger.error(`kumo apiserver: stream failed: ${(err as Error).message}`, { auditID: out.headers?.[AUDIT_ID_HEADER], error: err });
  } finally {
    res.end();
  }
}

export function createApiHttpServer(handler: Handler, opts: HttpServerOptions = {}): Server {
  const logger = opts.logger ?? defaultLogger();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    // The request's id, from here on (its body is read later).
    const request = toApiRequest(req, undefined, abort.signal);
    const auditID = request.headers[AUDIT_ID_HEADER]!;
    void (async () => {
      try {
        const refused = opts.filter?.(req);
        if (refused) {
          await writeResponse(res, { status: refused.code, body: refused.toStatus() }, abort.signal, logger);
          return;
        }
        const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
        if (body === 'too-large') {
          const err = StatusError.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
          await writeResponse(res, { status: err.code, headers: { [AUDIT_ID_HEADER]: auditID }, body: err.toStatus() }, abort.signal, logger);
          return;
        }
        const out = await handler.handle(body && body.length > 0 ? { ...request, body } : request);
        await writeResponse(res, out, abort.signal, logger);
      } catch (err) {
        // The handler never throws; this is the transport failing (a socket error mid-body). Logged with the id like any 500.
        logger.error(`kumo apiserver: ${req.method} ${req.url}: ${(err as Error).message}`, { auditID, error: err });
        const status = StatusError.internal((err as Error).message).toStatus();
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', [AUDIT_ID_HEADER]: auditID });
        res.end(JSON.stringify(status));
      }
    })();
  };
  const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : createHttpServer(listener);
  server.keepAliveTimeout = 65_000;
  if (opts.onUpgrade) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const refused = opts.filter?.(req);
      if (refused) refuseUpgrade(socket, refused);
      else if (!opts.onUpgrade!(req, socket, head)) socket.destroy();
    });
  }
  return server;
}
