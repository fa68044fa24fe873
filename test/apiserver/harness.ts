/**
 * A real API server for tests: a fresh in-memory SQLite store (or a given one), the system
 * namespaces, and the Node HTTP front door on an ephemeral port. Requests go
 * over HTTP with plain fetch, so tests see exactly the bytes kubectl would.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { createApiHttpServer } from '#lib/apiserver/http';
import { ApiServer, type ApiServerOptions } from '#lib/apiserver/server';
import { afterAll, beforeAll } from 'vitest';
import { DynamoDbStore } from '#lib/store/dynamodb';
import { SqliteStore, type SqliteStoreOptions } from '#lib/store/sqlite';
import type { Store } from '#lib/store/types';
import { type Emulator, newStoreTable } from '../helpers/moto.js';

/**
 * JSON as read off the wire. Tests read it by path and assert on values, so
 * it is deliberately untyped; the assertions are the type check.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Wire = any;

export interface Reply<T = Wire> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else the text. */
  body: T;
  text: string;
}

export interface RequestOptions {
  /** An object is sent as JSON; a string or Uint8Array as is. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
}

export interface WatchStream {
  status: number;
  headers: Headers;
  /** The next event; fails the test if none comes within `timeoutMs`. */
  next(timeoutMs?: number): Promise<Wire>;
  /** Every remaining event until the server ends the stream. */
  rest(timeoutMs?: number): Promise<Wire[]>;
  /** Resolves to true if the server ended the stream (no more events). */
  ended(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

export interface TestApi<S extends Store = SqliteStore> {
  url: string;
  api: ApiServer;
  store: S;
  req<T = Wire>(method: string, path: string, opts?: RequestOptions): Promise<Reply<T>>;
  get<T = Wire>(path: string, opts?: RequestOptions): Promise<Reply<T>>;
  post<T = Wire>(path: string, body: unknown, opts?: RequestOptions): Promise<Reply<T>>;
  put<T = Wire>(path: string, body: unknown, opts?: RequestOptions): Promise<Reply<T>>;
  patch<T = Wire>(path: string, body: unknown, contentType: string, opts?: RequestOptions): Promise<Reply<T>>;
  del<T = Wire>(path: string, body?: unknown, opts?: RequestOptions): Promise<Reply<T>>;
  watch(path: string, opts?: RequestOptions): Promise<WatchStream>;
  close(): Promise<void>;
}

function encodeBody(body: unknown): string | Uint8Array | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}

export async function startApi(opts: Omit<ApiServerOptions, 'store'> = {}, storeOpts: Omit<SqliteStoreOptions, 'path'> = {}): Promise<TestApi> {
  return serveApi(new SqliteStore({ path: ':memory:', ...storeOpts }), opts);
}

/**
 * The cloud's case for a describe block: `count` API servers sharing only a
 * fresh DynamoDB table on the emulator, as API function instances do;
 * started before its tests, closed after them (and the emulator with them).
 * The array is filled by the beforeAll.
 */
export function serversSharingTable(count: number, emulator: Emulator | undefined): TestApi<DynamoDbStore>[] {
  const servers: TestApi<DynamoDbStore>[] = [];
  beforeAll(async () => {
    const tableName = await newStoreTable();
    for (let i = 0; i < count; i++) servers.push(await serveApi(new DynamoDbStore({ tableName, pollIntervalMs: 50 })));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await emulator?.stop();
  });
  return servers;
}

/** The same over a given store (closed with the server): state written beforehand, another backend. */
export async function serveApi<S extends Store>(store: S, opts: Omit<ApiServerOptions, 'store'> = {}): Promise<TestApi<S>> {
  const api = new ApiServer({ store, ...opts });
  await bootstrap(api.rest);
  const server: Server = createApiHttpServer(api);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const controllers = new Set<AbortController>();

  const send = async (method: string, path: string, o: RequestOptions = {}, signal?: AbortSignal) => {
    const body = encodeBody(o.body);
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    if (o.accept) headers.accept = o.accept;
    return fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) });
  };

  const req = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<Reply<T>> => {
    const res = await send(method, path, o);
    const text = await res.text();
    let body: unknown = text;
    // One JSON value, or (a watch read to its end) newline-delimited values: those stay text.
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '' && !/\n./.test(text.trim())) body = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: body as T, text };
  };

  const watch = async (path: string, o: RequestOptions = {}): Promise<WatchStream> => {
    const abort = new AbortController();
    controllers.add(abort);
    const res = await send('GET', path, o, abort.signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let done = false;
    const lines: string[] = [];
    const pull = async (): Promise<void> => {
      const { value, done: d } = await reader.read();
      if (d) done = true;
      else {
        buffered += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, i).trim();
          buffered = buffered.slice(i + 1);
          if (line) lines.push(line);
        }
      }
    };
    let inflight: Promise<void> | undefined;
    const fill = async (timeoutMs: number): Promise<'ok' | 'done' | 'timeout'> => {
      const deadline = Date.now() + timeoutMs;
      while (lines.length === 0) {
        if (done) return 'done';
        inflight ??= pull().finally(() => (inflight = undefined));
        let timer: NodeJS.Timeout | undefined;
        const r = await Promise.race([
          inflight.then(() => 'ok' as const),
          new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())))),
        ]);
        clearTimeout(timer);
        if (r === 'timeout') return 'timeout';
      }
      return 'ok';
    };
    return {
      status: res.status,
      headers: res.headers,
      async next(timeoutMs = 5000) {
        const r = await fill(timeoutMs);
        if (r !== 'ok') throw new Error(`watch ${path}: no event within ${timeoutMs} ms (${r})`);
        return JSON.parse(lines.shift()!);
      },
      async rest(timeoutMs = 5000) {
        const out: unknown[] = [];
        for (;;) {
          const r = await fill(timeoutMs);
          if (r === 'done') return out;
          if (r === 'timeout') throw new Error(`watch ${path}: stream did not end within ${timeoutMs} ms`);
          out.push(JSON.parse(lines.shift()!));
        }
      },
      async ended(timeoutMs = 5000) {
        return (await fill(timeoutMs)) === 'done';
      },
      close() {
        abort.abort();
        controllers.delete(abort);
      },
    };
  };

  return {
    url,
    api,
    store,
    req,
    get: (path, o) => req('GET', path, o),
    post: (path, body, o) => req('POST', path, { ...o, body }),
    put: (path, body, o) => req('PUT', path, { ...o, body }),
    patch: (path, body, contentType, o) => req('PATCH', path, { ...o, body, contentType }),
    del: (path, body, o) => req('DELETE', path, { ...o, ...(body !== undefined ? { body } : {}) }),
    watch,
    async close() {
      for (const c of controllers) c.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}

/** The seed's bare nginx pod, with a name. */
export function pod(name: string, extra: { labels?: Record<string, string>; nodeName?: string; namespace?: string } = {}): Wire {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { ...(extra.nodeName ? { nodeName: extra.nodeName } : {}), containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
  };
}

/** The seed's 3-replica nginx Deployment selected by app: web. */
export function deployment(name: string, replicas = 3): Wire {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

export const PODS = '/api/v1/namespaces/default/pods';
export const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
export const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
export const NAMESPACES = '/api/v1/namespaces';

export function configMap(name: string, data: Record<string, string> = {}, labels?: Record<string, string>): Wire {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}
