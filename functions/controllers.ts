/**
 * The controller manager in the cloud: invoked by the table's DynamoDB Stream
 * (change-log records → keys → reconciles) and by an EventBridge schedule
 * (a full resync, then compaction of the store's change log: the one place
 * the cloud compacts). Returns batchItemFailures for the stream's
 * ReportBatchItemFailures. With the node pool configured, the cloud
 * provider's reconcilers run too, and ECS container instance and Auto
 * Scaling lifecycle events resync them at once (docs/cloudprovider.md).
 * An EventBridge Scheduler one-shot schedule, armed for the earliest CronJob
 * due time after every batch that changed a CronJob and every resync,
 * invokes it with a CronJobs-due event: the CronJobs are reconciled and the
 * schedule re-armed (lib/cloud/cron-wakeup.ts).
 * Each invocation's reconciles are published as CloudWatch metrics when
 * POWERTOOLS_METRICS_NAMESPACE is set (docs/cloud.md, "Metrics"). Log
 * records are Powertools' JSON with the Lambda request id (docs/logging.md).
 */
import type { Context, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { CONTROLLER_USER, inProcessApi } from '#lib/cloud/control-plane';
import { controlPlaneFromEnv } from '#lib/cloud/config';
import { type CronWakeup, type CronWakeupEvent, cronWakeupFromEnv, isCronWakeupEvent, touchesCronJobs } from '#lib/cloud/cron-wakeup';
import { publishingReconciles, reconcileMetricsFromEnv } from '#lib/cloud/reconcile-metrics';
import type { CloudFleet } from '#lib/cloudprovider/fleet';
import { CLOUD_PROVIDER_RECONCILERS } from '#lib/cloudprovider/index';
import { cloudProviderFromEnv } from '#lib/cloudprovider/config';
import { controllerReconcilers } from '#lib/assembly/control-plane';
import { CRONJOB_CONTROLLER } from '#lib/controllers/cronjob';
import type { ReconcileObserver } from '#lib/controller-runtime/metrics';
import type { Reconciler } from '#lib/controller-runtime/reconciler';
import { type BatchResult, handleResync, handleStreamBatch, type StreamRecord } from '#lib/controller-runtime/stream-driver';
import type { KindRegistry } from '#lib/kinds/index';
import { functionLogger } from '#lib/log/logger';
import { resourceOfLogPk } from '#lib/store/dynamodb-table';
import type { Store } from '#lib/store/types';

interface ControllerManager {
  reconcilers: Reconciler[];
  store: Store;
  /** The kinds the reconcilers follow (the in-process API server's). */
  kinds: KindRegistry;
  /** Brings them up to date with the stored CRDs: within the TTL (one revision read when nothing changed), or at once when `now`. */
  syncKinds: (now?: boolean) => Promise<void>;
  fleet?: CloudFleet;
  wakeup?: CronWakeup;
}

let manager: Promise<ControllerManager> | undefined;
const metrics = reconcileMetricsFromEnv();
const logger = functionLogger('controllers');

function start(): Promise<ControllerManager> {
  manager ??= inProcessApi(CONTROLLER_USER, process.env, logger)
    .then(({ client, store, kinds, syncKinds }) => {
      const cloudProvider = cloudProviderFromEnv();
      const wakeup = cronWakeupFromEnv(client);
      return {
        ...(wakeup ? { wakeup } : {}),
        // The in-process API server's kinds: the garbage collector follows the custom resources it learns.
        reconcilers: controllerReconcilers(client, { ...controlPlaneFromEnv(), ...(cloudProvider ? { cloudProvider } : {}), logger, kinds }),
        store,
        kinds,
        syncKinds,
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

export async function handler(event: DynamoDBStreamEvent | ScheduledEvent | CronWakeupEvent, context?: Context): Promise<BatchResult | ResyncResult> {
  if (context) logger.addContext(context);
  return publishingReconciles(metrics, (observer) => handle(event, observer, context));
}

async function handle(
  event: DynamoDBStreamEvent | ScheduledEvent | CronWakeupEvent,
  observer: ReconcileObserver,
  context?: Context,
): Promise<BatchResult | ResyncResult> {
  const { reconcilers, store, kinds, syncKinds, fleet, wakeup } = await start();
  // A batch may carry changes of a custom resource served since this container last looked: the CRDs are read
  // at once then (else within their TTL), so that the garbage collector watches its kind for this very batch.
  const records = 'Records' in event ? (event.Records as StreamRecord[]) : [];
  await syncKinds(records.some((r) => unknownResource(kinds, r)));
  const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
  const opts = { metrics: observer, logger, ...(remainingMs ? { remainingMs } : {}) };
  // The schedule invokes this very function (its ARN is known only here: the stack cannot name a function in its own environment).
  const arm = async (force = false) => {
    if (!wakeup || !context) return;
    try {
      await wakeup.arm(context.invokedFunctionArn, { force });
    } catch (err) {
      // The resync re-arms within a minute; the batch itself succeeded.
      logger.error(`kumo controllers: arming the CronJobs' wake-up failed: ${err instanceof Error ? err.message : String(err)}`, { error: err });
    }
  };
  if ('Records' in event) {
    const result = await handleStreamBatch(reconcilers, records, opts);
    if (touchesCronJobs(records)) await arm();
    return result;
  }
  if (isCronWakeupEvent(event)) {
    const result = await handleResync(
      reconcilers.filter((r) => r.name === CRONJOB_CONTROLLER),
      opts,
    );
    await arm(true);
    return { ...result, compacted: false };
  }
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
  await arm();
  let compacted = false;
  try {
    await store.compact();
    compacted = true;
  } catch (err) {
    logger.error(`kumo controllers: compaction failed: ${err instanceof Error ? err.message : String(err)}`, { error: err });
  }
  return { ...result, compacted };
}

/**
 * Whether a record is a change-log entry of a resource the registry does not
 * serve (yet), read off its partition key: the data is decoded once, by the
 * stream driver (which also logs and skips what it cannot decode).
 */
function unknownResource(kinds: KindRegistry, record: StreamRecord): boolean {
  if (record.eventName !== 'INSERT') return false;
  const resource = resourceOfLogPk((record.dynamodb?.NewImage?.pk as { S?: string } | undefined)?.S);
  return resource !== undefined && kinds.byStoreKey(resource) === undefined;
}
