/**
 * Kubernetes' exec streaming protocol over WebSocket (`v5.channel.k8s.io`,
 * and `v4.channel.k8s.io`, which lacks only the close channel): binary
 * frames whose first byte is the channel — 0 stdin, 1 stdout, 2 stderr,
 * 3 status (a Status JSON with the exit code), 4 resize ({"Width","Height"}),
 * 255 close (`[255, 0]`: stdin is done).
 *
 * The same protocol runs on every hop: kubectl or `kumo exec` → API server →
 * agent, for exec and for attach (which joins the container's own stdio and
 * always ends with a Success status, as the kubelet's). `serveExec` is the server end (API server, agent), `execOverWebSocket`
 * the client end (API server toward an agent, `kumo exec`).
 */
import type { IncomingMessage } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { StatusError } from '../api/errors.js';
import { AsyncQueue } from '../util/async-queue.js';
import type { ExecIO, PodAttachRequest, PodExecRequest } from '../api/pod-connector.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** The stream options of an exec or attach query string, validated as the kubelet does. */
function streamOptions(query: URLSearchParams, defaultContainer: string | undefined): PodAttachRequest {
  const flag = (name: string) => ['true', '1'].includes(query.get(name) ?? '');
  const p = {
    container: query.get('container') ?? defaultContainer ?? '',
    stdin: flag('stdin'),
    stdout: flag('stdout'),
    stderr: flag('stderr'),
    tty: flag('tty'),
  };
  if (!p.stdin && !p.stdout && !p.stderr) throw StatusError.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (p.tty && p.stderr) p.stderr = false;
  return p;
}

/** The exec options of a query string, validated as the API server does. */
export function execParams(query: URLSearchParams, defaultContainer?: string): PodExecRequest {
  const command = query.getAll('command');
  if (command.length === 0) throw StatusError.badRequest('you must specify at least one command for the container');
  return { command, ...streamOptions(query, defaultContainer) };
}

/** The attach options of a query string (exec's, without a command). */
export function attachParams(query: URLSearchParams, defaultContainer?: string): PodAttachRequest {
  return streamOptions(query, defaultContainer);
}

/** The query string that asks for these exec (or, without a command, attach) options. */
export function execQuery(p: PodAttachRequest & { command?: string[] }): URLSearchParams {
  const q = new URLSearchParams();
  for (const c of p.command ?? []) q.append('command', c);
  if (p.container) q.set('container', p.container);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty'] as const) if (p[k]) q.set(k, 'true');
  return q;
}

/** The status frame body: Success, or Failure with the exit code (kubectl exits with it). */
export function exitStatus(code: number): object {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [...], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

function errorStatus(err: unknown): object {
  const se = err instanceof StatusError ? err : undefined;
  return { metadata: {}, status: 'Failure', message: (err as Error).message, reason: se?.reason ?? 'InternalError', code: se?.code ?? 500 };
}

/** A WebSocket server (no listener of its own) that accepts only the exec protocols. */
export function execSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => EXEC_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
}

/** Whether an upgrade request offers an exec protocol we speak. */
export function offersExecProtocol(req: IncomingMessage): boolean {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim());
  return EXEC_PROTOCOLS.some((p) => offered.includes(p));
}

/**
 * Serves one exec on an accepted WebSocket: frames in become `io.stdin` and
 * `io.resize`, output goes out on channels 1 and 2, and when `run` ends its
 * exit code (or error) goes out on channel 3 before the socket closes.
 */
export async function serveExec(
  ws: WebSocket,
  params: Pick<PodExecRequest, 'stdin' | 'stdout' | 'stderr' | 'tty'>,
  run: (io: ExecIO) => Promise<number>,
): Promise<void> {
  const stdin = new AsyncQueue<Uint8Array>();
  const resize = new AsyncQueue<{ width: number; height: number }>();
  const abort = new AbortController();
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const buf = isBinary ? data : Buffer.from(data.toString(), 'utf8');
    if (buf.length === 0) return;
    const ch = buf[0];
    const body = buf.subarray(1);
    if (ch === CHANNEL.stdin && params.stdin) stdin.push(body);
    else if (ch === CHANNEL.resize) {
      try {
        const s = JSON.parse(body.toString('utf8')) as { Width?: number; Height?: number };
        if (s.Width && s.Height) resize.push({ width: s.Width, height: s.Height });
      } catch {
        // a bad resize frame is ignored
      }
    } else if (ch === CHANNEL.close && v5 && body[0] === CHANNEL.stdin) stdin.close();
  });
  ws.on('close', () => {
    stdin.close();
    resize.close();
    abort.abort();
  });
  ws.on('error', () => abort.abort());
  const send = (ch: number, chunk: Uint8Array) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([ch]), chunk]));
  };
  let status: object;
  try {
    const code = await run({
      ...(params.stdin ? { stdin } : {}),
      ...(params.stdout ? { stdout: (c: Uint8Array) => send(CHANNEL.stdout, c) } : {}),
      ...(params.stderr ? { stderr: (c: Uint8Array) => send(CHANNEL.stderr, c) } : {}),
      ...(params.tty ? { resize } : {}),
      signal: abort.signal,
    });
    status = exitStatus(code);
  } catch (err) {
    status = errorStatus(err);
  }
  send(CHANNEL.status, Buffer.from(JSON.stringify(status)));
  resize.close();
  await new Promise<void>((resolve) => {
    if (ws.readyState !== WebSocket.OPEN) return resolve();
    ws.once('close', () => resolve());
    ws.close(1000);
    setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2_000).unref();
  });
}

export interface ExecClientOptions {
  headers?: Record<string, string>;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
}

/** The exit code a status frame carries; a failure without one is an error. */
function codeOf(status: {
  status?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string }[] };
}): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause) return Number(cause.message) || 1;
  throw new StatusError(status.code ?? 500, (status.reason as StatusError['reason']) ?? 'InternalError', status.message ?? 'exec failed');
}

/**
 * Runs an exec through a WebSocket endpoint speaking the channel protocol
 * (`url` carries the exec query). Resolves with the command's exit code.
 */
export function execOverWebSocket(url: string, opts: ExecClientOptions, io: ExecIO): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...EXEC_PROTOCOLS], {
      headers: opts.headers ?? {},
      perMessageDeflate: false,
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    });
    let result: { code: number } | { error: unknown } | undefined;
    const abort = () => ws.terminate();
    io.signal?.addEventListener('abort', abort, { once: true });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        let err: Error;
        try {
          const s = JSON.parse(text) as { code?: number; reason?: string; message?: string };
          err = new StatusError(s.code ?? res.statusCode ?? 500, (s.reason as StatusError['reason']) ?? 'InternalError', s.message ?? text);
        } catch {
          err = new StatusError(res.statusCode ?? 500, 'InternalError', `unable to upgrade connection: ${text.trim() || res.statusMessage}`);
        }
        reject(err);
      });
    });
    ws.on('open', () => {
      if (io.stdin) {
        const source = io.stdin;
        void (async () => {
          try {
            for await (const chunk of source) {
              if (ws.readyState !== WebSocket.OPEN) return;
              ws.send(Buffer.concat([Buffer.from([CHANNEL.stdin]), Buffer.from(chunk)]));
            }
          } catch {
            // the source failed: treat as end of input
          }
          if (ws.readyState === WebSocket.OPEN && ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
        })();
      }
      if (io.resize) {
        const sizes = io.resize;
        void (async () => {
          for await (const s of sizes) {
            if (ws.readyState !== WebSocket.OPEN) return;
            ws.send(Buffer.concat([Buffer.from([CHANNEL.resize]), Buffer.from(JSON.stringify({ Width: s.width, Height: s.height }))]));
          }
        })();
      }
    });
    ws.on('message', (data: Buffer) => {
      if (data.length === 0) return;
      const ch = data[0];
      const body = data.subarray(1);
      if (ch === CHANNEL.stdout) io.stdout?.(body);
      else if (ch === CHANNEL.stderr) io.stderr?.(body);
      else if (ch === CHANNEL.status) {
        try {
          result = { code: codeOf(JSON.parse(body.toString('utf8'))) };
        } catch (err) {
          result = { error: err };
        }
      }
    });
    ws.on('error', (err) => {
      if (!result) result = { error: err };
    });
    ws.on('close', () => {
      io.signal?.removeEventListener('abort', abort);
      if (!result) reject(new Error('the exec stream ended without an exit status'));
      else if ('code' in result) resolve(result.code);
      else reject(result.error);
    });
  });
}
