/**
 * `kumo up`: the whole control plane in one process on the embedded store.
 * The same lib code the cloud functions run, wired in-process: the API
 * server behind a loopback HTTP server, and the controllers fed by the
 * store's change feed.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bootstrap } from '../apiserver/bootstrap.js';
import { createApiHttpServer } from '../apiserver/http.js';
import { ADMIN, ApiServer } from '../apiserver/server.js';
import { KubeClient } from '../client/client.js';
import { InProcessTransport } from '../client/transport.js';
import { type ControlPlaneOptions, controllerReconcilers, schedulerReconciler } from '../controllers/index.js';
import { LocalControllerDriver } from '../controllers/local-driver.js';
import { FakeNodes, type FakeNodeOptions } from '../sim/fake-nodes.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';

export interface LocalClusterOptions {
  /** Directory for state.db (and, later, keys and volumes). */
  dataDir: string;
  /** @default 6443 */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /** Log lines go here. @default console.log */
  log?: (line: string) => void;
  /** How often the change log is compacted. @default 60 s */
  compactIntervalMs?: number;
  /** Log retention for watches. @default 10 minutes */
  retentionMs?: number;
  /** Run the controllers and the scheduler. @default true */
  controllers?: boolean;
  /** Options for the reconcilers (timings are configurable for tests). */
  controlPlane?: ControlPlaneOptions;
  /** How often every key is re-queued. @default 30 s */
  resyncIntervalMs?: number;
  /** DefaultTolerationSeconds admission for pods. @default 300 */
  defaultTolerationSeconds?: number;
  /** Simulated nodes to start (the fake runtime). @default none */
  fakeNodes?: Omit<FakeNodeOptions, 'log'>;
}

export class LocalCluster {
  readonly store: Store;
  readonly api: ApiServer;
  /** An admin client that calls the API server in-process. */
  readonly client: KubeClient;
  private http: Server | undefined;
  driver: LocalControllerDriver | undefined;
  fake: FakeNodes | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  url = '';

  constructor(private readonly opts: LocalClusterOptions) {
    this.store = new SqliteStore({ path: join(opts.dataDir, 'state.db'), ...(opts.retentionMs ? { retentionMs: opts.retentionMs } : {}) });
    this.api = new ApiServer({
      store: this.store,
      ...(opts.defaultTolerationSeconds !== undefined ? { admission: { defaultTolerationSeconds: opts.defaultTolerationSeconds } } : {}),
    });
    this.client = new KubeClient(new InProcessTransport(this.api, ADMIN));
  }

  private log(line: string): void {
    (this.opts.log ?? console.log)(line);
  }

  async start(): Promise<void> {
    await bootstrap(this.api.rest);
    this.http = createApiHttpServer(this.api);
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.opts.port ?? 6443, host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    this.url = `http://${host}:${port}`;
    const compact = setInterval(() => void this.store.compact().catch((err: Error) => this.log(`compaction failed: ${err.message}`)), this.opts.compactIntervalMs ?? 60_000);
    compact.unref();
    this.timers.push(compact);
    this.log(`kumo: API server listening on ${this.url}`);
    this.log(`kumo: state in ${join(this.opts.dataDir, 'state.db')}`);
    if (this.opts.controllers !== false) {
      const reconcilers = [...controllerReconcilers(this.client, this.opts.controlPlane), schedulerReconciler(this.client, this.opts.controlPlane)];
      this.driver = new LocalControllerDriver(this.store, reconcilers, {
        log: (l) => this.log(l),
        ...(this.opts.resyncIntervalMs ? { resyncIntervalMs: this.opts.resyncIntervalMs } : {}),
      });
      await this.driver.start();
      this.log(`kumo: controllers and scheduler running (${reconcilers.map((r) => r.name).join(', ')})`);
    }
    if (this.opts.fakeNodes && this.opts.fakeNodes.names.length > 0) {
      this.fake = new FakeNodes(this.client, { ...this.opts.fakeNodes, log: (l) => this.log(l) });
      await this.fake.start();
      this.log(`kumo: ${this.opts.fakeNodes.names.length} simulated node(s): ${this.opts.fakeNodes.names.slice(0, 5).join(', ')}${this.opts.fakeNodes.names.length > 5 ? ', ...' : ''}`);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.fake?.stop();
    await this.driver?.stop();
    if (this.http) {
      const server = this.http;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.store.close();
  }
}
