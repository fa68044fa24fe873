/** `kubectl describe` for nodes and namespaces (describeNode, describeNamespace in kubectl v0.35). */
import type { Lease } from '../../api/coordination/v1/lease.js';
import type { Event } from '../../api/core/v1/event.js';
import type { LimitRange } from '../../api/core/v1/limitrange.js';
import type { Namespace } from '../../api/core/v1/namespace.js';
import type { Node } from '../../api/core/v1/node.js';
import type { Container, Pod } from '../../api/core/v1/pod.js';
import type { ResourceQuota } from '../../api/core/v1/resourcequota.js';
import { formatBytes, formatMilliCpu, milliCpu, parseQuantity } from '../../api/quantity.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline, printTaintsMultiline, rfc1123z, since } from './common.js';
import { describeLimitRanges, describeResourceQuotas } from './quota.js';
import { LEVEL_0, LEVEL_1, type PrefixWriter, tabbed } from './writer.js';

interface Condition {
  type: string;
  status: string;
  reason?: string | null;
  message?: string | null;
  lastHeartbeatTime?: string | null;
  lastTransitionTime?: string | null;
}

/** kubectl's describeNamespace; the quota and limit sections are left out where they could not be listed (undefined). */
export function describeNamespace(ns: Namespace, quotas?: readonly ResourceQuota[], limits?: readonly LimitRange[]): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${ns.metadata.name ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', ns.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', ns.metadata.annotations);
    w.write(LEVEL_0, `Status:\t${ns.status?.phase ?? ''}\n`);
    const conditions = (ns.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
    if (conditions.length > 0) {
      w.write(LEVEL_0, 'Conditions:\n');
      w.write(LEVEL_1, 'Type\tStatus\tLastTransitionTime\tReason\tMessage\n');
      w.write(LEVEL_1, '----\t------\t------------------\t------\t-------\n');
      for (const c of conditions) {
        w.write(LEVEL_1, `${c.type}\t${c.status}\t${rfc1123z(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
      }
    }
    if (quotas) {
      w.write(LEVEL_0, '\n');
      describeResourceQuotas(quotas, w);
    }
    if (limits) {
      w.write(LEVEL_0, '\n');
      describeLimitRanges(limits, w);
    }
  });
}

function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

type Resources = Record<string, number>;

function addTo(into: Resources, list: Record<string, string | number> | null | undefined): void {
  for (const [name, q] of Object.entries(list ?? {})) into[name] = (into[name] ?? 0) + (parseQuantity(q) ?? 0);
}

/** A pod's effective requests or limits: app containers summed, at least the largest init container. */
function podResources(pod: Pod, kind: 'requests' | 'limits'): Resources {
  const total: Resources = {};
  for (const c of pod.spec?.containers ?? []) addTo(total, (c.resources as Container['resources'])?.[kind]);
  for (const c of pod.spec?.initContainers ?? []) {
    const one: Resources = {};
    addTo(one, c.resources?.[kind]);
    for (const [k, v] of Object.entries(one)) if (v > (total[k] ?? 0)) total[k] = v;
  }
  return total;
}

function formatQuantity(name: string, value: number): string {
  if (value === 0) return '0';
  if (name === 'cpu') return formatMilliCpu(milliCpu(value));
  return formatBytes(value);
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.trunc((part / whole) * 100) : 0);

function describeNodeResource(pods: readonly Pod[], node: Node, w: PrefixWriter, now: number): void {
  w.write(LEVEL_0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(LEVEL_1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(LEVEL_1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  const alloc: Resources = {};
  addTo(alloc, Object.keys(node.status?.allocatable ?? {}).length > 0 ? node.status?.allocatable : node.status?.capacity);
  const cpuAlloc = alloc.cpu ?? 0;
  const memAlloc = alloc.memory ?? 0;
  const reqs: Resources = {};
  const limits: Resources = {};
  for (const pod of pods) {
    const r = podResources(pod, 'requests');
    const l = podResources(pod, 'limits');
    for (const [k, v] of Object.entries(r)) reqs[k] = (reqs[k] ?? 0) + v;
    for (const [k, v] of Object.entries(l)) limits[k] = (limits[k] ?? 0) + v;
    w.write(
      LEVEL_1,
      `${pod.metadata.namespace ?? ''}\t${pod.metadata.name ?? ''}\t\t${formatQuantity('cpu', r.cpu ?? 0)} (${pct(r.cpu ?? 0, cpuAlloc)}%)\t${formatQuantity('cpu', l.cpu ?? 0)} (${pct(l.cpu ?? 0, cpuAlloc)}%)\t${formatQuantity('memory', r.memory ?? 0)} (${pct(r.memory ?? 0, memAlloc)}%)\t${formatQuantity('memory', l.memory ?? 0)} (${pct(l.memory ?? 0, memAlloc)}%)\t${since(pod.metadata.creationTimestamp, now)}\n`,
    );
  }
  w.write(LEVEL_0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  w.write(LEVEL_1, 'Resource\tRequests\tLimits\n');
  w.write(LEVEL_1, '--------\t--------\t------\n');
  for (const name of ['cpu', 'memory', 'ephemeral-storage']) {
    const a = alloc[name] ?? 0;
    w.write(
      LEVEL_1,
      `${name}\t${formatQuantity(name, reqs[name] ?? 0)} (${pct(reqs[name] ?? 0, a)}%)\t${formatQuantity(name, limits[name] ?? 0)} (${pct(limits[name] ?? 0, a)}%)\n`,
    );
  }
  const names = Object.keys(alloc).sort();
  for (const name of names.filter((n) => n.startsWith('hugepages-'))) {
    const a = alloc[name] ?? 0;
    w.write(
      LEVEL_1,
      `${name}\t${formatQuantity(name, reqs[name] ?? 0)} (${pct(reqs[name] ?? 0, a)}%)\t${formatQuantity(name, limits[name] ?? 0)} (${pct(limits[name] ?? 0, a)}%)\n`,
    );
  }
  for (const name of names.filter((n) => n.includes('/') && !n.startsWith('kubernetes.io/') && !n.startsWith('requests.'))) {
    w.write(LEVEL_1, `${name}\t${String(reqs[name] ?? 0)}\t${String(limits[name] ?? 0)}\n`);
  }
}

/**
 * `kubectl describe node`. `pods` are the node's non-terminated pods
 * ('forbidden' when the caller may not list them); `lease` is its
 * kube-node-lease Lease or the error reading it.
 */
export function describeNode(node: Node, pods: readonly Pod[] | 'forbidden', lease: Lease | Error, events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    const spec = node.spec ?? {};
    const status = node.status ?? {};
    const info = (status.nodeInfo ?? {}) as Record<string, string | undefined>;
    w.write(LEVEL_0, `Name:\t${node.metadata.name ?? ''}\n`);
    const roles = nodeRoles(node);
    w.write(LEVEL_0, `Roles:\t${roles.length > 0 ? roles.join(',') : '<none>'}\n`);
    printLabelsMultiline(w, 'Labels', node.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', node.metadata.annotations);
    w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(node.metadata.creationTimestamp)}\n`);
    printTaintsMultiline(w, 'Taints', spec.taints);
    w.write(LEVEL_0, `Unschedulable:\t${spec.unschedulable ?? false}\n`);
    if (lease instanceof Error) w.write(LEVEL_0, `Lease:\tFailed to get lease: ${lease.message}\n`);
    else {
      const s = lease.spec ?? {};
      w.write(LEVEL_0, 'Lease:\n');
      w.write(LEVEL_1, `HolderIdentity:\t${s.holderIdentity ?? '<unset>'}\n`);
      w.write(LEVEL_1, `AcquireTime:\t${s.acquireTime ? rfc1123z(s.acquireTime) : '<unset>'}\n`);
      w.write(LEVEL_1, `RenewTime:\t${s.renewTime ? rfc1123z(s.renewTime) : '<unset>'}\n`);
    }
    const conditions = (status.conditions ?? []) as Condition[];
    if (conditions.length > 0) {
      w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
      w.write(LEVEL_1, '----\t------\t-----------------\t------------------\t------\t-------\n');
      for (const c of conditions) {
        w.write(
          LEVEL_1,
          `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`,
        );
      }
    }
    w.write(LEVEL_0, 'Addresses:\n');
    for (const a of status.addresses ?? []) w.write(LEVEL_1, `${a.type}:\t${a.address}\n`);
    for (const [title, list] of [
      ['Capacity', status.capacity],
      ['Allocatable', status.allocatable],
    ] as const) {
      const names = Object.keys(list ?? {}).sort();
      if (names.length === 0) continue;
      w.write(LEVEL_0, `${title}:\n`);
      for (const n of names) w.write(LEVEL_0, `  ${n}:\t${String(list![n])}\n`);
    }
    w.write(LEVEL_0, 'System Info:\n');
    w.write(LEVEL_0, `  Machine ID:\t${info.machineID ?? ''}\n`);
    w.write(LEVEL_0, `  System UUID:\t${info.systemUUID ?? ''}\n`);
    w.write(LEVEL_0, `  Boot ID:\t${info.bootID ?? ''}\n`);
    w.write(LEVEL_0, `  Kernel Version:\t${info.kernelVersion ?? ''}\n`);
    w.write(LEVEL_0, `  OS Image:\t${info.osImage ?? ''}\n`);
    w.write(LEVEL_0, `  Operating System:\t${info.operatingSystem ?? ''}\n`);
    w.write(LEVEL_0, `  Architecture:\t${info.architecture ?? ''}\n`);
    w.write(LEVEL_0, `  Container Runtime Version:\t${info.containerRuntimeVersion ?? ''}\n`);
    w.write(LEVEL_0, `  Kubelet Version:\t${info.kubeletVersion ?? ''}\n`);
    w.write(LEVEL_0, `  Kube-Proxy Version:\t${info.kubeProxyVersion ?? ''}\n`);
    if (spec.podCIDR) w.write(LEVEL_0, `PodCIDR:\t${spec.podCIDR}\n`);
    if ((spec.podCIDRs ?? []).length > 0) w.write(LEVEL_0, `PodCIDRs:\t${(spec.podCIDRs ?? []).join(',')}\n`);
    if (spec.providerID) w.write(LEVEL_0, `ProviderID:\t${spec.providerID}\n`);
    if (pods === 'forbidden') w.write(LEVEL_0, 'Pods:\tnot authorized\n');
    else describeNodeResource(pods, node, w, now);
    if (events) describeEvents(events, w, now);
  });
}
