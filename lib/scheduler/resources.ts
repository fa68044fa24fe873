/** Resource accounting for scheduling: pod requests and node allocatable, in millicores and bytes. */
import type { Node } from '../api/core/v1/node.js';
import type { Container, Pod } from '../api/core/v1/pod.js';
import { milliCpu, parseQuantity } from '../api/quantity.js';

export interface Resources {
  /** millicores */
  cpu: number;
  /** bytes */
  memory: number;
  pods: number;
  /** other resources by name, in their own units */
  scalar: Record<string, number>;
}

export function emptyResources(): Resources {
  return { cpu: 0, memory: 0, pods: 0, scalar: {} };
}

function containerRequests(c: Container): Resources {
  return quantities(c.resources?.requests ?? {});
}

function quantities(list: Record<string, string | number>): Resources {
  const out = emptyResources();
  for (const [name, q] of Object.entries(list)) {
    if (name === 'cpu') out.cpu = milliCpu(q);
    else if (name === 'memory') out.memory = parseQuantity(q) ?? 0;
    else out.scalar[name] = parseQuantity(q) ?? 0;
  }
  return out;
}

function add(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = (scalar[k] ?? 0) + v;
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods, scalar };
}

function max(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = Math.max(scalar[k] ?? 0, v);
  return { cpu: Math.max(a.cpu, b.cpu), memory: Math.max(a.memory, b.memory), pods: Math.max(a.pods, b.pods), scalar };
}

/**
 * What a pod asks of a node (kube-scheduler's computePodResourceRequest): the
 * sum of its app containers and sidecars, or the largest init container if
 * that is more (init containers run one at a time), plus its RuntimeClass
 * overhead (`spec.overhead`) and one pod slot. Every resource counts this
 * way, ephemeral-storage and hugepages included.
 */
export function podRequests(pod: Pod): Resources {
  let sidecars = emptyResources();
  let initPeak = emptyResources();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') sidecars = add(sidecars, r);
    else initPeak = max(initPeak, add(sidecars, r));
  }
  let apps = emptyResources();
  for (const c of pod.spec?.containers ?? []) apps = add(apps, containerRequests(c));
  const total = add(max(add(apps, sidecars), initPeak), quantities(pod.spec?.overhead ?? {}));
  return { ...total, pods: 1 };
}

export function nodeAllocatable(node: Node): Resources {
  const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
  const out = emptyResources();
  for (const [name, q] of Object.entries(alloc)) {
    if (name === 'cpu') out.cpu = milliCpu(q);
    else if (name === 'memory') out.memory = parseQuantity(q) ?? 0;
    else if (name === 'pods') out.pods = parseQuantity(q) ?? 0;
    else out.scalar[name] = parseQuantity(q) ?? 0;
  }
  if (alloc.pods === undefined) out.pods = 110;
  return out;
}

export function addResources(a: Resources, b: Resources): Resources {
  return add(a, b);
}

export function subtractResources(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = (scalar[k] ?? 0) - v;
  return { cpu: a.cpu - b.cpu, memory: a.memory - b.memory, pods: a.pods - b.pods, scalar };
}
