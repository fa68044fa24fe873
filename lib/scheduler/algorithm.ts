/**
 * Filtering and scoring, after kube-scheduler's default plugins:
 * NodeUnschedulable, node readiness, TaintToleration, NodeAffinity (with
 * nodeSelector), NodeResourcesFit, NodePorts as filters; LeastAllocated,
 * BalancedAllocation, spreading of one owner's pods (nodes, then zones),
 * preferred node affinity and PreferNoSchedule taints as scores. Pure:
 * works on a SchedulerCache snapshot.
 */
import type { Pod } from '../api/core/v1/pod.js';
import { matchesNodeSelector, matchesNodeSelectorTerms, matchesTerm } from '../api/node-affinity.js';
import { TAINT_UNSCHEDULABLE, tolerates } from '../api/taints.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import type { KObject } from '../api/object.js';
import type { NodeInfo, PodEntry } from './cache.js';
import { ANY_HOST_IP, hostPortsOf, podPriority } from './cache.js';
import { podRequests, type Resources } from './resources.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** The required node selector terms of each PV the pod's claims are bound to (each must match the node). */
export type VolumeAffinity = readonly (readonly Parameters<typeof matchesTerm>[0][])[];

export interface ScheduleResult {
  node?: string;
  /** Why each node was rejected: reason → number of nodes. */
  reasons: Map<string, number>;
  evaluated: number;
}

/**
 * Whether a host port (`protocol/hostIP/port`, as hostPortsOf writes it) is
 * in use on a node: the same protocol and port on the same host IP, or on
 * any host IP when either side binds 0.0.0.0 (kube-scheduler's
 * HostPortInfo.CheckConflict).
 */
function hostPortTaken(wanted: string, used: Map<string, number>): boolean {
  const [protocol, ip, port] = wanted.split('/');
  if (ip === ANY_HOST_IP) return [...used.keys()].some((k) => k.startsWith(`${protocol}/`) && k.endsWith(`/${port}`));
  return used.has(wanted) || used.has(`${protocol}/${ANY_HOST_IP}/${port}`);
}

/**
 * Reasons this node cannot take the pod (empty when it fits): the reason of
 * the first filter that fails, in kube-scheduler's order (NodeUnschedulable,
 * TaintToleration, readiness, NodeAffinity, NodePorts, NodeResourcesFit);
 * NodeResourcesFit names every resource that is short.
 */
export function filter(pod: Pod, info: NodeInfo, requests: Resources, volumeAffinity: VolumeAffinity = []): string[] {
  const node = info.node;
  const tolerations = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable && !tolerations.some((t) => tolerates(t, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }))) {
    return ['node(s) were unschedulable'];
  }
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const untolerated = (node.spec?.taints ?? []).find(
    (taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => tolerates(t, taint)),
  );
  if (untolerated) return [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`];
  if (ready?.status !== 'True') return ['node(s) were not ready'];
  if (!matchesNodeSelector(pod, node)) return ["node(s) didn't match Pod's node affinity/selector"];
  // VolumeBinding: every bound PV's required node affinity (a local volume lives on some nodes only).
  if (!volumeAffinity.every((terms) => matchesNodeSelectorTerms(terms, node))) return ['node(s) had volume node affinity conflict'];
  // NodePorts runs before NodeResourcesFit, and the first filter that fails is the node's only reason.
  if (hostPortsOf(pod).some((p) => hostPortTaken(p, info.hostPorts))) return ["node(s) didn't have free ports for the requested pod ports"];
  const reasons: string[] = [];
  const free = (have: number, used: number, want: number) => want === 0 || used + want <= have;
  if (info.requested.pods + 1 > info.allocatable.pods) reasons.push('Too many pods');
  if (!free(info.allocatable.cpu, info.requested.cpu, requests.cpu)) reasons.push('Insufficient cpu');
  if (!free(info.allocatable.memory, info.requested.memory, requests.memory)) reasons.push('Insufficient memory');
  for (const [name, want] of Object.entries(requests.scalar)) {
    if (!free(info.allocatable.scalar[name] ?? 0, info.requested.scalar[name] ?? 0, want)) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

function fraction(requested: number, allocatable: number): number {
  return allocatable <= 0 ? 1 : Math.min(1, requested / allocatable);
}

/** Scores for feasible nodes, 0..100 per plugin, weighted like kube-scheduler's defaults. */
export function score(pod: Pod & KObject, feasible: NodeInfo[], requests: Resources): Map<string, number> {
  const out = new Map<string, number>();
  const owner = controllerRef(pod)?.uid;
  const zoneCounts = new Map<string, number>();
  let maxNode = 0;
  let hasZones = false;
  if (owner) {
    for (const info of feasible) {
      const c = info.ownerCounts.get(owner) ?? 0;
      maxNode = Math.max(maxNode, c);
      const zone = info.node.metadata.labels?.[ZONE_LABEL];
      if (zone !== undefined) {
        hasZones = true;
        zoneCounts.set(zone, (zoneCounts.get(zone) ?? 0) + c);
      }
    }
  }
  const maxZone = Math.max(0, ...zoneCounts.values());
  const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const prefRaw = new Map<string, number>();
  let prefMax = 0;
  for (const info of feasible) {
    const p = preferred.reduce((n, term) => n + (matchesTerm(term.preference, info.node) ? term.weight : 0), 0);
    prefRaw.set(info.name, p);
    prefMax = Math.max(prefMax, p);
  }
  const tolerations = pod.spec?.tolerations ?? [];
  for (const info of feasible) {
    const cpuF = fraction(info.requested.cpu + requests.cpu, info.allocatable.cpu);
    const memF = fraction(info.requested.memory + requests.memory, info.allocatable.memory);
    const least = (1 - cpuF + (1 - memF)) * 50;
    const balanced = 100 - Math.abs(cpuF - memF) * 100;
    let spread = 100;
    if (owner) {
      const nodeScore = maxNode === 0 ? 100 : (100 * (maxNode - (info.ownerCounts.get(owner) ?? 0))) / maxNode;
      if (hasZones) {
        const zone = info.node.metadata.labels?.[ZONE_LABEL];
        const zoneScore = zone === undefined || maxZone === 0 ? 100 : (100 * (maxZone - (zoneCounts.get(zone) ?? 0))) / maxZone;
        spread = nodeScore / 3 + (zoneScore * 2) / 3;
      } else spread = nodeScore;
    }
    const pref = prefMax === 0 ? 0 : (100 * (prefRaw.get(info.name) ?? 0)) / prefMax;
    const soft = (info.node.spec?.taints ?? []).filter((t) => t.effect === 'PreferNoSchedule' && !tolerations.some((x) => tolerates(x, t))).length;
    const taintScore = 100 - Math.min(100, soft * 25);
    out.set(info.name, least + balanced + 2 * spread + 2 * pref + 3 * taintScore);
  }
  return out;
}

/** Pods nominated to nodes by preemption, by node then uid (SchedulerCache.nominated). */
export type Nominated = ReadonlyMap<string, ReadonlyMap<string, PodEntry>>;

const NONE_NOMINATED: Nominated = new Map();

/**
 * The node as a pod sees it when filtering: with the pods nominated to it
 * of equal or higher priority counted as if bound (kube-scheduler's
 * RunFilterPluginsWithNominatedPods), so the room preemption freed for them
 * is not taken by another pod. The node itself when none are.
 */
export function withNominated(pod: Pod & KObject, info: NodeInfo, nominated: Nominated): NodeInfo {
  const waiting = nominated.get(info.name);
  if (!waiting) return info;
  const priority = podPriority(pod);
  let view: NodeInfo | undefined;
  for (const e of waiting.values()) {
    if (e.uid === pod.metadata.uid || e.priority < priority) continue;
    view ??= info.clone();
    view.add(e);
  }
  return view ?? info;
}

/** How many feasible nodes to find before scoring (kube-scheduler's percentageOfNodesToScore, adaptive). */
export function feasibleTarget(total: number): number {
  if (total < 100) return total;
  const pct = Math.max(5, 50 - Math.floor(total / 125));
  return Math.max(100, Math.floor((total * pct) / 100));
}

/** The reason given for the nodes a pod's node affinity leaves out by name (kube's absent-nodes status after PreFilter). */
const NOT_NAMED = "node(s) didn't satisfy plugin(s) [NodeAffinity]";

/**
 * kube's NodeAffinity PreFilter: when every required term names nodes by
 * `metadata.name In [...]` (a DaemonSet's pods name one), only those nodes
 * can take the pod, so only they are filtered; undefined otherwise.
 */
function namedNodes(pod: Pod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return undefined;
  const names = new Set<string>();
  for (const term of terms) {
    const field = (term.matchFields ?? []).find((r) => r.key === 'metadata.name' && r.operator === 'In');
    if (!field) return undefined;
    for (const v of field.values ?? []) names.add(v);
  }
  return names;
}

/**
 * Picks a node for the pod, visiting nodes round-robin from `start` until
 * enough feasible ones are found. Ties go to a random top node.
 */
export function schedule(
  pod: Pod & KObject,
  all: NodeInfo[],
  start: number,
  random: () => number = Math.random,
  nominated: Nominated = NONE_NOMINATED,
  volumeAffinity: VolumeAffinity = [],
): ScheduleResult {
  const requests = podRequests(pod);
  const reasons = new Map<string, number>();
  const named = namedNodes(pod);
  const nodes = named ? all.filter((info) => named.has(info.name)) : all;
  if (named && nodes.length < all.length) reasons.set(NOT_NAMED, all.length - nodes.length);
  const feasible: NodeInfo[] = [];
  const target = feasibleTarget(nodes.length);
  let evaluated = 0;
  for (let i = 0; i < nodes.length && feasible.length < target; i++) {
    const info = nodes[(start + i) % nodes.length]!;
    evaluated++;
    const why = filter(pod, withNominated(pod, info, nominated), requests, volumeAffinity);
    if (why.length === 0) feasible.push(info);
    else for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  if (feasible.length === 0) return { reasons, evaluated };
  const scores = score(pod, feasible, requests);
  let best = -Infinity;
  let chosen: string | undefined;
  let ties = 0;
  for (const info of feasible) {
    const s = scores.get(info.name)!;
    if (s > best + 1e-9) {
      best = s;
      chosen = info.name;
      ties = 1;
    } else if (Math.abs(s - best) <= 1e-9) {
      ties++;
      if (random() * ties < 1) chosen = info.name;
    }
  }
  return { node: chosen!, reasons, evaluated };
}

/** kube-scheduler's FailedScheduling message: `0/3 nodes are available: 3 Insufficient cpu.` */
export function unschedulableMessage(total: number, reasons: Map<string, number>): string {
  const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}
