/**
 * The StatefulSet controller, after kube's pkg/controller/statefulset
 * (stateful_set_control.go): pods with stable names `<set>-<ordinal>` for
 * ordinals [start, start+replicas), each created after its claims;
 * OrderedReady makes one pod at a time and waits for it to be Running and
 * Ready (and available for minReadySeconds) before the next, and removes
 * pods from the highest ordinal down; Parallel creates and removes them all
 * at once. A pod that failed or succeeded is deleted and made again under
 * its name, with its claims. RollingUpdate replaces pods whose revision is
 * not the update revision, from the highest ordinal down to the partition,
 * one at a time or up to maxUnavailable; OnDelete leaves that to the user.
 * The template's history is kept as ControllerRevisions (history.ts).
 *
 * Safe with itself running in several processes at once: every pod has one
 * name, so creating one twice ends in AlreadyExists (success), deletions are
 * conditional on the pod's uid, revisions are created by conditional creates
 * and status is written with the set's resourceVersion.
 */
import type { StatefulSet } from '../api/apps/v1/statefulset.js';
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { fromLabelSelector } from '../api/labels.js';
import type { KObject } from '../api/object.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { allKeys, CONFLICT_RETRY_MS, OWNER_COALESCE_MS, ownerWatch, selfWatch, splitKey } from '../controller-runtime/reconciler.js';
import type { Reconciler, ReconcileResult, SharedCache, Watch } from '../controller-runtime/reconciler.js';
import { PERSISTENT_VOLUME_CLAIMS, PODS, STATEFULSETS } from '../kinds/resources.js';
import { type Clock, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import {
  createRevision,
  equalRevision,
  newRevision,
  nextRevisionNumber,
  ownedRevisions,
  renumberRevision,
  type Revision,
  revisionTemplate,
  sortRevisions,
  templatePatch,
  truncateHistory,
} from './history.js';
import type { OwnerIndex } from './owner-index.js';
import { claimPods } from './pod-claims.js';
import { msUntilAvailable } from './pod-util.js';
import { CreatesInFlight, podsOf, slowStart } from './podset.js';
import {
  type Claim,
  claimOwnerRefs,
  claimsFor,
  isFinished,
  isHealthy,
  isRunningAndAvailable,
  isRunningAndReady,
  isTerminating,
  newStatefulPod,
  ordinalOf,
  ordinalRange,
  podName,
  podRevision,
  type StatefulSetObject,
} from './stateful-pods.js';

type P = Pod & KObject;

/** How soon to look again when a claim the next pod needs is still being deleted. */
const CLAIM_RETRY_MS = 1_000;

/** The revisions a sync works toward: the one the pods were made from, the one they are updated to. */
interface Revisions {
  current: Revision;
  update: Revision;
  collisionCount: number;
  all: Revision[];
}

/** One reconcile's view of the set: its pods by slot (index = ordinal - start) and the ones outside the range. */
interface Sync {
  set: StatefulSetObject;
  revs: Revisions;
  replicas: (P | undefined)[];
  condemned: P[];
  claims: Map<string, Claim>;
  now: number;
  monotonic: boolean;
  minReady: number;
  /** The revision of the pod view `replicas` and `condemned` come from. */
  viewRevision: number;
  /** Set when something the next step needs is not there yet (a claim being deleted). */
  retryAfterMs?: number;
}

export class StatefulSetController implements Reconciler {
  readonly name = 'statefulset';
  /** Each of its pods' changes queues it: one reconcile per 100 ms at most, which reads them all. */
  readonly coalesceMs = OWNER_COALESCE_MS;
  readonly watches: Watch[] = [selfWatch(storeResource(STATEFULSETS)), ownerWatch(storeResource(PODS), 'StatefulSet')];
  readonly caches: SharedCache[];
  private readonly creates = new CreatesInFlight();

  /** With an index, pods are read from it instead of listing the namespace on every reconcile. */
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    private readonly index?: OwnerIndex,
  ) {
    this.caches = index ? [index] : [];
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, STATEFULSETS);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const set = await this.client.find<StatefulSetObject>(STATEFULSETS, namespace, name);
    if (!set) return;
    const selector = fromLabelSelector(set.spec?.selector);
    const view = await podsOf(this.client, this.index, set);
    const pods = (await claimPods({ client: this.client, owner: set, ownerType: STATEFULSETS, selector, pods: view.pods })) as P[];
    const revs = await this.revisions(set, await ownedRevisions(this.client, set, selector));
    const sync = this.split(set, revs, pods, view.revision);
    sync.claims = await this.claims(set);

    // A set being deleted only reports status: the garbage collector removes its pods.
    if (!set.metadata.deletionTimestamp) {
      if ((await this.processReplicas(sync)) && (await this.processCondemned(sync))) await this.rollingUpdate(sync);
    }
    const status = statefulSetStatus(set, revs, pods, sync.now);
    if (!deepEqual(status, set.status)) {
      try {
        await this.client.updateStatus(STATEFULSETS, { ...set, status } as KObject);
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        if (!isNotFound(err)) throw err;
      }
    }
    const live = new Set([status.currentRevision ?? '', status.updateRevision ?? '', ...pods.map((p) => podRevision(p) ?? '')]);
    await truncateHistory(this.client, revs.all, live, set.spec?.revisionHistoryLimit ?? 10);

    const waits = pods.map((p) => msUntilAvailable(p, sync.minReady, sync.now)).filter((x): x is number => x !== undefined);
    if (sync.retryAfterMs !== undefined) waits.push(sync.retryAfterMs);
    return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) + 10 } : undefined;
  }

  /**
   * kube's getStatefulSetRevisions: the revision of the live template (an
   * equal earlier one is renumbered to be the newest, as a rollback does;
   * else a new one is created), and the current revision status names (the
   * update revision when there is none).
   */
  private async revisions(set: StatefulSetObject, owned: Revision[]): Promise<Revisions> {
    const all = sortRevisions(owned);
    let collisionCount = set.status?.collisionCount ?? 0;
    const wanted = newRevision(set, set.spec?.template?.metadata?.labels, templatePatch(set.spec?.template), nextRevisionNumber(all), collisionCount);
    const equal = all.filter((r) => equalRevision(r, wanted));
    let update: Revision;
    if (equal.length > 0) {
      const found = equal[equal.length - 1]!;
      update = found === all[all.length - 1] ? found : await renumberRevision(this.client, found, wanted.revision ?? 0);
      if (update !== found) all.splice(all.indexOf(found), 1, update);
    } else {
      const created = await createRevision(this.client, set, wanted, collisionCount);
      update = created.revision;
      collisionCount = created.collisionCount;
      all.push(update);
    }
    const current = all.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount, all };
  }

  private split(set: StatefulSetObject, revs: Revisions, pods: P[], viewRevision: number): Sync {
    const { start, replicas } = ordinalRange(set);
    const slots: (P | undefined)[] = new Array<P | undefined>(replicas).fill(undefined);
    const condemned: P[] = [];
    for (const pod of pods) {
      const ord = ordinalOf(set, pod);
      if (ord === undefined) continue;
      if (ord >= start && ord < start + replicas) slots[ord - start] = pod;
      else condemned.push(pod);
    }
    condemned.sort((a, b) => ordinalOf(set, a)! - ordinalOf(set, b)!);
    return {
      set,
      revs,
      replicas: slots,
      condemned,
      claims: new Map(),
      now: this.clock.now(),
      monotonic: set.spec?.podManagementPolicy !== 'Parallel',
      minReady: set.spec?.minReadySeconds ?? 0,
      viewRevision,
    };
  }

  /** The namespace's claims by name (only read when the set has claim templates). */
  private async claims(set: StatefulSetObject): Promise<Map<string, Claim>> {
    if ((set.spec?.volumeClaimTemplates ?? []).length === 0) return new Map();
    const list = await this.client.listAll<Claim>(PERSISTENT_VOLUME_CLAIMS, set.metadata.namespace);
    return new Map(list.items.map((c) => [c.metadata.name ?? '', c]));
  }

  /**
   * kube's processReplica over every slot: recreates finished pods, creates
   * missing ones (claims first) and fixes claim owner references. Sequential
   * under OrderedReady, stopping at the first pod that is not Running, Ready
   * and available; in slow-start batches under Parallel. Returns whether the
   * sync may go on to scale down and update.
   */
  private async processReplicas(s: Sync): Promise<boolean> {
    const { start } = ordinalRange(s.set);
    const one = async (i: number): Promise<boolean> => {
      const ord = start + i;
      const pod = s.replicas[i];
      if (pod && isFinished(pod) && !isTerminating(pod)) {
        const reason = pod.status?.phase === 'Failed' ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod';
        const what = pod.status?.phase === 'Failed' ? 'failed' : 'terminated';
        await this.recorder.record(
          s.set,
          'Warning',
          reason,
          `StatefulSet ${s.set.metadata.namespace}/${s.set.metadata.name} is recreating ${what} Pod ${pod.metadata.name}`,
        );
        await this.deletePod(s.set, pod);
        return !s.monotonic;
      }
      const ns = s.set.metadata.namespace ?? '';
      const name = podName(s.set, ord);
      if (!pod) {
        // Created by an earlier reconcile of this process that the view cannot show yet: sending it again would only end in AlreadyExists.
        if (this.creates.covers(ns, name, s.viewRevision)) return !s.monotonic;
        const template = this.templateFor(s, ord);
        if (!(await this.createClaims(s, ord))) return !s.monotonic;
        this.creates.begin(ns, name);
        let revision: number | undefined;
        try {
          const created = await this.createPod(s.set, newStatefulPod(s.set, template.template, template.revision, ord) as P);
          revision = Number(created?.metadata.resourceVersion) || undefined;
        } finally {
          this.creates.done(ns, name, revision);
        }
        return !s.monotonic;
      }
      this.creates.forget(ns, name);
      if (s.monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isRunningAndAvailable(pod, s.minReady, s.now))) return false;
      if (!isTerminating(pod)) await this.fixClaims(s, ord, pod, false);
      return true;
    };
    if (s.monotonic) {
      for (let i = 0; i < s.replicas.length; i++) if (!(await one(i))) return false;
      return true;
    }
    let blocked = false;
    const failure = await slowStart(
      s.replicas.map((_, i) => i),
      async (i) => {
        if (!(await one(i))) blocked = true;
      },
    );
    if (failure) throw failure;
    return !blocked;
  }

  /**
   * kube's newVersionedStatefulSetPod: the current revision's template below
   * the partition (a RollingUpdate that has not reached them), the update
   * revision's otherwise.
   */
  private templateFor(s: Sync, ordinal: number): { template: PodTemplateSpec; revision: string } {
    const strategy = s.set.spec?.updateStrategy;
    const partition = strategy?.rollingUpdate?.partition ?? 0;
    const current = revisionTemplate(s.revs.current);
    if (strategy?.type === 'RollingUpdate' && ordinal < partition && current) {
      return { template: current, revision: s.revs.current.metadata.name ?? '' };
    }
    return { template: s.set.spec?.template ?? {}, revision: s.revs.update.metadata.name ?? '' };
  }

  /** Creates the claims the pod at `ordinal` mounts that do not exist; false when one is still being deleted (the pod must wait). */
  private async createClaims(s: Sync, ordinal: number): Promise<boolean> {
    for (const claim of claimsFor(s.set, ordinal)) {
      const name = claim.metadata.name ?? '';
      const existing = s.claims.get(name);
      if (existing?.metadata.deletionTimestamp) {
        s.retryAfterMs = CLAIM_RETRY_MS;
        return false;
      }
      if (existing) continue;
      const refs = claimOwnerRefs(claim, s.set, undefined, false);
      if (refs) claim.metadata.ownerReferences = refs;
      try {
        s.claims.set(name, await this.client.create<Claim>(PERSISTENT_VOLUME_CLAIMS, s.set.metadata.namespace, claim));
        await this.recorder.record(
          s.set,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${name} Pod ${s.set.metadata.name}-${ordinal} in StatefulSet ${s.set.metadata.name} success`,
        );
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        const message = err instanceof Error ? err.message : String(err);
        await this.recorder.record(
          s.set,
          'Warning',
          'FailedCreate',
          `create Claim ${name} for Pod ${s.set.metadata.name}-${ordinal} in StatefulSet ${s.set.metadata.name} failed error: ${message}`,
        );
        throw err;
      }
    }
    return true;
  }

  /** Puts the retention policy's owner references on the claims of the pod at `ordinal` (a claim that went missing is made again). */
  private async fixClaims(s: Sync, ordinal: number, pod: P, condemned: boolean): Promise<void> {
    if (!condemned) await this.createClaims(s, ordinal);
    for (const want of claimsFor(s.set, ordinal)) {
      const claim = s.claims.get(want.metadata.name ?? '');
      if (!claim || claim.metadata.deletionTimestamp) continue;
      const refs = claimOwnerRefs(claim, s.set, pod, condemned);
      if (!refs) continue;
      try {
        await this.client.update(PERSISTENT_VOLUME_CLAIMS, { ...claim, metadata: { ...claim.metadata, ownerReferences: refs } } as KObject);
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err))) throw err;
      }
    }
  }

  private async createPod(set: StatefulSetObject, pod: P): Promise<P | undefined> {
    try {
      const created = await this.client.create<P>(PODS, set.metadata.namespace, pod);
      await this.recordPodEvent('create', set, pod);
      return created;
    } catch (err) {
      // Another reconcile (or a view that lags) made it already: that is the pod this one wanted.
      if (isAlreadyExists(err)) return undefined;
      await this.recordPodEvent('create', set, pod, err);
      throw err;
    }
  }

  /** Deletes a pod if it is still the one seen (its uid); gone already is success. */
  private async deletePod(set: StatefulSetObject, pod: P): Promise<void> {
    try {
      await this.client.delete(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { preconditions: { uid: pod.metadata.uid } });
      await this.recordPodEvent('delete', set, pod);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      await this.recordPodEvent('delete', set, pod, err);
      throw err;
    }
  }

  /** kube's recordPodEvent: `SuccessfulCreate` / `FailedDelete`..., worded as the StatefulSet controller words them. */
  private recordPodEvent(verb: 'create' | 'delete', set: StatefulSetObject, pod: P, err?: unknown): Promise<void> {
    const title = verb === 'create' ? 'Create' : 'Delete';
    const what = `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name}`;
    if (err === undefined) return this.recorder.record(set, 'Normal', `Successful${title}`, `${what} successful`);
    return this.recorder.record(set, 'Warning', `Failed${title}`, `${what} failed error: ${err instanceof Error ? err.message : String(err)}`);
  }

  /**
   * Scale down, highest ordinal first. Under OrderedReady one pod at a time,
   * waiting for a terminating one to go, and only a healthy pod (or the
   * first unhealthy one) is removed; under Parallel all at once. Claims of a
   * removed pod get the pod as owner first when whenScaled is Delete.
   */
  private async processCondemned(s: Sync): Promise<boolean> {
    const firstUnhealthy = [...s.replicas, ...s.condemned].find((p) => p && !isHealthy(p));
    for (const pod of [...s.condemned].reverse()) {
      if (isTerminating(pod)) {
        if (s.monotonic) return false;
        continue;
      }
      if (s.monotonic && pod !== firstUnhealthy && !isRunningAndAvailable(pod, s.minReady, s.now)) return false;
      await this.fixClaims(s, ordinalOf(s.set, pod)!, pod, true);
      await this.deletePod(s.set, pod);
      if (s.monotonic) return false;
    }
    return true;
  }

  /**
   * RollingUpdate from the highest ordinal down to the partition: a pod of
   * another revision is deleted (the next sync makes it again from the
   * update revision). Without maxUnavailable one at a time, waiting for
   * each replacement to be healthy; with it, as many as keep the unavailable
   * pods at or under it.
   */
  private async rollingUpdate(s: Sync): Promise<void> {
    const strategy = s.set.spec?.updateStrategy;
    if (strategy?.type !== 'RollingUpdate') return;
    const { start } = ordinalRange(s.set);
    const partitionIndex = Math.max(0, (strategy.rollingUpdate?.partition ?? 0) - start);
    const update = s.revs.update.metadata.name;
    const maxUnavailable = strategy.rollingUpdate?.maxUnavailable;
    if (maxUnavailable === undefined || maxUnavailable === null) {
      for (let i = s.replicas.length - 1; i >= partitionIndex; i--) {
        const pod = s.replicas[i];
        if (!pod) return;
        if (podRevision(pod) !== update && !isTerminating(pod)) {
          await this.deletePod(s.set, pod);
          return;
        }
        if (!isHealthy(pod)) return;
      }
      return;
    }
    const limit = Math.max(1, scaledValue(maxUnavailable, s.replicas.length));
    const targets = s.replicas.slice(partitionIndex);
    const unavailable = targets.filter((p) => !p || isTerminating(p) || !isRunningAndAvailable(p, s.minReady, s.now)).length;
    let budget = limit - unavailable;
    for (let i = s.replicas.length - 1; i >= partitionIndex && budget > 0; i--) {
      const pod = s.replicas[i];
      if (!pod || isTerminating(pod) || podRevision(pod) === update) continue;
      const wasAvailable = isRunningAndAvailable(pod, s.minReady, s.now);
      await this.deletePod(s.set, pod);
      // An unavailable pod was counted already; deleting it costs nothing more.
      if (wasAvailable) budget--;
    }
  }
}

/** intstr.GetScaledValueFromIntOrPercent, rounding down (a percentage of replicas), as kube's getStatefulSetMaxUnavailable. */
function scaledValue(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  return Math.floor((Number(v.replace('%', '')) * total) / 100);
}

/**
 * kube's computeReplicaStatus and completeRollingUpdate: counts of the pods
 * seen, and the update revision becoming current once every replica is of
 * it and ready.
 */
export function statefulSetStatus(set: StatefulSet & KObject, revs: Revisions, pods: readonly Pod[], now: number): NonNullable<StatefulSet['status']> {
  const minReady = set.spec?.minReadySeconds ?? 0;
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let current = 0;
  let updated = 0;
  for (const pod of pods) {
    if (!pod.status?.phase) continue;
    replicas++;
    if (isRunningAndReady(pod)) {
      ready++;
      if (isRunningAndAvailable(pod, minReady, now)) available++;
    }
    if (isTerminating(pod)) continue;
    if (podRevision(pod) === revs.current.metadata.name) current++;
    if (podRevision(pod) === revs.update.metadata.name) updated++;
  }
  let currentRevision = revs.current.metadata.name;
  const want = set.spec?.replicas ?? 1;
  if (set.spec?.updateStrategy?.type === 'RollingUpdate' && updated === want && ready === want && replicas === want) {
    currentRevision = revs.update.metadata.name;
    current = updated;
  }
  return {
    observedGeneration: set.metadata.generation ?? 1,
    replicas,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    currentRevision,
    updateRevision: revs.update.metadata.name,
    collisionCount: revs.collisionCount,
    availableReplicas: available,
  };
}
