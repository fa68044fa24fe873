/**
 * A small Docker Engine API client over the unix socket with plain
 * node:http: JSON calls, streamed responses (logs, pulls, waits) and the
 * hijacked connections of `exec start` and `attach`. Only the calls the
 * docker runtime needs; paths are unversioned, so the engine answers in its
 * own API version.
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Env, readSetting } from '../../config/read.js';
import { SETTINGS } from '../../config/settings.js';

export class DockerError extends Error {
  override name = 'DockerError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface DockerRequest {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A raw body (image import). */
  raw?: Buffer;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Use a connection of its own instead of the shared pool: for calls that
   * may block for long (waits, followed logs, pulls). Pooled, enough of them
   * would hold every socket while the calls they wait for queue behind them.
   */
  dedicated?: boolean;
}

/** The socket DOCKER_HOST names (unix:// only), else the default one. */
export function dockerSocketPath(env: Env = process.env): string {
  const host = readSetting(env, SETTINGS.dockerHost);
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

export class DockerEngine {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });

  constructor(readonly socketPath: string = dockerSocketPath()) {}

  close(): void {
    this.agent.destroy();
  }

  private path(path: string, query: DockerRequest['query']): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  }

  /** Sends a request and returns the response stream, whatever its status. */
  send(method: string, path: string, opts: DockerRequest = {}): Promise<IncomingMessage> {
    const payload = opts.raw ?? (opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined);
    const headers: Record<string, string> = { host: 'docker' };
    if (payload) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          agent: opts.dedicated ? false : this.agent,
          method,
          path: this.path(path, opts.query),
          headers,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        resolve,
      );
      if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`docker ${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async readText(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A JSON call; non-2xx answers become DockerErrors carrying the engine's message. */
  async json<T>(method: string, path: string, opts: DockerRequest = {}): Promise<T> {
    const res = await this.send(method, path, { timeoutMs: 60_000, ...opts });
    const text = await this.readText(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // plain text error
      }
      throw new DockerError(status, message || `docker ${method} ${path}: status ${status}`);
    }
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as T;
    }
  }

  /** A streamed call that must answer 2xx; the body is returned unread. */
  async stream(method: string, path: string, opts: DockerRequest = {}): Promise<IncomingMessage> {
    const res = await this.send(method, path, { dedicated: true, ...opts });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await this.readText(res);
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // plain text error
      }
      throw new DockerError(status, message || `docker ${method} ${path}: status ${status}`);
    }
    return res;
  }

  /**
   * A hijacked connection (exec start, container attach): after the engine
   * answers 101 (or 200), the socket carries the process's raw streams both
   * ways. Without `body` none is sent: the engine would read unconsumed body
   * bytes as the container's input.
   */
  hijack(path: string, body?: unknown): Promise<Duplex> {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath,
        method: 'POST',
        path,
        headers: {
          host: 'docker',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          'content-length': String(payload.length),
          connection: 'Upgrade',
          upgrade: 'tcp',
        },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res: IncomingMessage) => {
        // Engines that do not upgrade answer 200 and stream on the same connection.
        if (res.statusCode === 200) {
          resolve(res.socket);
          return;
        }
        void this.readText(res).then((text) => {
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // plain text
          }
          reject(new DockerError(res.statusCode ?? 0, message));
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * The gateway of the default `bridge` network (usually 172.17.0.1): the
   * host's address on the bridge, which every container on it reaches
   * through its default route. Undefined when the network has none (IPv6 only, or no bridge).
   */
  async bridgeGateway(): Promise<string | undefined> {
    const net = await this.json<{ IPAM?: { Config?: { Gateway?: string }[] | null } }>('GET', '/networks/bridge');
    return (net.IPAM?.Config ?? []).map((c) => c.Gateway).find((g): g is string => !!g && !g.includes(':'));
  }

  async ping(timeoutMs = 2_000): Promise<boolean> {
    try {
      const res = await this.send('GET', '/_ping', { timeoutMs });
      await this.readText(res);
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }
}

/**
 * Splits Docker's multiplexed stream (no TTY): 8-byte headers [stream, 0, 0,
 * 0, size u32 BE] followed by the payload. Stream 1 is stdout, 2 stderr.
 */
export async function* demux(source: AsyncIterable<Uint8Array>): AsyncGenerator<{ stream: 1 | 2; data: Buffer }> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const stream = buf[0] === 2 ? 2 : 1;
      yield { stream, data: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}
