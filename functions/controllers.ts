/**
 * The controller manager in the cloud: invoked by the table's DynamoDB Stream
 * (change-log records → keys → reconciles) and by an EventBridge schedule
 * (a full resync). Returns batchItemFailures for the stream's
 * ReportBatchItemFailures.
 */
import type { Context, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { CONTROLLER_USER, inProcessClient } from '#lib/cloud/control-plane';
import { controlPlaneFromEnv } from '#lib/cloud/config';
import { controllerReconcilers } from '#lib/controllers/index';
import type { Reconciler } from '#lib/controllers/runtime';
import { type BatchResult, handleResync, handleStreamBatch, type StreamRecord } from '#lib/controllers/stream-driver';

let reconcilers: Promise<Reconciler[]> | undefined;

function start(): Promise<Reconciler[]> {
  reconcilers ??= inProcessClient(CONTROLLER_USER)
    .then((client) => controllerReconcilers(client, controlPlaneFromEnv()))
    .catch((err: unknown) => {
      reconcilers = undefined;
      throw err;
    });
  return reconcilers;
}

export async function handler(event: DynamoDBStreamEvent | ScheduledEvent, context?: Context): Promise<BatchResult | { keys: number; failed: number }> {
  const rs = await start();
  const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
  if ('Records' in event) return handleStreamBatch(rs, event.Records as StreamRecord[], { ...(remainingMs ? { remainingMs } : {}) });
  return handleResync(rs, { ...(remainingMs ? { remainingMs } : {}) });
}
