/**
 * Which control loops run, assembled in one place for `kumo up` (lib/local) and
 * for the cloud functions: the controller-manager's reconcilers (with the cloud
 * provider's where a fleet is configured) and the scheduler. It stands above
 * the controllers, the scheduler and the cloud provider, which never import it.
 */
import type { ResourceRegistry } from '../api/registry.js';
import { BUILTIN, POD_DISRUPTION_BUDGETS } from '../kinds/resources.js';
import type { KubeClient } from '../client/client.js';
import type { Logger } from '../log/logger.js';
import { cloudProviderReconcilers, type CloudProviderOptions } from '../cloudprovider/index.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { budgetFilter } from '../scheduler/preemption.js';
import type { PodDisruptionBudget } from '../api/policy/v1/poddisruptionbudget.js';
import type { KObject } from '../api/object.js';
import { type Clock, systemClock } from '../util/clock.js';
import { ClusterRoleAggregationController } from '../controllers/clusterrole-aggregation.js';
import { CronJobController } from '../controllers/cronjob.js';
import { DaemonSetController } from '../controllers/daemonset.js';
import { DeploymentController } from '../controllers/deployment.js';
import { EndpointsController } from '../controllers/endpoints.js';
import { VolumeController, type VolumeControllerOptions } from '../controllers/volumes.js';
import { EventGarbageCollector } from '../controllers/eventgc.js';
import { HorizontalController, type HorizontalControllerOptions } from '../controllers/podautoscaler/horizontal.js';
import { EventRecorder } from '../client/events.js';
import { GarbageCollector } from '../controllers/gc.js';
import { JobController, type JobControllerOptions } from '../controllers/job.js';
import { NamespaceController } from '../controllers/namespace.js';
import { OwnerIndex } from '../controllers/owner-index.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from '../controllers/nodelifecycle.js';
import { PodGarbageCollector } from '../controllers/podgc.js';
import { StatefulSetController } from '../controllers/statefulset.js';
import { ReplicaSetController, REPLICATION_CONTROLLER_SETS } from '../controllers/replicaset.js';
import { DisruptionController } from '../controllers/disruption.js';
import { ResourceQuotaController, type ResourceQuotaControllerOptions } from '../controllers/resourcequota.js';
import { RootCACertPublisher, ServiceAccountsController } from '../controllers/serviceaccounts.js';
import type { Reconciler } from '../controller-runtime/reconciler.js';

export interface ControlPlaneOptions {
  clock?: Clock;
  nodeLifecycle?: NodeLifecycleOptions;
  job?: JobControllerOptions;
  /** The HorizontalPodAutoscaler controller (its sync period is configurable for tests). */
  podAutoscaler?: HorizontalControllerOptions;
  /** The resource quota controller (its full recount period). */
  resourceQuota?: ResourceQuotaControllerOptions;
  /** Event TTL. @default 1 hour */
  eventTtlMs?: number;
  /** The persistent volume controller (kumo up gives it a local-path root to provision under). */
  volumes?: VolumeControllerOptions;
  /** The cloud provider's reconcilers over an ECS/EC2/Auto Scaling fleet (the cloud functions; none locally). */
  cloudProvider?: CloudProviderOptions;
  /** Where the Events that cannot be written are logged. @default defaultLogger() */
  logger?: Logger;
  /**
   * The kinds the garbage collector, its owner index and the namespace
   * controller act on: the API server's registry, so that kinds it adds at
   * run time (custom resources) are collected too. @default the built-in kinds
   */
  kinds?: ResourceRegistry;
  /**
   * The CA (PEM) in-cluster clients must trust to reach the API server,
   * published in every namespace as the `kube-root-ca.crt` ConfigMap:
   * `kumo up`'s CA; in the cloud, the CA of the node proxy's TLS to pods.
   * @default none: no kube-root-ca.crt ConfigMap is published
   */
  rootCaPem?: string;
}

/** The controller-manager's reconcilers (everything but the scheduler). */
export function controllerReconcilers(client: KubeClient, opts: ControlPlaneOptions = {}): Reconciler[] {
  const clock = opts.clock ?? systemClock;
  // Events are written in the background: off the reconcilers' critical path (stream drivers flush them before returning).
  const recorder = (component: string) => new EventRecorder(client, component, clock, undefined, { background: true, logger: opts.logger });
  // One index of owned objects shared by the controllers that read dependents (fed once per change by the driver).
  const kinds = opts.kinds ?? BUILTIN;
  const index = new OwnerIndex(client, kinds);
  return [
    new ReplicaSetController(client, recorder('replicaset-controller'), clock, index),
    new ReplicaSetController(client, recorder('replication-controller'), clock, index, REPLICATION_CONTROLLER_SETS),
    new DisruptionController(client, recorder('controllermanager'), kinds, clock, index),
    new ResourceQuotaController(client, kinds, clock, index, opts.resourceQuota),
    new DeploymentController(client, recorder('deployment-controller'), clock),
    new StatefulSetController(client, recorder('statefulset-controller'), clock, index),
    new DaemonSetController(client, recorder('daemonset-controller'), { clock, index }),
    new JobController(client, recorder('job-controller'), clock, opts.job, index),
    new CronJobController(client, recorder('cronjob-controller'), clock),
    new GarbageCollector(client, kinds, index),
    new NamespaceController(client, kinds),
    new NodeLifecycleController(client, recorder('node-controller'), clock, opts.nodeLifecycle),
    new PodGarbageCollector(client, index),
    new EventGarbageCollector(client, clock, opts.eventTtlMs),
    new EndpointsController(client),
    new VolumeController(client, recorder('persistentvolume-controller'), opts.volumes),
    new HorizontalController(client, recorder('horizontal-pod-autoscaler'), clock, opts.podAutoscaler),
    new ServiceAccountsController(client),
    ...(opts.rootCaPem ? [new RootCACertPublisher(client, opts.rootCaPem)] : []),
    new ClusterRoleAggregationController(client),
    ...(opts.cloudProvider ? cloudProviderReconcilers(client, recorder, opts.cloudProvider, clock) : []),
  ];
}

export function schedulerReconciler(client: KubeClient, opts: ControlPlaneOptions = {}): Scheduler {
  const clock = opts.clock ?? systemClock;
  const recorder = new EventRecorder(client, 'default-scheduler', clock, undefined, { background: true, logger: opts.logger });
  // Preemption respects PodDisruptionBudgets where it can (kube's filterPodsWithPDBViolation), read afresh on each preemption (rare).
  const budgets = async () => budgetFilter((await client.listAll<PodDisruptionBudget & KObject>(POD_DISRUPTION_BUDGETS, undefined)).items);
  return new Scheduler(client, recorder, clock, budgets);
}
