/**
 * The controller manager in the cloud: invoked by the table's DynamoDB Stream
 * (change-log records → keys → reconciles) and by an EventBridge schedule
 * (a full resync, then compaction of the store's change log: the one place
 * the cloud compacts). Returns batchItemFailures for the stream's
 * ReportBatchItemFailures.
 */
import type { Context, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { CONTROLLER_USER, inProcessApi } from '#lib/cloud/control-plane';
import { controlPlaneFromEnv } from '#lib/cloud/config';
import { controllerReconcilers } from '#lib/controllers/index';
import type { Reconciler } from '#lib/controllers/runtime';
import { type BatchResult, handleResync, handleStreamBatch, type StreamRecord } from '#lib/controllers/stream-driver';
import type { Store } from '#lib/store/types';

interface ControllerManager {
  reconcilers: Reconciler[];
  store: Store;
}

let manager: Promise<ControllerManager> | undefined;

function start(): Promise<ControllerManager> {
  manager ??= inProcessApi(CONTROLLER_USER)
    .then(({ client, store }) => ({ reconcilers: controllerReconcilers(client, controlPlaneFromEnv()), store }))
    .catch((err: unknown) => {
      manager = undefined;
      throw err;
    });
  return manager;
}

export interface ResyncResult {
  keys: number;
  failed: number;
  /** Whether the change log was compacted (a failure is logged and left to the next schedule). */
  compacted: boolean;
}

export async function handler(event: DynamoDBStreamEvent | ScheduledEvent, context?: Context): Promise<BatchResult | ResyncResult> {
  const { reconcilers, store } = await start();
  const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
  if ('Records' in event) return handleStreamBatch(reconcilers, event.Records as StreamRecord[], { ...(remainingMs ? { remainingMs } : {}) });
  const result = await handleResync(reconcilers, { ...(remainingMs ? { remainingMs } : {}) });
  let compacted = false;
  try {
    await store.compact();
    compacted = true;
  } catch (err) {
    console.error(`kumo controllers: compaction failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ...result, compacted };
}
