/**
 * The scheduler in the cloud: invoked by the table's DynamoDB Stream (pods
 * and nodes changing) and by the resync schedule. Each invocation runs
 * holding the scheduler lease (one scheduler at a time, as kube-scheduler's
 * leader election has it) and rebuilds its cache once it holds it, since
 * other invocations bind pods too. Each
 * invocation's reconciles are published as CloudWatch metrics when
 * POWERTOOLS_METRICS_NAMESPACE is set (docs/cloud.md, "Metrics"). Log
 * records are Powertools' JSON with the Lambda request id (docs/logging.md).
 */
import type { Context, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { SCHEDULER_USER, inProcessClient } from '#lib/cloud/control-plane';
import { controlPlaneFromEnv } from '#lib/cloud/config';
import { publishingReconciles, reconcileMetricsFromEnv } from '#lib/cloud/reconcile-metrics';
import { schedulerReconciler } from '#lib/assembly/control-plane';
import type { Reconciler } from '#lib/controller-runtime/reconciler';
import { type BatchResult, handleResync, handleStreamBatch, type StreamRecord } from '#lib/controller-runtime/stream-driver';
import { functionLogger } from '#lib/log/logger';
import type { KubeClient } from '#lib/client/client';
import { invocationLock } from '#lib/scheduler/lease-lock';

let scheduler: Promise<{ client: KubeClient; reconcilers: Reconciler[] }> | undefined;
const metrics = reconcileMetricsFromEnv();
const logger = functionLogger('scheduler');

function start(): Promise<{ client: KubeClient; reconcilers: Reconciler[] }> {
  scheduler ??= inProcessClient(SCHEDULER_USER, process.env, logger)
    .then((client) => ({ client, reconcilers: [schedulerReconciler(client, { ...controlPlaneFromEnv(), logger })] }))
    .catch((err: unknown) => {
      scheduler = undefined;
      throw err;
    });
  return scheduler;
}

export async function handler(event: DynamoDBStreamEvent | ScheduledEvent, context?: Context): Promise<BatchResult | { keys: number; failed: number }> {
  if (context) logger.addContext(context);
  return publishingReconciles(metrics, async (observer) => {
    const { client, reconcilers } = await start();
    const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
    const opts = { metrics: observer, logger, ...(remainingMs ? { remainingMs } : {}) };
    return invocationLock(client, remainingMs).run<BatchResult | { keys: number; failed: number }>(() =>
      'Records' in event ? handleStreamBatch(reconcilers, event.Records as StreamRecord[], opts) : handleResync(reconcilers, opts),
    );
  });
}
