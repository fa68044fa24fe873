/**
 * The controller manager in the cloud: invoked by the table's DynamoDB Stream
 * (change-log records → keys → reconciles) and by an EventBridge schedule
 * (a full resync, then compaction of the store's change log: the one place
 * the cloud compacts). Returns batchItemFailures for the stream's
 * ReportBatchItemFailures. With the node pool configured, the cloud
 * provider's reconcilers run too, and ECS container instance and Auto
 * Scaling lifecycle events resync them at once (docs/cloudprovider.md).
 * Each invocation's reconciles are published as CloudWatch metrics when
 * POWERTOOLS_METRICS_NAMESPACE is set (docs/cloud.md, "Metrics"). Log
 * records are Powertools' JSON with the Lambda request id (docs/logging.md).
 */
import type { Context, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { CONTROLLER_USER, inProcessApi } from '#lib/cloud/control-plane';
import { controlPlaneFromEnv } from '#lib/cloud/config';
import { publishingReconciles, reconcileMetricsFromEnv } from '#lib/cloud/reconcile-metrics';
import type { CloudFleet } from '#lib/cloudprovider/fleet';
import { CLOUD_PROVIDER_RECONCILERS } from '#lib/cloudprovider/index';
import { cloudProviderFromEnv } from '#lib/cloudprovider/config';
import { controllerReconcilers } from '#lib/assembly/control-plane';
import type { ReconcileObserver } from '#lib/controller-runtime/metrics';
import type { Reconciler } from '#lib/controller-runtime/reconciler';
import { type BatchResult, handleResync, handleStreamBatch, type StreamRecord } from '#lib/controller-runtime/stream-driver';
import { functionLogger } from '#lib/log/logger';
import type { Store } from '#lib/store/types';

interface ControllerManager {
  reconcilers: Reconciler[];
  store: Store;
  fleet?: CloudFleet;
}

let manager: Promise<ControllerManager> | undefined;
const metrics = reconcileMetricsFromEnv();
const logger = functionLogger('controllers');

function start(): Promise<ControllerManager> {
  manager ??= inProcessApi(CONTROLLER_USER, process.env, logger)
    .then(({ client, store }) => {
      const cloudProvider = cloudProviderFromEnv();
      return {
        reconcilers: controllerReconcilers(client, { ...controlPlaneFromEnv(), ...(cloudProvider ? { cloudProvider } : {}), logger }),
        store,
        ...(cloudProvider ? { fleet: cloudProvider.fleet } : {}),
      };
    })
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
  if (context) logger.addContext(context);
  return publishingReconciles(metrics, (observer) => handle(event, observer, context));
}

async function handle(event: DynamoDBStreamEvent | ScheduledEvent, observer: ReconcileObserver, context?: Context): Promise<BatchResult | ResyncResult> {
  const { reconcilers, store, fleet } = await start();
  const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
  const opts = { metrics: observer, logger, ...(remainingMs ? { remainingMs } : {}) };
  if ('Records' in event) return handleStreamBatch(reconcilers, event.Records as StreamRecord[], opts);
  // A fleet event (a container instance DRAINING, an instance held for termination): only the cloud provider's loops need to look.
  if (event.source === 'aws.ecs' || event.source === 'aws.autoscaling') {
    // What this container cached about the fleet is older than the event.
    fleet?.invalidate();
    return {
      ...(await handleResync(
        reconcilers.filter((r) => CLOUD_PROVIDER_RECONCILERS.includes(r.name)),
        opts,
      )),
      compacted: false,
    };
  }
  const result = await handleResync(reconcilers, opts);
  let compacted = false;
  try {
    await store.compact();
    compacted = true;
  } catch (err) {
    logger.error(`kumo controllers: compaction failed: ${err instanceof Error ? err.message : String(err)}`, { error: err });
  }
  return { ...result, compacted };
}
