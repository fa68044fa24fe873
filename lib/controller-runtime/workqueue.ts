/**
 * A deduplicating work queue with per-key exclusivity and backoff, after
 * client-go's rate-limited workqueue: a key queued many times is processed
 * once; a key being processed is never handed to a second worker at the same
 * time (if it is queued meanwhile, it runs again afterwards); failures retry
 * with exponential backoff per key. Keys are handed out first in, first out,
 * or in the reconciler's order where it has one (the scheduler's priority
 * queue), first in first out among equals.
 */
import { Heap } from 'heap-js';

/** What a queue reports (client-go's workqueue adds and retries). */
export interface WorkQueueMetrics {
  /** A key became pending: queued, or marked to run again after the run in progress. */
  added(): void;
  /** A key failed and was queued again after a backoff. */
  retried(): void;
}

export interface WorkQueueOptions {
  /** Parallel workers. @default 4 */
  workers?: number;
  /**
   * A key is not started again within this long of its last start: changes
   * arriving meanwhile are handled by one later run (the first change after a
   * quiet spell still runs at once). Bounds how often a busy key (a
   * ReplicaSet whose thousand pods all change) is reconciled. @default 0
   */
  minIntervalMs?: number;
  /** First retry delay after a failure. @default 50 ms */
  baseBackoffMs?: number;
  /** Longest retry delay. @default 30 s */
  maxBackoffMs?: number;
  onError?: (key: string, err: unknown) => void;
  metrics?: WorkQueueMetrics;
  /** Which of two queued keys goes first (negative: `a`); equals go in the order they were queued. @default first in, first out */
  order?: (a: string, b: string) => number;
}

interface Queued {
  key: string;
  /** When it was queued, as a count: the tie-break. */
  seq: number;
}

export class WorkQueue {
  private readonly queue: Heap<Queued>;
  private seq = 0;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys queued again while being processed. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  /** Keys held back by minIntervalMs: counted as pending work, unlike requeues and backoffs. */
  private readonly deferred = new Set<string>();
  /** When each key last started (kept only while it matters: minIntervalMs). */
  private readonly lastStart = new Map<string, number>();
  private waiting: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly workers: Promise<void>[] = [];

  constructor(
    private readonly process: (key: string) => Promise<{ requeueAfterMs?: number } | void>,
    private readonly opts: WorkQueueOptions = {},
  ) {
    const order = opts.order;
    this.queue = new Heap<Queued>(order ? (a, b) => order(a.key, b.key) || a.seq - b.seq : (a, b) => a.seq - b.seq);
  }

  start(): void {
    for (let i = 0; i < (this.opts.workers ?? 4); i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.deferred.clear();
    for (const w of this.waiting) w();
    this.waiting = [];
    await Promise.all(this.workers);
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      if (!this.dirty.has(key)) this.opts.metrics?.added();
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const min = this.opts.minIntervalMs ?? 0;
    if (min > 0) {
      const last = this.lastStart.get(key);
      const wait = last === undefined ? 0 : last + min - performance.now();
      if (wait > 0) {
        this.deferred.add(key);
        this.schedule(key, wait);
        return;
      }
    }
    this.queued.add(key);
    this.queue.push({ key, seq: this.seq++ });
    this.opts.metrics?.added();
    this.waiting.shift()?.();
  }

  /** Adds the key after `ms`; when the key is already due earlier, the earlier time stands (reconciling early is harmless). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    this.schedule(key, ms);
  }

  private schedule(key: string, ms: number): void {
    const at = performance.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.deferred.delete(key);
      this.add(key);
      this.notifyIdle();
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, at });
  }

  /** Number of keys waiting, held back by minIntervalMs, or in progress (requeues and backoffs excluded). */
  get depth(): number {
    return this.queue.length + this.processing.size + this.deferred.size;
  }

  /** Keys queued and not yet handed to a worker (client-go's Len, reported as workqueue_depth). */
  get length(): number {
    return this.queue.length;
  }

  /** Resolves when no key is queued or being processed. */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    if (this.depth !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private noteStart(key: string): void {
    const now = performance.now();
    if (this.lastStart.size > 10_000) {
      for (const [k, t] of this.lastStart) if (now - t > this.opts.minIntervalMs!) this.lastStart.delete(k);
    }
    this.lastStart.set(key, now);
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped) {
      const key = this.queue.pop()?.key;
      if (key !== undefined) {
        this.queued.delete(key);
        return key;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    return undefined;
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      this.processing.add(key);
      if (this.opts.minIntervalMs) this.noteStart(key);
      try {
        const result = await this.process(key);
        this.failures.delete(key);
        if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        this.opts.onError?.(key, err);
        this.opts.metrics?.retried();
        const delay = Math.min((this.opts.baseBackoffMs ?? 50) * 2 ** (n - 1), this.opts.maxBackoffMs ?? 30_000);
        this.addAfter(key, delay);
      } finally {
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        this.notifyIdle();
      }
    }
  }
}
