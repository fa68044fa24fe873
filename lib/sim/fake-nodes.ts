/**
 * Simulated nodes (the `fake` runtime, after KWOK): each registers a Node,
 * renews its Lease, and walks the pods bound to it through their lifecycle
 * without running anything: Running and Ready after a start delay; pods of
 * Jobs (restartPolicy Never or OnFailure) Succeeded after a run time, or
 * failing when annotated to; deleted pods removed after a short stop. One
 * simulator serves any number of nodes through one pod watch, so thousands
 * of nodes are cheap. A node can be stopped (no heartbeats, no pod updates:
 * a dead host) and resumed.
 *
 * Like a kubelet, a running node holds on to its own truth: each lease is
 * renewed one renewal at a time, and what the node lifecycle controller
 * wrote when heartbeats came late (Ready=Unknown on the node, Ready=False on
 * its pods) is put right again, so a slow spell (a loaded machine, a laptop
 * asleep) is not a node lost for good.
 */
import { hostname } from 'node:os';
import type { Lease } from '../api/coordination/v1/lease.js';
import type { Node } from '../api/core/v1/node.js';
import type { ContainerStatus, Pod } from '../api/core/v1/pod.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { createNodeLease, nodeConditions } from '../client/node-heartbeat.js';
import { NODE_LEASE_NAMESPACE } from '../api/coordination/v1/lease.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { type Clock, microTime, rfc3339, systemClock } from '../util/clock.js';
import { LEASES, NODES, PODS } from '../kinds/resources.js';
import { POD_NODE_NOT_READY } from '../api/core/v1/pod.js';
import { RESOURCE_USAGE_ANNOTATION } from '../api/metrics/v1beta1/metrics.js';
import { simulatedNodeUsage, type SystemUsage } from './usage.js';

/** Annotation: exit code the simulated containers end with (Job pods; default 0). */
export const SIM_EXIT_CODE = 'kumo.io/sim-exit-code';
/** Annotation: seconds a simulated Job pod runs before it exits. */
export const SIM_RUN_SECONDS = 'kumo.io/sim-run-seconds';

export interface FakeNodeOptions {
  /** Node names to simulate. */
  names: string[];
  /** Extra labels per node (e.g. zones). */
  labels?: (name: string, index: number) => Record<string, string>;
  /** Extra annotations per node (e.g. the ECS container instance). */
  annotations?: (name: string, index: number) => Record<string, string>;
  /** spec.providerID per node (e.g. `aws:///<zone>/<instance-id>` for a simulated EC2 instance). */
  providerID?: (name: string, index: number) => string | undefined;
  /** What each node reports as capacity (and allocatable). @default cpu 4, memory 16Gi, ephemeral-storage 100Gi, pods 110 */
  capacity?: { cpu?: string; memory?: string; 'ephemeral-storage'?: string; pods?: string };
  /** Delay from binding to Running/Ready. @default 200 ms */
  startDelayMs?: number;
  /** How long a Job pod runs before it exits. @default 1000 ms */
  runMs?: number;
  /** How long a deleted pod takes to stop (capped by its grace period). @default 100 ms */
  stopDelayMs?: number;
  /** Lease renewal interval; each renewal carries the node's usage record (lib/sim/usage.ts). @default 10 s */
  leaseRenewMs?: number;
  /** What each node uses beside its pods. @default 100m CPU, 512 MiB */
  systemUsage?: SystemUsage;
  /** How often the nodes' Ready conditions are checked and posted again where someone else changed them (kubelet's nodeStatusUpdateFrequency). @default 10 s */
  statusUpdateMs?: number;
  clock?: Clock;
  /** @default defaultLogger() */
  logger?: Logger;
}

type P = Pod & KObject;

/** A simulated node's ephemeral-storage unless told otherwise: a typical cloud node's root volume. */
export const SIM_EPHEMERAL_STORAGE = '100Gi';

/**
 * What a simulated node reports, in the kubelet's resource names: every
 * node has ephemeral-storage (pods requesting it fit, as on a real node),
 * no hugepages (a pod asking for them fits nowhere) and a pod count.
 */
export function simulatedCapacity(c: FakeNodeOptions['capacity'] = {}): Record<string, string> {
  return {
    cpu: c.cpu ?? '4',
    'ephemeral-storage': c['ephemeral-storage'] ?? SIM_EPHEMERAL_STORAGE,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: c.memory ?? '16Gi',
    pods: c.pods ?? '110',
  };
}

export class FakeNodes {
  private readonly stopped = new Set<string>();
  private readonly nodes: Set<string>;
  private informer: Informer | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  /** Whether a status check is under way (they never overlap). */
  private checkingStatus = false;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private readonly ipOf = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: FakeNodeOptions,
  ) {
    this.nodes = new Set(opts.names);
    this.clock = opts.clock ?? systemClock;
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  async start(): Promise<void> {
    await Promise.all(this.opts.names.map((name, i) => this.register(name, i)));
    await Promise.all(this.opts.names.map((name) => this.renew(name)));
    this.leaseTimer = setInterval(() => void this.renewAll(), this.opts.leaseRenewMs ?? 10_000);
    this.leaseTimer.unref();
    this.statusTimer = setInterval(() => void this.syncNodeStatus(), this.opts.statusUpdateMs ?? 10_000);
    this.statusTimer.unref();
    this.informer = new Informer(this.client, PODS, {
      onChange: (type, obj) => this.onPod(type, obj as P),
      logger: this.logger,
    });
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.informer?.stop();
  }

  /** A node joining the running simulation: registered, its lease renewed, its pods run as the others'. */
  async addNode(name: string): Promise<void> {
    if (this.nodes.has(name)) return;
    const index = this.nodes.size;
    this.nodes.add(name);
    await this.register(name, index);
    await this.renew(name);
  }

  /** Simulates a dead host: no lease renewals, no pod updates, until resumed. */
  stopNode(name: string): void {
    this.stopped.add(name);
  }

  async resumeNode(name: string): Promise<void> {
    this.stopped.delete(name);
    await this.renew(name);
    await this.postReady(name);
    for (const pod of this.informer?.items.values() ?? []) if ((pod as P).spec?.nodeName === name) this.onPod('MODIFIED', pod as P);
  }

  private ip(name: string, index: number): string {
    const ip = `10.0.${Math.floor(index / 250)}.${(index % 250) + 2}`;
    this.ipOf.set(name, ip);
    return ip;
  }

  private nodeObject(name: string, index: number): KObject {
    const now = rfc3339(this.clock.now());
    const providerID = this.opts.providerID?.(name, index);
    const cap = simulatedCapacity(this.opts.capacity);
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': 'kumo-sim',
          'kumo.io/runtime': 'fake',
          ...(this.opts.labels?.(name, index) ?? {}),
        },
        annotations: { 'kumo.io/simulated-by': hostname(), ...(this.opts.annotations?.(name, index) ?? {}) },
      },
      spec: providerID ? { providerID } : {},
      status: {
        capacity: cap,
        allocatable: cap,
        conditions: this.readyConditions(now),
        addresses: [
          { type: 'InternalIP', address: this.ip(name, index) },
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          machineID: name,
          systemUUID: name,
          bootID: name,
          kernelVersion: 'simulated',
          osImage: 'kumo simulated node',
          containerRuntimeVersion: 'fake://kumo',
          kubeletVersion: 'v1.35.0-kumo',
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      },
    };
    return node as KObject;
  }

  private readyConditions(now: string): Condition[] {
    return nodeConditions(now);
  }

  private async register(name: string, index: number): Promise<void> {
    const desired = this.nodeObject(name, index);
    try {
      await this.client.create(NODES, undefined, desired);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const current = await this.client.get(NODES, undefined, name);
      await this.client.updateStatus(NODES, { ...current, status: desired.status });
    }
  }

  /** Posts Ready=True again (after a stop, the node lifecycle controller will have set Unknown). */
  private async postReady(name: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = await this.client.find<Node & KObject>(NODES, undefined, name);
      if (!node) return;
      try {
        await this.client.updateStatus(NODES, { ...node, status: { ...(node.status ?? {}), conditions: this.readyConditions(rfc3339(this.clock.now())) } });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  /**
   * A kubelet's node status loop: a running node whose Ready condition is not
   * True (the node lifecycle controller set Unknown when its leases came late)
   * is posted Ready again. Without it the node would stay tainted unreachable
   * for good: its lease is fresh again, but nobody else ever sets Ready.
   */
  private async syncNodeStatus(): Promise<void> {
    if (this.checkingStatus || this.closed) return;
    this.checkingStatus = true;
    try {
      for (const node of (await this.client.listAll<Node & KObject>(NODES, undefined)).items) {
        const name = node.metadata.name!;
        if (!this.nodes.has(name) || this.stopped.has(name) || this.closed) continue;
        if ((node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status !== 'True') await this.postReady(name);
      }
    } catch (err) {
      this.logger.warn(`kumo sim: node status: ${(err as Error).message}`);
    } finally {
      this.checkingStatus = false;
    }
  }

  private async renewAll(): Promise<void> {
    // One pass over the pods for every node's usage record: thousands of nodes must not each scan every pod.
    const byNode = this.runningPodsByNode();
    await Promise.all([...this.nodes].map((n) => this.renew(n, byNode).catch((err: Error) => this.logger.warn(`kumo sim: lease ${n}: ${err.message}`))));
  }

  /** The lease as last written per node, so a renewal is one write (a stale copy fails with 409 and is re-read). */
  private readonly leases = new Map<string, Lease & KObject>();
  /** Nodes whose renewal is under way. */
  private readonly renewing = new Set<string>();

  /**
   * Renews a node's lease, unless its last renewal is still under way: as a
   * kubelet's lease controller, renewals never overlap (an overlapping one
   * would write from the same cached copy and fail, so a slow API would see
   * fewer renewals still).
   */
  private async renew(name: string, byNode?: ReadonlyMap<string, P[]>): Promise<void> {
    if (this.stopped.has(name) || this.closed || this.renewing.has(name)) return;
    this.renewing.add(name);
    try {
      await this.renewNow(name, byNode);
    } finally {
      this.renewing.delete(name);
    }
  }

  private async renewNow(name: string, byNode: ReadonlyMap<string, P[]> = this.runningPodsByNode()): Promise<void> {
    const now = microTime(this.clock.now());
    const existing = this.leases.get(name) ?? (await this.client.find<Lease & KObject>(LEASES, NODE_LEASE_NAMESPACE, name));
    if (!existing) {
      const created = await createNodeLease(this.client, name, 40, now);
      if (created) this.leases.set(name, created);
      return;
    }
    const metadata = {
      ...existing.metadata,
      annotations: { ...(existing.metadata.annotations ?? {}), [RESOURCE_USAGE_ANNOTATION]: this.usage(name, byNode.get(name) ?? []) },
    };
    try {
      this.leases.set(name, await this.client.update<Lease & KObject>(LEASES, { ...existing, metadata, spec: { ...(existing.spec ?? {}), renewTime: now } }));
    } catch (err) {
      this.leases.delete(name);
      if (!(isConflict(err) || isNotFound(err))) throw err;
    }
  }

  /** When each node last reported its usage: the next report's window starts there. */
  private readonly reportedAt = new Map<string, number>();

  /** The running pods (not being deleted) of every node, from the pod watch. */
  private runningPodsByNode(): Map<string, P[]> {
    const out = new Map<string, P[]>();
    for (const obj of this.informer?.items.values() ?? []) {
      const p = obj as P;
      const node = p.spec?.nodeName;
      if (!node || p.status?.phase !== 'Running' || p.metadata.deletionTimestamp) continue;
      out.set(node, [...(out.get(node) ?? []), p]);
    }
    return out;
  }

  /** The usage record of a node's running pods (JSON for its Lease's annotation), over the time since its last report. */
  private usage(name: string, pods: readonly P[]): string {
    const now = this.clock.now();
    const since = this.reportedAt.get(name);
    this.reportedAt.set(name, now);
    const windowSeconds =
      since !== undefined && now > since ? Math.max(1, Math.round((now - since) / 1000)) : Math.round((this.opts.leaseRenewMs ?? 10_000) / 1000) || 1;
    return JSON.stringify(simulatedNodeUsage(pods, now, windowSeconds, this.opts.systemUsage));
  }

  private schedule(pod: P, ms: number, fn: () => Promise<void>): void {
    const uid = pod.metadata.uid!;
    if (this.timers.has(uid)) return;
    const t = setTimeout(() => {
      this.timers.delete(uid);
      if (this.closed) return;
      fn().catch((err: Error) => {
        if (!(isConflict(err) || isNotFound(err))) this.logger.warn(`kumo sim: pod ${pod.metadata.name}: ${err.message}`);
        // A lost race re-reads the pod and tries again.
        const fresh = this.informer?.get(pod.metadata.namespace, pod.metadata.name!) as P | undefined;
        if (fresh && !this.closed) this.onPod('MODIFIED', fresh);
      });
    }, ms);
    t.unref();
    this.timers.set(uid, t);
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: P): void {
    const node = pod.spec?.nodeName;
    if (!node || !this.nodes.has(node) || this.stopped.has(node)) return;
    if (type === 'DELETED') {
      const t = this.timers.get(pod.metadata.uid!);
      if (t) clearTimeout(t);
      this.timers.delete(pod.metadata.uid!);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      const t = this.timers.get(pod.metadata.uid!);
      if (t) clearTimeout(t);
      this.timers.delete(pod.metadata.uid!);
      const grace = (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
      this.schedule(pod, Math.min(this.opts.stopDelayMs ?? 100, grace), () => this.finishDeletion(pod));
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const running = (pod.status?.containerStatuses ?? []).length > 0 && phase === 'Running';
    if (!running) {
      this.schedule(pod, this.opts.startDelayMs ?? 200, () => this.startPod(pod));
      return;
    }
    // Running but marked not ready by the node lifecycle controller (reason NodeNotReady) while our heartbeats
    // came late: a kubelet's status manager posts its own status again. Readiness anyone else set (a test
    // standing in for a failing probe) stays as they set it.
    const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True' && ready.reason === POD_NODE_NOT_READY) {
      this.schedule(pod, 0, () => this.markReady(pod));
      return;
    }
    if ((pod.spec?.restartPolicy ?? 'Always') !== 'Always') {
      const runSeconds = Number(pod.metadata.annotations?.[SIM_RUN_SECONDS]);
      const runMs = Number.isFinite(runSeconds) ? runSeconds * 1000 : (this.opts.runMs ?? 1000);
      this.schedule(pod, runMs, () => this.exit(pod));
    }
  }

  /** The newest copy the watch has delivered; a stale one fails its write with 409 and is retried from a newer copy. */
  private fresh(pod: P): P | undefined {
    const cur = this.informer?.get(pod.metadata.namespace, pod.metadata.name!) as P | undefined;
    return cur && cur.metadata.uid === pod.metadata.uid ? cur : undefined;
  }

  private containerStatuses(pod: P, state: ContainerStatus['state'], ready: boolean, restarts = 0): ContainerStatus[] {
    return (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      state,
      ready,
      started: !!state?.running,
      restartCount: restarts,
      image: c.image ?? '',
      imageID: `fake://${c.image ?? ''}`,
      containerID: `fake://${pod.metadata.uid}/${c.name}`,
    }));
  }

  private async startPod(pod: P): Promise<void> {
    const cur = this.fresh(pod);
    if (!cur || cur.metadata.deletionTimestamp || this.stopped.has(cur.spec?.nodeName ?? '')) return;
    const now = rfc3339(this.clock.now());
    const cond = (type: string): Condition => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    const hostIP = this.ipOf.get(cur.spec!.nodeName!) ?? '10.0.0.1';
    const podIP = `10.244.${(hashOf(cur.metadata.uid!) >> 8) & 255}.${hashOf(cur.metadata.uid!) & 255}`;
    const status: Pod['status'] = {
      ...(cur.status ?? {}),
      phase: 'Running',
      conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: cur.status?.startTime ?? now,
      containerStatuses: this.containerStatuses(cur, { running: { startedAt: now } }, true),
    };
    await this.client.updateStatus(PODS, { ...cur, status } as KObject);
  }

  /** Sets the Ready and ContainersReady conditions of a running pod True again (the containers run on). */
  private async markReady(pod: P): Promise<void> {
    const cur = this.fresh(pod);
    if (!cur || cur.metadata.deletionTimestamp || this.stopped.has(cur.spec?.nodeName ?? '') || cur.status?.phase !== 'Running') return;
    const now = rfc3339(this.clock.now());
    const conditions = (cur.status.conditions ?? []).map((c) =>
      (c.type === 'Ready' || c.type === 'ContainersReady') && c.status !== 'True'
        ? { type: c.type, status: 'True', lastProbeTime: null, lastTransitionTime: now }
        : c,
    );
    await this.client.updateStatus(PODS, { ...cur, status: { ...cur.status, conditions } } as KObject);
  }

  private async exit(pod: P): Promise<void> {
    const cur = this.fresh(pod);
    if (!cur || cur.metadata.deletionTimestamp || this.stopped.has(cur.spec?.nodeName ?? '')) return;
    const code = Number(cur.metadata.annotations?.[SIM_EXIT_CODE] ?? '0') || 0;
    const now = rfc3339(this.clock.now());
    const started = cur.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? now;
    const terminated = { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: started, finishedAt: now } };
    if (code !== 0 && cur.spec?.restartPolicy === 'OnFailure') {
      const restarts = (cur.status?.containerStatuses?.[0]?.restartCount ?? 0) + 1;
      const statuses = this.containerStatuses(cur, { running: { startedAt: now } }, true, restarts).map((s) => ({ ...s, lastState: terminated }));
      await this.client.updateStatus(PODS, { ...cur, status: { ...(cur.status ?? {}), containerStatuses: statuses } } as KObject);
      return;
    }
    const phase = code === 0 ? 'Succeeded' : 'Failed';
    const conditions = (cur.status?.conditions ?? []).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: now } : c,
    );
    await this.client.updateStatus(PODS, {
      ...cur,
      status: {
        ...(cur.status ?? {}),
        phase,
        conditions,
        containerStatuses: this.containerStatuses(cur, terminated, false, cur.status?.containerStatuses?.[0]?.restartCount ?? 0),
      },
    } as KObject);
  }

  private async finishDeletion(pod: P): Promise<void> {
    const cur = this.fresh(pod);
    if (!cur || this.stopped.has(cur.spec?.nodeName ?? '')) return;
    await this.client.delete(PODS, cur.metadata.namespace, cur.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: cur.metadata.uid! } });
  }
}

function hashOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
