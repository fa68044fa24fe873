/**
 * How a client reaches the API server: over HTTP(S) like kubectl, or
 * in-process by calling the server core directly (controllers inside `kumo up`
 * and inside the cloud functions). Both speak the same paths and bodies, so
 * everything above this layer is the same in both modes.
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { ApiRequest, RequestHandler, UserInfo } from '../api/request.js';
import { clone } from '../util/json.js';
import { sleep } from '../util/sleep.js';

export interface TransportRequest {
  method: string;
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface Transport {
  /** A request with a JSON (or text) response. */
  request(req: TransportRequest): Promise<TransportResponse>;
  /** A streaming request: newline-delimited JSON values until the server ends or the signal aborts. */
  stream(req: TransportRequest): Promise<{ status: number; body?: unknown; events?: AsyncIterable<unknown> }>;
  /** A streaming byte response (logs). */
  bytes(req: TransportRequest): Promise<{ status: number; body?: unknown; chunks?: AsyncIterable<Uint8Array> }>;
}

/** Calls the API server core in the same process. Results are copied so callers never share objects with the server's caches. */
export class InProcessTransport implements Transport {
  constructor(
    private readonly server: RequestHandler,
    private readonly user: UserInfo,
  ) {}

  private toApi(req: TransportRequest): ApiRequest {
    return {
      method: req.method,
      path: req.path,
      query: req.query ?? new URLSearchParams(),
      headers: {
        ...(req.contentType ? { 'content-type': req.contentType } : {}),
        ...(req.accept ? { accept: req.accept } : {}),
      },
      ...(req.body !== undefined ? { object: clone(req.body) } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      user: this.user,
    };
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.server.handle(this.toApi(req));
    if ('body' in res) return { status: res.status, headers: res.headers ?? {}, body: clone(res.body) };
    if ('text' in res) return { status: res.status, headers: res.headers ?? {}, body: res.text };
    return { status: res.status, headers: res.headers ?? {}, body: undefined };
  }

  async stream(req: TransportRequest) {
    const res = await this.server.handle(this.toApi(req));
    if ('events' in res) {
      const source = res.events;
      return {
        status: res.status,
        events: (async function* () {
          for await (const ev of source) yield clone(ev);
        })(),
      };
    }
    return { status: res.status, body: 'body' in res ? clone(res.body) : undefined };
  }

  async bytes(req: TransportRequest) {
    const res = await this.server.handle(this.toApi(req));
    if ('bytes' in res) return { status: res.status, chunks: res.bytes };
    if ('text' in res) {
      const text = res.text;
      return {
        status: res.status,
        chunks: (async function* () {
          yield Buffer.from(text);
        })(),
      };
    }
    return { status: res.status, body: 'body' in res ? clone(res.body) : undefined };
  }
}

export interface HttpTransportOptions {
  server: string;
  token?: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
  /** Per-request timeout for non-streaming requests. @default 30 s */
  timeoutMs?: number;
  userAgent?: string;
  /** Called with the text of each `Warning: 299 - "..."` header the server sends (kubectl prints them on stderr). */
  onWarning?: (text: string) => void;
}

/** The texts of a Warning header (RFC 7234 warn-values: `299 - "text"`, comma-separated). */
export function warningTexts(header: string): string[] {
  const out: string[] = [];
  const re = /\d{3} \S+ "((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
  return out;
}

/** As client-go: a 429 or 5xx answer with Retry-After is sent again after that many seconds, at most this many times. */
const MAX_RETRIES = 10;

/** The wait a response asks for before the request is sent again, as client-go's checkWait reads it; undefined: none. */
function retryAfterSeconds(status: number, header: string | undefined): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const text = header?.trim() ?? '';
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Talks to an API server over HTTP(S) with keep-alive connections. */
export class HttpTransport implements Transport {
  private readonly base: URL;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly opts: HttpTransportOptions) {
    this.base = new URL(opts.server);
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            maxSockets: 64,
            ...(opts.ca ? { ca: opts.ca } : {}),
            ...(opts.cert ? { cert: opts.cert } : {}),
            ...(opts.key ? { key: opts.key } : {}),
            rejectUnauthorized: !opts.insecureSkipTLSVerify,
          })
        : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  }

  close(): void {
    this.agent.destroy();
  }

  private send(req: TransportRequest, streaming: boolean): Promise<import('node:http').IncomingMessage> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + req.path, this.base);
    if (req.query) url.search = req.query.toString();
    const headers: Record<string, string> = {
      accept: req.accept ?? 'application/json',
      'user-agent': this.opts.userAgent ?? 'kumo',
    };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = fn(url, { method: req.method, headers, agent: this.agent, ...(req.signal ? { signal: req.signal } : {}) }, (res) => {
        const warning = res.headers.warning;
        if (warning && this.opts.onWarning) for (const text of warningTexts(Array.isArray(warning) ? warning.join(', ') : warning)) this.opts.onWarning(text);
        resolve(res);
      });
      if (!streaming) {
        r.setTimeout(this.opts.timeoutMs ?? 30_000, () => r.destroy(new Error(`request to ${url.pathname} timed out`)));
      }
      r.on('error', reject);
      r.end(payload);
    });
  }

  private async readAll(res: import('node:http').IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return decodeBody(Buffer.concat(chunks).toString('utf8'), String(res.headers['content-type'] ?? ''));
  }

  private headersOf(res: import('node:http').IncomingMessage): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
    return out;
  }

  /** One request; a refusal that says when to come back (flow control's 429) is retried then, as client-go does. */
  async request(req: TransportRequest): Promise<TransportResponse> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(req, false);
      const out = { status: res.statusCode ?? 0, headers: this.headersOf(res), body: await this.readAll(res) };
      const wait = attempt < MAX_RETRIES ? retryAfterSeconds(out.status, out.headers['retry-after']) : undefined;
      if (wait === undefined || req.signal?.aborted) return out;
      await sleep(wait * 1000, req.signal ?? new AbortController().signal);
    }
  }

  async stream(req: TransportRequest) {
    const res = await this.send(req, true);
    const status = res.statusCode ?? 0;
    if (status !== 200) return { status, body: await this.readAll(res) };
    return {
      status,
      events: (async function* () {
        let buf = '';
        try {
          for await (const chunk of res) {
            buf += (chunk as Buffer).toString('utf8');
            let i: number;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i).trim();
              buf = buf.slice(i + 1);
              if (line) yield JSON.parse(line) as unknown;
            }
          }
        } catch (err) {
          if (!req.signal?.aborted) throw err;
        }
        if (buf.trim()) yield JSON.parse(buf) as unknown;
      })(),
    };
  }

  async bytes(req: TransportRequest) {
    const res = await this.send(req, true);
    const status = res.statusCode ?? 0;
    if (status !== 200) return { status, body: await this.readAll(res) };
    return {
      status,
      chunks: (async function* () {
        try {
          for await (const chunk of res) yield chunk as Uint8Array;
        } catch (err) {
          if (!req.signal?.aborted) throw err;
        }
      })(),
    };
  }
}

/** A response body as the client hands it on: parsed JSON when it says it is JSON (and parses), else the text. */
export function decodeBody(text: string, contentType: string): unknown {
  if (contentType.includes('json') && text.length > 0) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
