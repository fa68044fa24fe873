/**
 * Runs reconcilers from DynamoDB Stream batches (the cloud): each change-log
 * record the store wrote becomes a change event, events become distinct keys,
 * and each key is reconciled once per batch. Delivery is at-least-once,
 * batches may repeat, arrive out of order or in parallel: reconcilers only
 * take hints from them and act through conditional writes. A scheduled resync
 * re-queues every key, which repairs anything a lost batch missed.
 *
 * Failures are reported per record (Lambda's ReportBatchItemFailures): the
 * earliest record whose key failed is returned, so Lambda retries from there.
 */
import type { KObject } from '../api/object.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { decodeLogImage, type StreamImage } from '../store/dynamodb-table.js';
import { flushEvents } from '../client/events.js';
import { observedReconcile, type ReconcileObserver } from './metrics.js';
import { cachesOf, type ChangeEvent, inReconcileOrder, keysFor, type Reconciler } from './reconciler.js';
import { sleep } from '../util/sleep.js';

/** The parts of a Lambda DynamoDBStreamEvent record this driver reads. */
export interface StreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  dynamodb?: {
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    SequenceNumber?: string;
  };
}

export interface BatchResult {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface DriverOptions {
  /** Requeues shorter than this are retried within the invocation. @default 2 s */
  inlineRequeueMaxMs?: number;
  /** Stop retrying inline when less than this remains of the invocation. @default 5 s */
  reserveMs?: number;
  /** Milliseconds left in the invocation (Lambda context.getRemainingTimeInMillis). */
  remainingMs?: () => number;
  /** Keys reconciled at once. @default 8 */
  concurrency?: number;
  /** Where failed reconciles and undecodable records are logged. @default defaultLogger() */
  logger?: Logger;
  /** Told of every reconcile (the function publishes the invocation's figures). @default nobody */
  metrics?: ReconcileObserver;
}

/** The change event a stream record carries, if it is a change-log entry of the store. */
export function changeOf(record: StreamRecord): ChangeEvent | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const decoded = decodeLogImage(record.dynamodb.NewImage as StreamImage);
  if (!decoded) return undefined;
  return { resource: decoded.resource, type: decoded.type, object: decoded.object as KObject, ...(decoded.prev ? { prev: decoded.prev } : {}) };
}

interface Work {
  reconciler: Reconciler;
  key: string;
  records: StreamRecord[];
}

async function runAll<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/**
 * Reconciles `key` until it needs nothing more soon: requeues short enough to
 * fit the invocation are retried inline; longer ones are left to the resync.
 */
async function reconcileKey(reconciler: Reconciler, key: string, opts: DriverOptions): Promise<void> {
  const maxInline = opts.inlineRequeueMaxMs ?? 2_000;
  const reserve = opts.reserveMs ?? 5_000;
  for (let round = 0; round < 50; round++) {
    const result = await observedReconcile(reconciler, key, opts.metrics);
    const after = result?.requeueAfterMs;
    if (after === undefined || after > maxInline) return;
    if (opts.remainingMs && opts.remainingMs() - after < reserve) return;
    await sleep(after);
  }
}

export async function handleStreamBatch(reconcilers: Reconciler[], records: StreamRecord[], opts: DriverOptions = {}): Promise<BatchResult> {
  const work = new Map<string, Work>();
  const failed = new Set<StreamRecord>();
  for (const record of records) {
    let event: ChangeEvent | undefined;
    try {
      event = changeOf(record);
    } catch (err) {
      // An image we cannot decode will not decode on retry either: log it and move on.
      (opts.logger ?? defaultLogger()).error(`kumo stream: undecodable record ${record.eventID ?? '?'}: ${(err as Error).message}`);
      continue;
    }
    if (!event) continue;
    for (const { reconciler, key } of await keysFor(reconcilers, event)) {
      const id = `${reconciler.name}\0${key}`;
      const w = work.get(id) ?? { reconciler, key, records: [] };
      w.records.push(record);
      work.set(id, w);
    }
  }
  if (work.size === 0) return { batchItemFailures: [] };
  // Caches are rebuilt from a fresh read: newer than every event in the batch, so the events themselves are not applied to them.
  const involved = [...new Set([...work.values()].map((w) => w.reconciler))];
  for (const c of cachesOf(involved)) c.invalidate();
  for (const r of involved) await r.prime?.();
  // Each reconciler's keys start in its order (the scheduler's: by priority), reconcilers in order of first mention.
  const ordered = involved.flatMap((r) => {
    const mine = new Map([...work.values()].filter((w) => w.reconciler === r).map((w) => [w.key, w]));
    return inReconcileOrder(r, [...mine.keys()]).map((k) => mine.get(k)!);
  });
  await runAll(ordered, opts.concurrency ?? 8, async (w) => {
    try {
      await reconcileKey(w.reconciler, w.key, opts);
    } catch (err) {
      (opts.logger ?? defaultLogger()).error(`kumo ${w.reconciler.name}: reconcile ${w.key} failed: ${(err as Error).message}`);
      for (const r of w.records) failed.add(r);
    }
  });
  // Events recorded in the background must be written before the invocation ends (a frozen container writes nothing).
  await flushEvents();
  // Lambda retries from the earliest failed record; everything after it comes again too, which level-triggered reconcilers absorb.
  const first = records.find((r) => failed.has(r));
  const id = first?.dynamodb?.SequenceNumber;
  return { batchItemFailures: id ? [{ itemIdentifier: id }] : [] };
}

/** The scheduled resync: every key of every reconciler, reconciled once. Returns how many keys failed. */
export async function handleResync(reconcilers: Reconciler[], opts: DriverOptions = {}): Promise<{ keys: number; failed: number }> {
  let keys = 0;
  let failed = 0;
  for (const c of cachesOf(reconcilers)) c.invalidate();
  for (const r of reconcilers) {
    await r.prime?.();
    const all = inReconcileOrder(r, await r.listKeys());
    keys += all.length;
    await runAll(all, opts.concurrency ?? 8, async (key) => {
      try {
        await reconcileKey(r, key, opts);
      } catch (err) {
        failed++;
        (opts.logger ?? defaultLogger()).error(`kumo ${r.name}: resync of ${key} failed: ${(err as Error).message}`);
      }
    });
  }
  await flushEvents();
  return { keys, failed };
}
