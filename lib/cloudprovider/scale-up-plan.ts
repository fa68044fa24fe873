/**
 * How many nodes a node group needs for pods that fit nowhere (after
 * cluster-autoscaler's estimator): the pods are packed, largest first, onto
 * copies of a template node (one of the group's, emptied), the nodes already
 * on their way filled first; the count of copies it takes is the answer.
 * Each placement is checked with the scheduler's own filters, so a pod that
 * could never run on the group's nodes (a selector they do not match, a
 * request larger than a whole node) is reported instead of buying a node.
 * Pure.
 */
import type { Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../api/taints.js';
import { filter } from '../scheduler/algorithm.js';
import { SchedulerCache } from '../scheduler/cache.js';
import { podRequests } from '../scheduler/resources.js';
import { TAINT_SHUTDOWN } from './lifecycle.js';
import { ANNOTATION_CONTAINER_INSTANCE } from './node-facts.js';

type N = Node & KObject;
type P = Pod & KObject;

export interface ScaleUpPlan {
  /** New nodes the pods need beyond those already coming. */
  newNodes: number;
  /** Pods that would run on the planned or coming nodes. */
  helped: P[];
  /** Pods that would not fit even on an empty new node. */
  unhelpable: P[];
}

/** Taints a node has for a while, not by its nature: a new node starts without them. */
const TRANSIENT_TAINTS = new Set([TAINT_UNSCHEDULABLE, TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_SHUTDOWN]);

/** A new node like `node`: same labels, capacity and permanent taints; schedulable, Ready, empty. */
export function templateNode(node: N, name: string): N {
  const labels = { ...(node.metadata.labels ?? {}), 'kubernetes.io/hostname': name };
  const annotations = { ...(node.metadata.annotations ?? {}) };
  delete annotations[ANNOTATION_CONTAINER_INSTANCE];
  const taints = (node.spec?.taints ?? []).filter((t) => !TRANSIENT_TAINTS.has(t.key));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, annotations, uid: `template-${name}` },
    spec: taints.length > 0 ? { taints } : {},
    status: {
      capacity: node.status?.capacity ?? {},
      allocatable: node.status?.allocatable ?? node.status?.capacity ?? {},
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  } as N;
}

/** Largest requests first (CPU, then memory), so big pods are not left without room. */
function bySize(a: P, b: P): number {
  const ra = podRequests(a);
  const rb = podRequests(b);
  return rb.cpu - ra.cpu || rb.memory - ra.memory;
}

/**
 * `pending`: pods that fit no current node. `template`: a node of the group
 * (undefined when the group has none to copy: then one node is planned, to
 * learn what its nodes look like). `upcoming`: nodes launched but not yet
 * Ready.
 */
export function planScaleUp(pending: readonly P[], template: N | undefined, upcoming: number): ScaleUpPlan {
  if (pending.length === 0) return { newNodes: 0, helped: [], unhelpable: [] };
  if (!template) return { newNodes: upcoming > 0 ? 0 : 1, helped: [...pending], unhelpable: [] };
  const cache = new SchedulerCache();
  let count = 0;
  const add = (): string => {
    const name = `template-node-${count++}`;
    cache.upsertNode(templateNode(template, name));
    return name;
  };
  for (let i = 0; i < upcoming; i++) add();
  const helped: P[] = [];
  const unhelpable: P[] = [];
  for (const pod of [...pending].sort(bySize)) {
    const requests = podRequests(pod);
    let placed: string | undefined;
    for (const info of cache.nodes.values()) {
      if (filter(pod, info, requests).length === 0) {
        placed = info.name;
        break;
      }
    }
    if (!placed) {
      const probe = new SchedulerCache();
      probe.upsertNode(templateNode(template, 'probe'));
      if (filter(pod, probe.nodes.get('probe')!, requests).length > 0) {
        unhelpable.push(pod);
        continue;
      }
      placed = add();
    }
    cache.assume(pod, placed);
    helped.push(pod);
  }
  return { newNodes: Math.max(0, count - upcoming), helped, unhelpable };
}
