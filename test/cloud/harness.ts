/**
 * The cloud as the test suite plays it: the AWS API emulator (moto, or
 * AWS_ENDPOINT_URL), the store table and the token secrets the stack would
 * create, the deployed function bundles loaded as Lambda would load them,
 * a loopback HTTP server that turns requests into Function URL events for
 * the API bundle's RESPONSE_STREAM handler (what the Function URL does),
 * the resync schedule, and node agents run from the agent image's bundle.
 * The stream's event source mappings are in esm.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, Context, ScheduledEvent } from 'aws-lambda';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { functionUrlEvent, invocationContext, parseStreamed, RecordingStream } from '../functions/events.js';
import { ensureEmulator, type Emulator } from '../helpers/moto.js';

export const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/KumoResync'],
  detail: {},
} as unknown as ScheduledEvent;

export type StreamingHandler = (event: APIGatewayProxyEventV2, stream: Writable, context: Context) => Promise<void>;
export type BufferedHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<{ statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean }>;
export type EventHandler = (event: unknown, context?: Context) => Promise<unknown>;

export interface ApiModule {
  handler: BufferedHandler;
  streamingHandler: StreamingHandler;
}

/** A JSON response as a client reads it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON off the wire; assertions are the type check
export type Wire = any;

/**
 * One Function URL invocation of the API bundle's streaming handler (as the
 * stack deploys it), read back as status and JSON body.
 */
export async function invoke(
  api: ApiModule,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; contentType?: string; header?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Wire; headers: Record<string, string> }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.header !== undefined) headers.authorization = opts.header;
  const event = functionUrlEvent(method, path, {
    ...(opts.body !== undefined ? { body: opts.body as object, contentType: opts.contentType ?? 'application/json' } : {}),
    headers,
  });
  const stream = new RecordingStream();
  await api.streamingHandler(event, stream, invocationContext(30_000));
  await stream.finished();
  const { prelude, body } = parseStreamed(stream.bytes);
  const text = body.toString('utf8');
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: the test sees the text
  }
  return { status: prelude.statusCode, body: parsed, headers: prelude.headers ?? {} };
}

let instances = 0;

/**
 * A fresh instance of a bundle: what a new Lambda execution environment is
 * (the module's cold start reads the environment as it is now).
 */
export async function loadBundle<T>(path: string): Promise<T> {
  return (await import(/* @vite-ignore */ `${pathToFileURL(path).href}?instance=${++instances}`)) as T;
}

/** A token as the stack's generated secret holds it: {"id","secret"} with 48 letters and digits. */
export function tokenSecret(id: string): { json: string; token: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const secret = [...randomBytes(48)].map((b) => alphabet[b % alphabet.length]).join('');
  return { json: JSON.stringify({ id, secret }), token: `${id}.${secret}` };
}

export interface CloudAccount {
  emulator: Emulator;
  tableName: string;
  adminToken: string;
  adminSecretArn: string;
  bootstrapToken: string;
  /** The bootstrap secret's value, as ECS injects it into the agent container. */
  bootstrapSecretString: string;
  /** What the ServiceAccount signing key is derived from, as the API function reads it. */
  serviceAccountKeySecretString: string;
  dispose(): Promise<void>;
}

/**
 * What `cdk deploy` leaves in an account, on the emulator: the store table,
 * the two token secrets and the key of the tokens' MACs, and the functions'
 * environment pointing at them (set in process.env, which the bundles read on their cold start).
 * Undefined when there is no emulator (the suite then skips, never in CI).
 */
export async function deployToEmulator(env: Record<string, string> = {}): Promise<CloudAccount | undefined> {
  const emulator = await ensureEmulator();
  if (!emulator) return undefined;
  const tableName = `kumo-cloud-${randomUUID()}`;
  const ddb = new DynamoDBClient({});
  await createStoreTable(ddb, tableName);
  ddb.destroy();
  const sm = new SecretsManagerClient({});
  const admin = tokenSecret('admin');
  const bootstrap = tokenSecret('bootstrap');
  const adminSecret = await sm.send(new CreateSecretCommand({ Name: `${tableName}-admin`, SecretString: admin.json }));
  const bootstrapSecret = await sm.send(new CreateSecretCommand({ Name: `${tableName}-bootstrap`, SecretString: bootstrap.json }));
  const tokenKey = await sm.send(new CreateSecretCommand({ Name: `${tableName}-token-key`, SecretString: randomBytes(48).toString('base64url') }));
  const serviceAccountSeed = randomBytes(48).toString('base64url');
  const serviceAccountKey = await sm.send(new CreateSecretCommand({ Name: `${tableName}-service-account-key`, SecretString: serviceAccountSeed }));
  sm.destroy();
  const saved = { ...process.env };
  Object.assign(process.env, {
    KUMO_TABLE: tableName,
    KUMO_AUTH: 'tokens',
    KUMO_ADMIN_TOKEN_SECRET_ARN: adminSecret.ARN!,
    KUMO_BOOTSTRAP_TOKEN_SECRET_ARN: bootstrapSecret.ARN!,
    KUMO_TOKEN_KEY_SECRET_ARN: tokenKey.ARN!,
    KUMO_SERVICE_ACCOUNT_KEY_SECRET_ARN: serviceAccountKey.ARN!,
    ...env,
  });
  return {
    emulator,
    tableName,
    adminToken: admin.token,
    adminSecretArn: adminSecret.ARN!,
    bootstrapToken: bootstrap.token,
    bootstrapSecretString: bootstrap.json,
    serviceAccountKeySecretString: serviceAccountSeed,
    async dispose() {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await emulator.stop();
    },
  };
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|.*\+json|.*\+xml)(;|$))/i;

/** An HTTP request as a Function URL hands it to the function (payload format 2.0). */
export function eventFromHttp(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://function-url.invalid');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') cookies.push(...value.split(/;\s*/));
    else headers[name] = headers[name] !== undefined ? `${headers[name]},${value}` : value;
  }
  const text = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? '');
  const now = new Date();
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] !== undefined ? `${query[k]},${v}` : v;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'kumotest',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'kumotest',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !text,
  };
}

/**
 * The response stream the function writes to: the HTTP integration prelude
 * (JSON, then 8 NUL bytes) becomes the status line and headers, the rest
 * the body, passed on as it comes. The client going away destroys it, as
 * the Lambda runtime does.
 */
class ResponseStream extends Writable {
  private pending: Buffer = Buffer.alloc(0);
  private started = false;

  constructor(private readonly res: ServerResponse) {
    super();
    res.on('close', () => {
      if (!this.writableFinished) this.destroy();
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.started) {
      this.pending = Buffer.concat([this.pending, chunk]);
      const at = this.pending.indexOf(Buffer.alloc(8));
      if (at < 0) return cb();
      const prelude = JSON.parse(this.pending.subarray(0, at).toString('utf8')) as { statusCode?: number; headers?: Record<string, string> };
      this.started = true;
      this.res.writeHead(prelude.statusCode ?? 200, prelude.headers ?? {});
      this.res.flushHeaders();
      chunk = this.pending.subarray(at + 8);
      if (chunk.length === 0) return cb();
    }
    if (this.res.write(chunk)) cb();
    else this.res.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.started) {
      // The function ended without a prelude: the service answers 502, as for a crashed function.
      this.res.writeHead(502, { 'content-type': 'application/json' });
    }
    this.res.end(() => cb());
  }
}

/**
 * Lambda's concurrency model for one function: an execution environment
 * serves one invocation at a time; a request goes to an idle one (any),
 * else a new one starts (a fresh module instance: a cold start), up to the
 * function's reserved concurrency; past it, Lambda refuses the request
 * itself (429) without invoking anything.
 */
export class ExecutionEnvironments {
  private readonly idle: StreamingHandler[] = [];
  private started = 0;

  constructor(
    private readonly coldStart: () => Promise<StreamingHandler>,
    readonly cap: number,
  ) {}

  /** An environment to invoke, or undefined at the cap (the request is throttled). */
  async acquire(): Promise<StreamingHandler | undefined> {
    if (this.idle.length > 0) return this.idle.splice(Math.floor(Math.random() * this.idle.length), 1)[0];
    if (this.started >= this.cap) return undefined;
    this.started++;
    return this.coldStart();
  }

  release(env: StreamingHandler): void {
    this.idle.push(env);
  }
}

/**
 * A local stand-in for the Function URL: every request becomes one
 * invocation of the API bundle's streaming handler, with a context whose
 * time runs out after `timeoutMs` (the function's timeout; watches end
 * before it and clients re-watch). Given one handler, that one module
 * instance serves every request, concurrently; given execution
 * environments, each request takes one of its own, as Lambda does.
 */
export class FunctionUrlServer {
  private server: http.Server | undefined;
  url = '';
  invocations = 0;

  constructor(
    private readonly target: StreamingHandler | ExecutionEnvironments,
    private readonly timeoutMs = 30_000,
  ) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.invoke(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  private async invoke(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const pool = this.target instanceof ExecutionEnvironments ? this.target : undefined;
    const handler = pool ? await pool.acquire() : (this.target as StreamingHandler);
    if (!handler) {
      // What a Function URL answers when the function is at its concurrency limit.
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Message: 'Rate Exceeded.' }));
      return;
    }
    this.invocations++;
    const stream = new ResponseStream(res);
    try {
      await handler(eventFromHttp(req, body), stream, invocationContext(this.timeoutMs));
    } catch (err) {
      console.error(`function url: invocation failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    } finally {
      pool?.release(handler);
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** The one-minute EventBridge schedule, sped up: invokes each handler with a scheduled event every `everyMs`. */
export function resyncSchedule(handlers: EventHandler[], everyMs: number, log: (line: string) => void = () => {}): { stop(): Promise<void>; runs: number } {
  let busy: Promise<unknown> | undefined;
  const state = {
    runs: 0,
    async stop() {
      clearInterval(timer);
      await busy;
    },
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = Promise.all(handlers.map((h) => h(SCHEDULED_EVENT, invocationContext(60_000))))
      .then((r) => {
        state.runs++;
        log(`resync: ${JSON.stringify(r)}`);
      })
      .catch((err: Error) => console.error(`resync: ${err.message}`))
      .finally(() => (busy = undefined));
  }, everyMs);
  return state;
}

export interface ApiProcess {
  url: string;
  /** What it printed on stderr so far (the API's logs). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The API bundle's execution environments, up to `cap`, in a child process
 * (api-process.ts) that inherits this process's environment: the cloud's
 * settings as deployToEmulator set them, and AWS_ENDPOINT_URL.
 */
export async function startApiProcess(bundle: string, cap: number): Promise<ApiProcess> {
  const script = new URL('./api-process.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, bundle, String(cap)], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-1_000_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(() => reject(new Error(`the API process exited before it listened: ${err.slice(-2_000)}`)));
  });
  return {
    url,
    output: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface AgentProcess {
  nodeName: string;
  child: ChildProcess;
  output(): string;
  /** A dead host: the process is gone at once, nothing is cleaned up. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the node agent image's entrypoint as ECS would start it (the
 * bootstrap secret injected into its environment, its data directory on the
 * host), with the fake runtime and a fixed node name instead of the EC2
 * instance's.
 */
export function startAgent(
  entrypoint: string,
  opts: { server: string; nodeName: string; bootstrapSecretString: string; dataDir: string; env?: Record<string, string> },
): AgentProcess {
  const child = spawn(process.execPath, [entrypoint], {
    env: {
      PATH: process.env.PATH,
      KUMO_SERVER: opts.server,
      KUMO_BOOTSTRAP_TOKEN_SECRET: opts.bootstrapSecretString,
      // Empty: found by the entrypoint itself (ECS metadata), as on the node pool.
      ...(opts.nodeName ? { KUMO_NODE_NAME: opts.nodeName } : {}),
      KUMO_RUNTIME: 'fake',
      KUMO_DATA_DIR: opts.dataDir,
      KUMO_AGENT_PORT: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { nodeName: opts.nodeName, child, output: () => out, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** A scratch directory removed by the returned function. */
export function scratchDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
