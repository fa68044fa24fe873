/**
 * Runs reconcilers in one process (`kumo up`): the embedded store's change
 * feed is turned into keys on one work queue per reconciler, and a periodic
 * resync re-queues every key. The cloud runs the same reconcilers from
 * DynamoDB Stream batches instead (stream-driver.ts).
 */
import { setMaxListeners } from 'node:events';
import { defaultLogger, type Logger } from '../log/logger.js';
import { CompactedError, type Store } from '../store/types.js';
import { NODES, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { flushEvents } from '../client/events.js';
import { type ControllerMetrics, observedReconcile } from './metrics.js';
import { cachesOf, type ChangeEvent, keysFor, type Reconciler, type SharedCache } from './reconciler.js';
import { WorkQueue } from './workqueue.js';
import { sleep } from '../util/sleep.js';

export interface LocalDriverOptions {
  /** Workers per reconciler. @default 4 (1 for the scheduler, whose decisions must be serial) */
  workers?: Partial<Record<string, number>>;
  /** How often every key is re-queued. @default 30 s */
  resyncIntervalMs?: number;
  /** Where failed reconciles and feeds are logged. @default defaultLogger() */
  logger?: Logger;
  /** Where reconciles and queues are counted. @default nowhere */
  metrics?: ControllerMetrics;
}

export class LocalControllerDriver {
  private readonly queues = new Map<Reconciler, WorkQueue>();
  private readonly abort = new AbortController();
  private readonly pumps: Promise<void>[] = [];
  /** The resources whose feed is pumped. */
  private readonly pumped = new Set<string>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly caches: SharedCache[];

  constructor(
    private readonly store: Store,
    private readonly reconcilers: Reconciler[],
    private readonly opts: LocalDriverOptions = {},
  ) {
    this.caches = cachesOf(reconcilers);
    // One signal ends every feed: many waiters on it at once are expected.
    setMaxListeners(0, this.abort.signal);
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  async start(): Promise<void> {
    for (const r of this.reconcilers) {
      const workers = this.opts.workers?.[r.name] ?? (r.name === 'scheduler' ? 1 : 4);
      const metrics = this.opts.metrics;
      const queue: WorkQueue = new WorkQueue((key) => observedReconcile(r, key, metrics), {
        workers,
        ...(r.coalesceMs ? { minIntervalMs: r.coalesceMs } : {}),
        ...(r.compareKeys ? { order: (a: string, b: string) => r.compareKeys!(a, b) } : {}),
        onError: (key, err) => this.logger.error(`kumo ${r.name}: reconcile ${key} failed: ${err instanceof Error ? err.message : String(err)}`),
        ...(metrics ? { metrics: metrics.controller(r.name, () => queue.length) } : {}),
      });
      this.queues.set(r, queue);
    }
    const resources = new Set<string>([storeResource(PODS), storeResource(NODES), ...this.followed()]);
    const starts = new Map<string, number>();
    for (const resource of resources) starts.set(resource, await this.store.currentRevision(resource));
    // Loaded after the feed's start positions were taken: the feed replays from there, and caches skip what their loads already hold.
    await this.prime();
    for (const [resource, from] of starts) this.startPump(resource, from);
    for (const q of this.queues.values()) q.start();
    await this.resync();
    const interval = this.opts.resyncIntervalMs ?? 30_000;
    this.resyncTimer = setInterval(() => void this.resync(), interval);
    this.resyncTimer.unref();
  }

  /** The resources the reconcilers watch and the caches follow now (a garbage collector's grow with the kinds served). */
  private followed(): Set<string> {
    const resources = new Set<string>();
    for (const r of this.reconcilers) for (const w of r.watches) resources.add(w.resource);
    for (const c of this.caches) for (const resource of c.resources) resources.add(resource);
    return resources;
  }

  private startPump(resource: string, from: number): void {
    this.pumped.add(resource);
    this.pumps.push(this.pump(resource, from));
  }

  /**
   * Pumps the feed of every resource followed since the last look (a kind
   * registered while running: a custom resource), from the start of its
   * retained history, so that its changes since it was first served reach
   * the reconcilers; history compacted away makes the pump resync.
   */
  private followNew(): void {
    if (this.abort.signal.aborted) return;
    for (const resource of this.followed()) if (!this.pumped.has(resource)) this.startPump(resource, 0);
  }

  /** Re-queues every key of every reconciler (repairs anything a lost hint missed). */
  async resync(): Promise<void> {
    this.followNew();
    for (const [r, q] of this.queues) {
      try {
        for (const key of await r.listKeys()) q.add(key);
      } catch (err) {
        if (!this.abort.signal.aborted) this.logger.error(`kumo ${r.name}: resync failed: ${(err as Error).message}`);
      }
    }
  }

  /** Resolves once every queue is empty (tests and benchmarks use this to wait for quiet). */
  async idle(): Promise<void> {
    for (let round = 0; round < 3; round++) await Promise.all([...this.queues.values()].map((q) => q.idle()));
  }

  private async prime(): Promise<void> {
    for (const c of this.caches) await c.prime();
    for (const r of this.reconcilers) await r.prime?.();
  }

  async dispatch(event: ChangeEvent): Promise<void> {
    for (const c of this.caches) c.observe(event);
    for (const r of this.reconcilers) r.observe?.(event);
    for (const { reconciler, key } of await keysFor(this.reconcilers, event)) this.queues.get(reconciler)?.add(key);
    this.followNew();
  }

  private async pump(resource: string, from: number): Promise<void> {
    let position = from;
    while (!this.abort.signal.aborted) {
      try {
        for await (const e of this.store.watch(resource, { fromRevision: position, signal: this.abort.signal })) {
          position = e.revision;
          await this.dispatch({ resource, type: e.type, object: e.object, ...(e.prev ? { prev: e.prev } : {}) }).catch((err: Error) =>
            this.logger.error(`kumo controllers: routing a ${resource} change failed: ${err.message}`),
          );
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (err instanceof CompactedError) {
          // Fell behind the log: rebuild caches and resync everything from now on.
          position = await this.store.currentRevision(resource);
          await this.prime();
          await this.resync();
          continue;
        }
        this.logger.warn(`kumo controllers: ${resource} feed failed: ${(err as Error).message}; restarting`);
        await sleep(500);
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
    await Promise.allSettled(this.pumps);
    // Events recorded in the background are written before the store underneath can close.
    await flushEvents();
  }
}
