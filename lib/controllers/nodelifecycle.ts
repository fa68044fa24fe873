/**
 * Node lifecycle (the seed's "wait to see whether a node failure is temporary,
 * then move its pods"): a node whose Lease in kube-node-lease has not been
 * renewed for the grace period is marked Ready=Unknown and tainted
 * `node.kubernetes.io/unreachable:NoExecute`; its pods are marked not ready,
 * and each is evicted once its toleration for the taint runs out (300 s by
 * default, added at admission), so its controller recreates it elsewhere. A
 * node that renews again is untainted.
 */
import { NODE_LEASE_NAMESPACE, type Lease } from '../api/coordination/v1/lease.js';
import type { Node, Taint } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { LEASES, NODES, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { minTolerationSeconds, TAINT_NOT_READY, TAINT_UNREACHABLE } from '../api/taints.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { Recorder } from '../client/events.js';
import { allKeys, type Reconciler, type ReconcileResult, type Watch } from '../controller-runtime/reconciler.js';
import { POD_NODE_NOT_READY } from '../api/core/v1/pod.js';

export interface NodeLifecycleOptions {
  /** A node is unreachable after this long without a lease renewal (kube-controller-manager's node-monitor-grace-period). @default 40 s */
  gracePeriodMs?: number;
}

type N = Node & KObject;
type P = Pod & KObject;

function hasNoExecute(node: N): boolean {
  return (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute');
}

const CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export class NodeLifecycleController implements Reconciler {
  readonly name = 'nodelifecycle';
  // Lease renewals are deliberately not watched: only their absence matters, which the requeue timer
  // (set from the last renewal) and the periodic resync detect. In the cloud this keeps heartbeats from
  // invoking the controllers at all.
  readonly watches: Watch[] = [
    {
      resource: storeResource(NODES),
      keys: (e) => {
        const name = e.object.metadata.name!;
        if (e.type === 'DELETED') {
          this.noExecute.delete(name);
          return [];
        }
        this.noExecute.set(name, hasNoExecute(e.object as N));
        return [name];
      },
    },
    // A pod bound to a tainted node may need an eviction timer (a node known to have no NoExecute taint needs nothing).
    {
      resource: storeResource(PODS),
      keys: (e) => {
        if (!(e.type === 'ADDED' || (e.prev && !(e.prev.spec as { nodeName?: string })?.nodeName))) return [];
        const node = (e.object.spec as { nodeName?: string })?.nodeName;
        if (!node || this.noExecute.get(node) === false) return [];
        return [node];
      },
    },
  ];
  /** Whether each node seen on the feed has a NoExecute taint (unknown nodes are reconciled to find out). */
  private readonly noExecute = new Map<string, boolean>();
  private readonly grace: number;

  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    opts: NodeLifecycleOptions = {},
  ) {
    this.grace = opts.gracePeriodMs ?? 40_000;
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, NODES);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const node = await this.client.find<N>(NODES, undefined, name);
    if (!node) return;
    const lease = await this.client.find<Lease & KObject>(LEASES, NODE_LEASE_NAMESPACE, name);
    const now = this.clock.now();
    const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
    // Either heartbeat counts: a lease renewal or a Ready condition the agent posted (Kubernetes' probeTimestamp).
    const posted = ready?.status === 'True' || ready?.status === 'False' ? Date.parse(ready.lastHeartbeatTime ?? '') || 0 : 0;
    const lastRenew = Math.max(Date.parse(lease?.spec?.renewTime ?? '') || 0, posted) || Date.parse(node.metadata.creationTimestamp ?? '') || now;
    const stale = now - lastRenew > this.grace;
    let requeue: number | undefined = stale ? undefined : lastRenew + this.grace - now + 10;

    let current = node;
    if (stale && ready?.status !== 'Unknown') current = await this.markUnknown(node, now);
    const readyNow = (current.status?.conditions ?? []).find((c) => c.type === 'Ready');
    const wanted: Taint[] = [];
    const t = rfc3339(now);
    if (stale || readyNow?.status === 'Unknown')
      wanted.push({ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: t }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule', timeAdded: t });
    else if (readyNow?.status === 'False')
      wanted.push({ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: t }, { key: TAINT_NOT_READY, effect: 'NoSchedule', timeAdded: t });
    current = await this.syncTaints(current, wanted);

    const noExecute = (current.spec?.taints ?? []).filter((x) => x.effect === 'NoExecute');
    if (noExecute.length > 0) {
      const evictIn = await this.evict(current, noExecute, now, stale);
      if (evictIn !== undefined) requeue = Math.min(requeue ?? Infinity, evictIn);
    }
    return requeue !== undefined && Number.isFinite(requeue) ? { requeueAfterMs: requeue } : undefined;
  }

  private async markUnknown(node: N, now: number): Promise<N> {
    const t = rfc3339(now);
    const conditions: Condition[] = [...(node.status?.conditions ?? [])];
    for (const type of CONDITIONS) {
      const i = conditions.findIndex((c) => c.type === type);
      const prev = conditions[i];
      const next: Condition = {
        type,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastHeartbeatTime: prev?.lastHeartbeatTime ?? t,
        lastTransitionTime: t,
      };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
    }
    try {
      const updated = await this.client.updateStatus<N>(NODES, { ...node, status: { ...(node.status ?? {}), conditions } });
      await this.recorder.record(node, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
      return updated;
    } catch (err) {
      if (isConflict(err)) return this.client.get<N>(NODES, undefined, node.metadata.name!);
      throw err;
    }
  }

  /** Keeps exactly the lifecycle taints in `wanted` (preserving their timeAdded) and any other taints as they are. */
  private async syncTaints(node: N, wanted: Taint[]): Promise<N> {
    const ours = (x: Taint) => x.key === TAINT_UNREACHABLE || x.key === TAINT_NOT_READY;
    const existing = node.spec?.taints ?? [];
    const kept = existing.filter((x) => !ours(x));
    const lifecycle = wanted.map((w) => existing.find((x) => x.key === w.key && x.effect === w.effect) ?? w);
    const taints = [...kept, ...lifecycle];
    if (deepEqual(taints, existing)) return node;
    try {
      return await this.client.update<N>(NODES, { ...node, spec: { ...(node.spec ?? {}), taints } });
    } catch (err) {
      if (isConflict(err)) return this.client.get<N>(NODES, undefined, node.metadata.name!);
      throw err;
    }
  }

  /** Evicts pods whose tolerations of the NoExecute taints ran out; returns ms until the next one is due. */
  private async evict(node: N, taints: Taint[], now: number, unreachable: boolean): Promise<number | undefined> {
    const pods = (await this.client.listAll<P>(PODS, undefined, { fieldSelector: `spec.nodeName=${node.metadata.name}` })).items;
    let next: number | undefined;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      if (unreachable) await this.markPodNotReady(pod, now);
      const seconds = minTolerationSeconds(pod.spec?.tolerations, taints);
      if (seconds === Infinity) continue;
      const added = Math.max(...taints.map((t) => Date.parse(t.timeAdded ?? '') || now));
      const due = added + seconds * 1000;
      if (due > now) {
        next = Math.min(next ?? Infinity, due - now + 10);
        continue;
      }
      try {
        await this.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
        await this.recorder.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
      } catch (err) {
        if (!(isNotFound(err) || isConflict(err))) throw err;
      }
    }
    return next;
  }

  /** Kubernetes' MarkPodsNotReady: a pod on an unreachable node is no longer Ready (so it gets no traffic). */
  private async markPodNotReady(pod: P, now: number): Promise<void> {
    const conditions = [...(pod.status?.conditions ?? [])];
    const i = conditions.findIndex((c) => c.type === 'Ready');
    if (i >= 0 && conditions[i]!.status === 'False') return;
    const next: Condition = {
      type: 'Ready',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: rfc3339(now),
      reason: POD_NODE_NOT_READY,
      message: 'Node is not ready',
    };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
    try {
      await this.client.updateStatus(PODS, { ...pod, status: { ...(pod.status ?? {}), conditions } });
    } catch (err) {
      if (!(isNotFound(err) || isConflict(err))) throw err;
    }
  }
}
