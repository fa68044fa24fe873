/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods that match the
 * selector, adopting matching orphans and releasing pods that stop matching,
 * and reports what it sees in status. The same controller, given
 * REPLICATION_CONTROLLER_SETS, is kube's replication manager: a
 * ReplicationController differs only in its selector, a label map.
 */
import type { ReplicaSet } from '../api/apps/v1/replicaset.js';
import type { Pod } from '../api/core/v1/pod.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KObject } from '../api/object.js';
import type { ReplicationController } from '../api/core/v1/replicationcontroller.js';
import type { LabelSelector } from '../api/meta/v1/label-selector.js';
import type { ResourceType } from '../api/registry.js';
import { PODS, REPLICASETS, REPLICATION_CONTROLLERS } from '../kinds/resources.js';
import { StatusError, isConflict, isNotFound } from '../api/errors.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { Recorder } from '../client/events.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import { isActive, isPodAvailable, isPodReady, msUntilAvailable } from './pod-util.js';
import type { OwnerIndex } from './owner-index.js';
import { podsOf, scalePodSet, CreatesInFlight } from './podset.js';
import { claimPods } from './pod-claims.js';
import { allKeys, CONFLICT_RETRY_MS, OWNER_COALESCE_MS, ownerWatch, selfWatch, splitKey } from '../controller-runtime/reconciler.js';
import type { Reconciler, ReconcileResult, Watch, SharedCache } from '../controller-runtime/reconciler.js';

export function replicaSetStatus(rs: ReplicaSet, pods: Pod[], now: number, failure?: StatusError): NonNullable<ReplicaSet['status']> {
  const active = pods.filter(isActive);
  const templateLabels = fromLabelSelector({ matchLabels: rs.spec?.template?.metadata?.labels ?? {} });
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const conditions = (rs.status?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  if (failure) {
    const previous = (rs.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure');
    conditions.push({
      type: 'ReplicaFailure',
      status: 'True',
      reason: 'FailedCreate',
      message: failure.message,
      lastTransitionTime: previous?.lastTransitionTime ?? rfc3339(now),
    });
  }
  return {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => matches(templateLabels, p.metadata.labels)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
    ...(conditions.length > 0 ? { conditions } : {}),
  };
}

/** The kind a ReplicaSetController runs: its controller's name, its resource and how its selector reads. */
export interface PodSetKind {
  name: string;
  resource: ResourceType;
  /** The owner's selector as metav1.LabelSelector (undefined: none). */
  selector(owner: KObject): LabelSelector | undefined;
}

export const REPLICA_SETS: PodSetKind = {
  name: 'replicaset',
  resource: REPLICASETS,
  selector: (rs) => (rs as ReplicaSet).spec?.selector ?? undefined,
};

/** kube's replication manager: an RC's selector is a label map (never empty: validation requires one, as a ReplicaSet's). */
export const REPLICATION_CONTROLLER_SETS: PodSetKind = {
  name: 'replicationmanager',
  resource: REPLICATION_CONTROLLERS,
  selector: (rc) => {
    const map = (rc as ReplicationController).spec?.selector;
    return map ? { matchLabels: map } : undefined;
  },
};

export class ReplicaSetController implements Reconciler {
  readonly name: string;
  /** Each of its pods' changes queues it: one reconcile per 100 ms at most, which reads them all. */
  readonly coalesceMs = OWNER_COALESCE_MS;
  readonly watches: Watch[];
  readonly caches: SharedCache[];
  private readonly creates = new CreatesInFlight();

  /** With an index, pods are read from it instead of listing the namespace on every reconcile. */
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    private readonly index?: OwnerIndex,
    private readonly set: PodSetKind = REPLICA_SETS,
  ) {
    this.caches = index ? [index] : [];
    this.name = set.name;
    this.watches = [
      selfWatch(storeResource(set.resource)),
      ownerWatch(storeResource(PODS), set.resource.kind),
      orphanWatch(
        () => this.client,
        () => this.index,
        set,
      ),
    ];
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, this.set.resource);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const ownerType = this.set.resource;
    const rs = await this.client.find<ReplicaSet & KObject>(ownerType, namespace, name);
    if (!rs) return;
    const selector = fromLabelSelector(this.set.selector(rs));
    const view = await podsOf(this.client, this.index, rs);
    const pods = await claimPods({ client: this.client, owner: rs, ownerType, selector, pods: view.pods });
    let current: ReplicaSet & KObject = rs;
    let failure: StatusError | undefined;
    if (!rs.metadata.deletionTimestamp) {
      const outcome = await scalePodSet(
        {
          client: this.client,
          recorder: this.recorder,
          owner: rs,
          ownerType,
          template: rs.spec?.template ?? {},
          pods,
          podsRevision: view.revision,
          creates: this.creates,
        },
        rs.spec?.replicas ?? 1,
      );
      if (outcome === 'conflict') return { requeueAfterMs: CONFLICT_RETRY_MS };
      current = outcome.owner as ReplicaSet & KObject;
      failure = outcome.createError;
    }
    const now = this.clock.now();
    const status = replicaSetStatus(current, pods, now, failure);
    if (!deepEqual(status, current.status)) {
      try {
        await this.client.updateStatus(ownerType, { ...current, status } as KObject);
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        if (!isNotFound(err)) throw err;
      }
    }
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const waits = pods.map((p) => msUntilAvailable(p, minReady, now)).filter((x): x is number => x !== undefined);
    if (failure) return { requeueAfterMs: 5_000 };
    return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) + 10 } : undefined;
  }
}

/** Orphan pods (no controller) may be adopted: queue every set in their namespace whose selector matches. */
function orphanWatch(client: () => KubeClient, index: () => OwnerIndex | undefined, set: PodSetKind): Watch {
  return {
    resource: storeResource(PODS),
    async keys(e) {
      if (controllerRef(e.object) || e.type === 'DELETED') return [];
      const ns = e.object.metadata.namespace;
      const idx = index();
      const sets = idx?.following
        ? [...idx.objects(storeResource(set.resource))].filter((rs) => rs.metadata.namespace === ns)
        : (await client().list(set.resource, ns)).items;
      return sets
        .filter((rs) => {
          const selector = set.selector(rs);
          return selector !== undefined && matches(fromLabelSelector(selector), e.object.metadata.labels);
        })
        .map((rs) => `${ns}/${rs.metadata.name}`);
    },
  };
}
