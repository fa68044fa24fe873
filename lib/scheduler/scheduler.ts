/**
 * The scheduler as a reconciler: a key is an unbound pod; reconciling it
 * picks a node from the cache (algorithm.ts) and binds through
 * pods/{name}/binding, which succeeds only once per pod, so two schedulers
 * racing cannot both bind it. Waiting pods are taken highest priority
 * first, then oldest (kube's PrioritySort). A pod that fits nowhere may
 * preempt pods of lower priority (preemption.ts): they are marked
 * DisruptionTarget and deleted gracefully, and the pod is nominated to the
 * node they free (`status.nominatedNodeName`), which no pod of lower
 * priority may then take. Otherwise, and meanwhile, it gets
 * PodScheduled=False/Unschedulable and a FailedScheduling event, and is
 * retried when nodes or pods change (and on a backoff).
 */
import type { Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { resourcePath, type KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { type ChangeEvent, objectKey, type Reconciler, type ReconcileResult, splitKey, type Watch } from '../controller-runtime/reconciler.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { schedule, unschedulableMessage } from './algorithm.js';
import { podPriority, SchedulerCache } from './cache.js';
import { type BudgetFilter, type Candidate, isPreemptionVictim, NO_BUDGETS, preempt, PREEMPTION_BY_SCHEDULER } from './preemption.js';
import { NODES, PODS } from '../kinds/resources.js';
import { boundVolumeAffinity, selectNodeForClaims } from './volume-binding.js';
import { storeResource } from '../api/store-key.js';

export const SCHEDULER_NAME = 'default-scheduler';

type P = Pod & KObject;
type N = Node & KObject;

function wantsScheduling(pod: P): boolean {
  return (
    !pod.spec?.nodeName &&
    !pod.metadata.deletionTimestamp &&
    (pod.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    pod.status?.phase !== 'Succeeded' &&
    pod.status?.phase !== 'Failed'
  );
}

export class Scheduler implements Reconciler {
  readonly name = 'scheduler';
  readonly cache = new SchedulerCache();
  readonly watches: Watch[];
  /** Pods that fit nowhere, retried when the cluster changes. */
  private readonly unschedulable = new Set<string>();
  /**
   * Pods waiting to be scheduled as last seen on the feed (or in the prime
   * list), so a decision needs no read of its own. A copy that is stale can
   * only lose: binding refuses a pod that is already bound or being deleted.
   */
  private readonly pending = new Map<string, P>();
  private readonly attempts = new Map<string, number>();
  private nextStart = 0;

  /**
   * @param budgets what preemption may not break (kube's PodDisruptionBudgets):
   *   read afresh for each preemption. @default none
   */
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    private readonly budgets: () => Promise<BudgetFilter> = () => Promise.resolve(NO_BUDGETS),
  ) {
    this.watches = [
      {
        resource: storeResource(PODS),
        keys: async (e) => {
          const pod = e.object as P;
          const keys: string[] = [];
          if (e.type !== 'DELETED' && wantsScheduling(pod)) keys.push(objectKey(pod));
          // Capacity freed (a pod gone or finished) may let waiting pods fit.
          const freed =
            e.type === 'DELETED' ||
            ((pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') && (e.prev as P | undefined)?.status?.phase !== pod.status?.phase);
          if (freed) keys.push(...this.unschedulable);
          // A preemption victim gone: the pods waiting for its node, which this scheduler may never have seen (in
          // the cloud another invocation preempted for them). Rare enough to read them from the API.
          if (e.type === 'DELETED' && pod.spec?.nodeName && isPreemptionVictim(pod)) keys.push(...(await this.nominatedTo(pod.spec.nodeName)));
          return keys;
        },
      },
      { resource: storeResource(NODES), keys: () => [...this.unschedulable] },
    ];
  }

  observe(e: ChangeEvent): void {
    if (e.resource === storeResource(NODES)) {
      if (e.type === 'DELETED') this.cache.deleteNode(e.object.metadata.name!);
      else this.cache.upsertNode(e.object as N);
    } else if (e.resource === storeResource(PODS)) {
      const pod = e.object as P;
      if (e.type === 'DELETED') this.cache.deletePod(pod);
      else this.cache.upsertPod(pod);
      const key = objectKey(pod);
      if (e.type !== 'DELETED' && wantsScheduling(pod)) this.pending.set(key, pod);
      else this.pending.delete(key);
    }
  }

  async prime(): Promise<void> {
    const [nodes, pods] = await Promise.all([this.client.listAll<N>(NODES, undefined), this.client.listAll<P>(PODS, undefined)]);
    this.cache.load(nodes.items, pods.items);
    this.pending.clear();
    for (const p of pods.items) if (wantsScheduling(p)) this.pending.set(objectKey(p), p);
  }

  async listKeys(): Promise<string[]> {
    const pods = await this.client.listAll<P>(PODS, undefined, { fieldSelector: 'spec.nodeName=' });
    return pods.items.filter(wantsScheduling).map(objectKey);
  }

  /** Keys of the unbound pods nominated to a node. */
  private async nominatedTo(node: string): Promise<string[]> {
    const unbound = await this.client.listAll<P>(PODS, undefined, { fieldSelector: 'spec.nodeName=' });
    return unbound.items.filter((p) => p.status?.nominatedNodeName === node && wantsScheduling(p)).map(objectKey);
  }

  /** Higher priority first, then the earlier created (kube's PrioritySort; the queue keeps arrival order among equals). */
  compareKeys(a: string, b: string): number {
    const pa = this.pending.get(a);
    const pb = this.pending.get(b);
    const priority = (p: P | undefined) => (p ? podPriority(p) : 0);
    const created = (p: P | undefined) => p?.metadata.creationTimestamp ?? '';
    return priority(pb) - priority(pa) || (created(pa) < created(pb) ? -1 : created(pa) > created(pb) ? 1 : 0);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pending.get(key) ?? (await this.client.find<P>(PODS, namespace, name));
    if (!pod || !wantsScheduling(pod)) {
      this.unschedulable.delete(key);
      this.attempts.delete(key);
      this.pending.delete(key);
      return;
    }
    const nodes = [...this.cache.nodes.values()];
    const result = schedule(pod, nodes, this.nextStart, Math.random, this.cache.nominated, await boundVolumeAffinity(this.client, pod));
    if (nodes.length > 0) this.nextStart = (this.nextStart + result.evaluated) % nodes.length;
    if (!result.node) {
      const message = unschedulableMessage(nodes.length, result.reasons);
      // kube's PostFilter: preemption, whose outcome the FailedScheduling message carries when it cannot help.
      const outcome = preempt(pod, this.cache.nodes, this.cache.nominated, await this.budgets());
      if ('message' in outcome) return this.markUnschedulable(pod, key, `${message} preemption: ${outcome.message}`, outcome.clearNomination ? '' : undefined);
      await this.evict(pod, outcome.candidate);
      return this.markUnschedulable(pod, key, message, outcome.candidate.node);
    }

    this.cache.assume(pod, result.node);
    try {
      await selectNodeForClaims(this.client, pod, result.node);
    } catch (err) {
      this.cache.forget(pod);
      // A claim changed under us: schedule the pod again shortly.
      if (isConflict(err)) return { requeueAfterMs: 100 };
      throw err;
    }
    try {
      await this.client.call({
        method: 'POST',
        path: resourcePath(PODS, namespace, name, 'binding'),
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: result.node } },
      });
    } catch (err) {
      this.cache.forget(pod);
      // Someone else bound it (or it is gone): nothing left to do for this key.
      if (isConflict(err) || isNotFound(err)) return;
      throw err;
    }
    this.unschedulable.delete(key);
    this.attempts.delete(key);
    this.pending.delete(key);
    await this.recorder.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${result.node}`);
  }

  /**
   * Carries out a preemption (kube's prepareCandidate): each victim not yet
   * being deleted gets DisruptionTarget=True (PreemptionByScheduler) and is
   * deleted with its own grace period; pods of lower priority nominated to
   * the node lose the nomination, since the room is now the preemptor's.
   * Safe to repeat: a victim already gone or going is left alone.
   */
  private async evict(preemptor: P, candidate: Candidate): Promise<void> {
    const now = rfc3339(this.clock.now());
    for (const { pod: victim } of candidate.victims) {
      if (victim.metadata.deletionTimestamp) continue;
      const { namespace, name } = victim.metadata;
      const marked = await this.updatePodStatus(victim, (status) => {
        const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({
          type: 'DisruptionTarget',
          status: 'True',
          lastTransitionTime: now,
          reason: PREEMPTION_BY_SCHEDULER,
          message: `${preemptor.spec?.schedulerName ?? SCHEDULER_NAME}: preempting to accommodate a higher priority pod`,
        });
        return { ...status, conditions };
      });
      if (!marked) continue;
      try {
        await this.client.delete(PODS, namespace, name!, { preconditions: { uid: victim.metadata.uid! } });
      } catch (err) {
        if (!(isNotFound(err) || isConflict(err))) throw err;
        continue;
      }
      await this.recorder.record(victim, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata.uid} on node ${candidate.node}`);
    }
    const priority = podPriority(preemptor);
    for (const e of this.cache.nominated.get(candidate.node)?.values() ?? []) {
      if (e.priority >= priority || e.uid === preemptor.metadata.uid) continue;
      await this.updatePodStatus(e.pod, (status) => {
        const { nominatedNodeName: _, ...rest } = status;
        return rest;
      });
    }
  }

  /**
   * Writes a change to a pod's status, re-reading it on a conflict. Returns
   * the pod as written, or undefined when it is gone (or was replaced by
   * another of the same name).
   */
  private async updatePodStatus(pod: P, change: (status: NonNullable<P['status']>) => NonNullable<P['status']>): Promise<P | undefined> {
    let current: P | undefined = pod;
    for (let attempt = 0; current && current.metadata.uid === pod.metadata.uid; attempt++) {
      try {
        const written = await this.client.updateStatus<P>(PODS, { ...current, status: change(current.status ?? {}) });
        this.cache.upsertPod(written);
        return written;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (!isConflict(err) || attempt >= 4) throw err;
      }
      current = await this.client.find<P>(PODS, pod.metadata.namespace, pod.metadata.name!);
    }
    return undefined;
  }

  /**
   * Records that the pod fits nowhere (PodScheduled=False/Unschedulable and
   * a FailedScheduling event, once per message) and, when `nominate` is
   * given, sets (or with '' clears) the node preemption frees for it.
   */
  private async markUnschedulable(pod: P, key: string, message: string, nominate?: string): Promise<ReconcileResult> {
    this.unschedulable.add(key);
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    const conditions: Condition[] = [...(pod.status?.conditions ?? [])];
    const i = conditions.findIndex((c) => c.type === 'PodScheduled');
    const prev = conditions[i];
    const nominationChanges = nominate !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominate;
    const conditionChanges = !prev || prev.status !== 'False' || prev.reason !== 'Unschedulable' || prev.message !== message;
    if (conditionChanges || nominationChanges) {
      const next: Condition = {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: rfc3339(this.clock.now()),
        reason: 'Unschedulable',
        message,
      };
      if (conditionChanges) {
        if (i >= 0) conditions[i] = next;
        else conditions.push(next);
      }
      const { nominatedNodeName, ...rest } = pod.status ?? {};
      const nominated = nominate === undefined ? nominatedNodeName : nominate;
      try {
        const written = await this.client.updateStatus<P>(PODS, {
          ...pod,
          status: { ...rest, conditions, ...(nominated ? { nominatedNodeName: nominated } : {}) },
        });
        // Counted on its nominated node at once: the next decision of this scheduler must see it.
        this.cache.upsertPod(written);
        if (wantsScheduling(written)) this.pending.set(key, written);
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err))) throw err;
      }
      if (conditionChanges) await this.recorder.record(pod, 'Warning', 'FailedScheduling', message);
    }
    // Cluster changes re-queue it at once; the backoff is the safety net (1 s doubling to 60 s).
    return { requeueAfterMs: Math.min(1000 * 2 ** (n - 1), 60_000) };
  }
}
