/**
 * kumo's cloud control plane on the emulator, in this process: the deployed
 * function modules themselves (functions/api.ts behind Function URL events,
 * functions/controllers.ts and functions/scheduler.ts fed by the table's
 * stream through the stack's own filters, plus the scheduled resync), each a
 * fresh module instance per plane, on a fresh moto (its transactions slow
 * down with everything it has stored). Every invocation is counted and
 * timed, and every DynamoDB request is metered (bench/lib/meter.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KubeClient } from '#lib/client/client';
import { CONTROLLER_FILTERS, passesFilters, SCHEDULER_FILTERS } from '#lib/cloud/stream-filters';
import { FakeNodes, type FakeNodeOptions } from '#lib/sim/fake-nodes';
import { type Emulator, startEmulator } from '#lib/sim/emulator';
import { type StreamHandler, StreamPoller } from '#lib/sim/stream-poller';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { LambdaTransport } from './lambda-transport.js';
import { CapacityMeter } from './meter.js';
import { silentLogger } from '#lib/log/logger';

const here = dirname(fileURLToPath(import.meta.url));
let instances = 0;

/** Per function: invocations and their summed wall time (on the emulator). */
export interface FunctionUsage {
  invocations: number;
  ms: number;
  /** Of which: watch requests (long-polls) and their time. */
  watches: number;
  watchMs: number;
}

export function emptyFunctionUsage(): FunctionUsage {
  return { invocations: 0, ms: 0, watches: 0, watchMs: 0 };
}

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

async function freshHandler(name: string, exportName = 'handler'): Promise<Handler> {
  const url = `${pathToFileURL(join(here, '..', '..', 'functions', `${name}.js`)).href}?bench=${++instances}`;
  const mod = (await import(url)) as Record<string, Handler>;
  return mod[exportName]!;
}

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as unknown as ScheduledEvent;

export interface CloudPlaneOptions {
  /** Seconds a buffered watch is held open (functions/api.ts KUMO_WATCH_POLL_SECONDS). @default 10 */
  watchPollSeconds?: number;
  /** Run the scheduled resync this often (the stack: every minute). @default none */
  resyncMs?: number;
  /** Simulated nodes, talking to the API through its Lambda front door. */
  fakeNodes?: Omit<FakeNodeOptions, 'log'>;
  /** Extra environment for the functions (e.g. KUMO_NODE_GRACE_SECONDS). */
  env?: Record<string, string>;
  /** Feed the controller and scheduler functions from the stream. @default true */
  controlLoops?: boolean;
}

export class CloudPlane {
  readonly meter = new CapacityMeter();
  readonly usage = new Map<string, FunctionUsage>();
  fake: FakeNodes | undefined;
  private poller: StreamPoller | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<unknown> | undefined;
  private restoreEnv: (() => void) | undefined;
  private api!: Handler;
  private controllers!: Handler;
  private scheduler!: Handler;
  private constructor(
    private readonly emulator: Emulator,
    readonly tableName: string,
  ) {}

  static async start(opts: CloudPlaneOptions = {}): Promise<CloudPlane> {
    const meter = new CapacityMeter();
    const emulator = await startEmulator({ observe: (ex) => meter.observe(ex) });
    const tableName = `kumo-bench-${randomUUID()}`;
    const plane = new CloudPlane(emulator, tableName);
    Object.assign(plane, { meter });
    try {
      const ddb = new DynamoDBClient({});
      await createStoreTable(ddb, tableName);
      ddb.destroy();
      const env: Record<string, string> = {
        KUMO_TABLE: tableName,
        KUMO_AUTH: 'none',
        KUMO_WATCH_POLL_SECONDS: String(opts.watchPollSeconds ?? 10),
        ...(opts.env ?? {}),
      };
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      plane.restoreEnv = () => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      };
      plane.api = await freshHandler('api');
      plane.controllers = await freshHandler('controllers');
      plane.scheduler = await freshHandler('scheduler');
      const timed =
        (name: string, h: Handler): StreamHandler =>
        (event: DynamoDBStreamEvent) =>
          h(event);
      plane.poller = new StreamPoller(
        tableName,
        [
          { name: 'controllers', instances: [timed('controllers', plane.controllers)], filter: (r) => passesFilters(CONTROLLER_FILTERS, r) },
          { name: 'scheduler', instances: [timed('scheduler', plane.scheduler)], filter: (r) => passesFilters(SCHEDULER_FILTERS, r) },
        ],
        {},
        Math.random,
        (inv) => plane.count(inv.consumer, inv.ms, false),
        250,
      );
      if (opts.controlLoops !== false) await plane.poller.start();
      else plane.poller = undefined;
      if (opts.resyncMs) plane.resyncTimer = setInterval(() => void plane.resync(), opts.resyncMs);
      if (opts.fakeNodes) {
        plane.fake = new FakeNodes(plane.client('kumo-sim'), { ...opts.fakeNodes, logger: silentLogger });
        await plane.fake.start();
      }
      return plane;
    } catch (err) {
      await plane.stop();
      throw err;
    }
  }

  count(fn: string, ms: number, watch: boolean): void {
    let u = this.usage.get(fn);
    if (!u) this.usage.set(fn, (u = emptyFunctionUsage()));
    u.invocations++;
    u.ms += ms;
    if (watch) {
      u.watches++;
      u.watchMs += ms;
    }
  }

  /** A client whose every request is one invocation of the API function. */
  client(userAgent = 'kubectl/v1.35.0'): KubeClient {
    const invoke = async (event: APIGatewayProxyEventV2) => {
      const t0 = performance.now();
      try {
        return (await this.api(event, { getRemainingTimeInMillis: () => 900_000 })) as APIGatewayProxyStructuredResultV2;
      } finally {
        this.count('api', performance.now() - t0, event.rawQueryString.includes('watch=true'));
      }
    };
    return new KubeClient(new LambdaTransport(invoke, { userAgent }));
  }

  /** One scheduled resync of both stream consumers (the stack's EventBridge rule). */
  async resync(): Promise<void> {
    if (this.resyncing) return;
    const run = async (name: string, h: Handler) => {
      const t0 = performance.now();
      try {
        await h(scheduled);
      } finally {
        this.count(`${name} (resync)`, performance.now() - t0, false);
      }
    };
    this.resyncing = Promise.all([run('controllers', this.controllers), run('scheduler', this.scheduler)]).catch(() => undefined);
    await this.resyncing;
    this.resyncing = undefined;
  }

  /**
   * Run the scheduled resync every `ms` from now on (the stack: every minute) until the returned function is called.
   * Without it, a reconcile that asks to be requeued later than the stream driver retries inline waits forever.
   */
  resyncEvery(ms: number): () => void {
    const timer = setInterval(() => void this.resync(), ms);
    return () => clearInterval(timer);
  }

  /** Scheduled resyncs run so far (each: one invocation of both stream consumers). */
  get resyncs(): number {
    return this.usage.get('controllers (resync)')?.invocations ?? 0;
  }

  /** Stream records read so far. */
  get streamRecords(): number {
    return this.poller?.recordsRead ?? 0;
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.resyncing;
    await this.fake?.stop();
    await this.poller?.stop();
    this.restoreEnv?.();
    await this.emulator.stop();
  }
}
