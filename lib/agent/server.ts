/**
 * The agent's own endpoint, as the kubelet's :10250: what the API server
 * calls for `pods/log`, `pods/exec` and `pods/attach`. Every request but /healthz must carry
 * the bearer token shared with the API server.
 *
 *   GET /healthz
 *   GET /pods                                              the pods this agent runs
 *   GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
 *   GET /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty   (WebSocket, v5.channel.k8s.io)
 *   GET /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty            (WebSocket, the same protocol)
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { StatusError } from '../api/errors.js';
import type { Agent, LogRequest } from './agent.js';
import { attachParams, execParams, execSocketServer, offersExecProtocol, serveExec } from '../client/exec-channel.js';
import type { ExecIO } from '../api/pod-connector.js';

export interface AgentServerOptions {
  /** The bearer token callers must present. */
  token: string;
  tls?: { key: string | Buffer; cert: string | Buffer };
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = header?.match(/^Bearer\s+(.+)$/i);
  if (!m || !token) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw StatusError.badRequest(`invalid ${name}: ${v}`);
  return Number(v);
}

/** Log options from a query string (the kubelet's and the API server's `pods/log` parameters). */
export function logRequest(q: URLSearchParams, now: number = Date.now()): LogRequest {
  const flag = (n: string) => q.get(n) === 'true' || q.get(n) === '1';
  const sinceSeconds = intParam(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw StatusError.badRequest('at most one of sinceTime or sinceSeconds may be specified');
  let sinceMs = sinceSeconds !== undefined ? now - sinceSeconds * 1000 : undefined;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw StatusError.badRequest(`invalid sinceTime: ${sinceTime}`);
  }
  const tailLines = intParam(q, 'tailLines', 0);
  const limitBytes = intParam(q, 'limitBytes', 1);
  return {
    follow: flag('follow'),
    previous: flag('previous'),
    timestamps: flag('timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(sinceMs !== undefined ? { sinceMs } : {}),
  };
}

function sendStatus(res: ServerResponse, err: unknown): void {
  const se = err instanceof StatusError ? err : StatusError.internal((err as Error).message);
  const body = JSON.stringify(se.toStatus());
  if (!res.headersSent) res.writeHead(se.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${err.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Splits /prefix/{ns}/{pod}/{container}. */
function target(path: string, prefix: string): { namespace: string; pod: string; container: string } | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  if (parts[0] !== prefix || parts.length !== 4) return undefined;
  return { namespace: parts[1]!, pod: parts[2]!, container: parts[3]! };
}

export function createAgentServer(agent: Agent, opts: AgentServerOptions): Server {
  const wss = execSocketServer();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (!tokenMatches(req.headers.authorization, opts.token)) {
      sendStatus(res, StatusError.unauthorized());
      return;
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    void (async () => {
      try {
        if (req.method !== 'GET') throw StatusError.methodNotAllowed(`the agent does not allow ${req.method}`);
        if (url.pathname === '/pods') {
          const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: agent.pods() });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
        const t = target(url.pathname, 'containerLogs');
        if (!t) throw new StatusError(404, 'NotFound', `the agent does not serve ${url.pathname}`);
        const chunks = await agent.openLogs(t.namespace, t.pod, t.container, logRequest(url.searchParams), abort.signal);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.flushHeaders();
        for await (const c of chunks) {
          if (abort.signal.aborted) break;
          if (!res.write(c)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
        }
        res.end();
      } catch (err) {
        if (res.headersSent) res.end();
        else sendStatus(res, err);
      }
    })();
  };
  const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : createHttpServer(listener);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const exec = target(url.pathname, 'exec');
    const t = exec ?? target(url.pathname, 'attach');
    if (!t) return refuseUpgrade(socket, new StatusError(404, 'NotFound', `the agent does not serve ${url.pathname}`));
    if (!tokenMatches(req.headers.authorization, opts.token)) return refuseUpgrade(socket, StatusError.unauthorized());
    if (!offersExecProtocol(req))
      return refuseUpgrade(socket, StatusError.badRequest('exec and attach need the v5.channel.k8s.io or v4.channel.k8s.io WebSocket protocol'));
    let run: (io: ExecIO) => Promise<number>;
    let params: ReturnType<typeof attachParams>;
    try {
      if (exec) {
        const e = execParams(url.searchParams, t.container);
        params = e;
        run = (io) => agent.exec(t.namespace, t.pod, t.container, e.command, { stdin: e.stdin, tty: e.tty }, io);
      } else {
        const a = attachParams(url.searchParams, t.container);
        params = a;
        run = async (io) => {
          await agent.attach(t.namespace, t.pod, t.container, { stdin: a.stdin }, io);
          return 0;
        };
      }
    } catch (err) {
      return refuseUpgrade(socket, err as StatusError);
    }
    wss.handleUpgrade(req, socket, head, (ws) => void serveExec(ws, params, run));
  });
  return server;
}
