/**
 * The scheduler as a reconciler: a key is an unbound pod; reconciling it
 * picks a node from the cache (algorithm.ts) and binds through
 * pods/{name}/binding, which succeeds only once per pod, so two schedulers
 * racing cannot both bind it. A pod that fits nowhere gets
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
import { SchedulerCache } from './cache.js';
import { NODES, PODS } from '../kinds/resources.js';
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

  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
  ) {
    this.watches = [
      {
        resource: storeResource(PODS),
        keys: (e) => {
          const pod = e.object as P;
          const keys: string[] = [];
          if (e.type !== 'DELETED' && wantsScheduling(pod)) keys.push(objectKey(pod));
          // Capacity freed (a pod gone or finished) may let waiting pods fit.
          const freed =
            e.type === 'DELETED' ||
            ((pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') && (e.prev as P | undefined)?.status?.phase !== pod.status?.phase);
          if (freed) keys.push(...this.unschedulable);
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
    this.cache.load(
      nodes.items,
      pods.items.filter((p) => !!p.spec?.nodeName),
    );
    this.pending.clear();
    for (const p of pods.items) if (wantsScheduling(p)) this.pending.set(objectKey(p), p);
  }

  async listKeys(): Promise<string[]> {
    const pods = await this.client.listAll<P>(PODS, undefined, { fieldSelector: 'spec.nodeName=' });
    return pods.items.filter(wantsScheduling).map(objectKey);
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
    const result = schedule(pod, nodes, this.nextStart);
    if (nodes.length > 0) this.nextStart = (this.nextStart + result.evaluated) % nodes.length;
    if (!result.node) return this.markUnschedulable(pod, key, unschedulableMessage(nodes.length, result.reasons));

    this.cache.assume(pod, result.node);
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

  private async markUnschedulable(pod: P, key: string, message: string): Promise<ReconcileResult> {
    this.unschedulable.add(key);
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    const conditions: Condition[] = [...(pod.status?.conditions ?? [])];
    const i = conditions.findIndex((c) => c.type === 'PodScheduled');
    const prev = conditions[i];
    if (!prev || prev.status !== 'False' || prev.reason !== 'Unschedulable' || prev.message !== message) {
      const next: Condition = {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: rfc3339(this.clock.now()),
        reason: 'Unschedulable',
        message,
      };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
      try {
        await this.client.updateStatus(PODS, { ...pod, status: { ...(pod.status ?? {}), conditions } });
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err))) throw err;
      }
      await this.recorder.record(pod, 'Warning', 'FailedScheduling', message);
    }
    // Cluster changes re-queue it at once; the backoff is the safety net (1 s doubling to 60 s).
    return { requeueAfterMs: Math.min(1000 * 2 ** (n - 1), 60_000) };
  }
}
