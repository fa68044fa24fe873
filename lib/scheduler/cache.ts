/**
 * The scheduler's view of the cluster: every node with what its bound pods
 * request, kept current from change events (or rebuilt from a list), plus
 * pods the scheduler has just bound but not yet seen bound ("assumed"), so
 * back-to-back decisions never double-book a node, and the pods waiting for
 * a node that preemption is freeing for them (`status.nominatedNodeName`).
 */
import type { Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import { addResources, emptyResources, nodeAllocatable, podRequests, type Resources, subtractResources } from './resources.js';

export interface PodEntry {
  uid: string;
  node: string;
  /** spec.priority (0 when unset, as kube's PodPriority). */
  priority: number;
  /** The pod as last seen: preemption names, orders and evicts victims by it. */
  pod: Pod & KObject;
  requests: Resources;
  owner: string | undefined;
  hostPorts: string[];
  labels: Record<string, string>;
  namespace: string;
}

export class NodeInfo {
  requested: Resources = emptyResources();
  readonly pods = new Map<string, PodEntry>();
  readonly ownerCounts = new Map<string, number>();
  readonly hostPorts = new Map<string, number>();
  allocatable: Resources;

  constructor(public node: Node & KObject) {
    this.allocatable = nodeAllocatable(node);
  }

  get name(): string {
    return this.node.metadata.name!;
  }

  /** A copy to try changes on (preemption's dry runs) without touching this one. */
  clone(): NodeInfo {
    const copy = new NodeInfo(this.node);
    copy.allocatable = this.allocatable;
    for (const e of this.pods.values()) copy.add(e);
    return copy;
  }

  add(e: PodEntry): void {
    this.pods.set(e.uid, e);
    this.requested = addResources(this.requested, e.requests);
    if (e.owner) this.ownerCounts.set(e.owner, (this.ownerCounts.get(e.owner) ?? 0) + 1);
    for (const p of e.hostPorts) this.hostPorts.set(p, (this.hostPorts.get(p) ?? 0) + 1);
  }

  remove(uid: string): void {
    const e = this.pods.get(uid);
    if (!e) return;
    this.pods.delete(uid);
    this.requested = subtractResources(this.requested, e.requests);
    if (e.owner) {
      const n = (this.ownerCounts.get(e.owner) ?? 1) - 1;
      if (n <= 0) this.ownerCounts.delete(e.owner);
      else this.ownerCounts.set(e.owner, n);
    }
    for (const p of e.hostPorts) {
      const n = (this.hostPorts.get(p) ?? 1) - 1;
      if (n <= 0) this.hostPorts.delete(p);
      else this.hostPorts.set(p, n);
    }
  }
}

/** The host IP a host port binds when it names none: every address. */
export const ANY_HOST_IP = '0.0.0.0';

/** The pod's host ports as `protocol/hostIP/port`. */
export function hostPortsOf(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || ANY_HOST_IP}/${p.hostPort}`);
  }
  return out;
}

function holdsResources(pod: Pod): boolean {
  return !!pod.spec?.nodeName && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** The node preemption is freeing for a pod still waiting for it. */
function nominatedNode(pod: Pod & KObject): string | undefined {
  const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  return pod.spec?.nodeName || pod.metadata.deletionTimestamp || finished ? undefined : pod.status?.nominatedNodeName || undefined;
}

/** A pod's priority as the scheduler ranks it (kube's corev1helpers.PodPriority: unset is 0). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

export class SchedulerCache {
  readonly nodes = new Map<string, NodeInfo>();
  /** Where each counted pod is counted, by uid. */
  private readonly placed = new Map<string, string>();
  /** Pods counted by assumption; an observed event for them replaces the assumption. */
  private readonly assumed = new Set<string>();
  /** Pods bound to nodes the cache does not know yet, by node. */
  private readonly waiting = new Map<string, Map<string, PodEntry>>();
  /**
   * Unbound pods nominated to a node by preemption, by node then uid: the
   * scheduler counts them there for pods of no higher priority, so the room
   * freed for them is not taken by another (kube's nominator).
   */
  readonly nominated = new Map<string, Map<string, PodEntry>>();
  /** Where each nominated pod is nominated, by uid. */
  private readonly nominations = new Map<string, string>();

  load(nodes: (Node & KObject)[], pods: (Pod & KObject)[]): void {
    this.nodes.clear();
    this.placed.clear();
    this.assumed.clear();
    this.waiting.clear();
    this.nominated.clear();
    this.nominations.clear();
    for (const n of nodes) this.upsertNode(n);
    for (const p of pods) this.upsertPod(p);
  }

  upsertNode(node: Node & KObject): void {
    const name = node.metadata.name!;
    const info = this.nodes.get(name);
    if (info) {
      info.node = node;
      info.allocatable = nodeAllocatable(node);
      return;
    }
    const fresh = new NodeInfo(node);
    this.nodes.set(name, fresh);
    for (const e of this.waiting.get(name)?.values() ?? []) fresh.add(e);
    this.waiting.delete(name);
  }

  deleteNode(name: string): void {
    const info = this.nodes.get(name);
    this.nodes.delete(name);
    if (!info) return;
    for (const [uid, e] of info.pods) {
      let w = this.waiting.get(name);
      if (!w) this.waiting.set(name, (w = new Map()));
      w.set(uid, e);
    }
  }

  private entry(pod: Pod & KObject, node: string): PodEntry {
    return {
      uid: pod.metadata.uid!,
      node,
      priority: podPriority(pod),
      pod,
      requests: podRequests(pod),
      owner: controllerRef(pod)?.uid,
      hostPorts: hostPortsOf(pod),
      labels: pod.metadata.labels ?? {},
      namespace: pod.metadata.namespace ?? '',
    };
  }

  private place(e: PodEntry): void {
    this.placed.set(e.uid, e.node);
    const info = this.nodes.get(e.node);
    if (info) info.add(e);
    else {
      let w = this.waiting.get(e.node);
      if (!w) this.waiting.set(e.node, (w = new Map()));
      w.set(e.uid, e);
    }
  }

  private unplace(uid: string): void {
    const node = this.placed.get(uid);
    if (node === undefined) return;
    this.placed.delete(uid);
    this.nodes.get(node)?.remove(uid);
    this.waiting.get(node)?.delete(uid);
  }

  private unnominate(uid: string): void {
    const node = this.nominations.get(uid);
    if (node === undefined) return;
    this.nominations.delete(uid);
    const onNode = this.nominated.get(node);
    onNode?.delete(uid);
    if (onNode?.size === 0) this.nominated.delete(node);
  }

  /** Takes in any pod: bound ones count on their node, nominated ones on the node they wait for. */
  upsertPod(pod: Pod & KObject): void {
    const uid = pod.metadata.uid!;
    this.assumed.delete(uid);
    this.unplace(uid);
    this.unnominate(uid);
    if (holdsResources(pod)) this.place(this.entry(pod, pod.spec!.nodeName!));
    const nominated = nominatedNode(pod);
    if (nominated !== undefined) {
      let onNode = this.nominated.get(nominated);
      if (!onNode) this.nominated.set(nominated, (onNode = new Map()));
      onNode.set(uid, this.entry(pod, nominated));
      this.nominations.set(uid, nominated);
    }
  }

  deletePod(pod: Pod & KObject): void {
    this.assumed.delete(pod.metadata.uid!);
    this.unplace(pod.metadata.uid!);
    this.unnominate(pod.metadata.uid!);
  }

  /** Counts a pod on a node now, before its binding comes back as an event. */
  assume(pod: Pod & KObject, node: string): void {
    const uid = pod.metadata.uid!;
    this.unplace(uid);
    this.unnominate(uid);
    this.place(this.entry(pod, node));
    this.assumed.add(uid);
  }

  forget(pod: Pod & KObject): void {
    if (this.assumed.delete(pod.metadata.uid!)) this.unplace(pod.metadata.uid!);
  }
}
