/**
 * The pieces of draining a node shared by the drain reconciler and
 * `kumo cordon|uncordon|drain`: cordoning (spec.unschedulable plus the
 * `node.kubernetes.io/unschedulable:NoSchedule` taint Kubernetes' node
 * lifecycle controller mirrors from it), evicting a pod through the
 * `pods/eviction` subresource (graceful: the pod's
 * terminationGracePeriodSeconds unless told otherwise), and which pods a
 * drain moves (not mirror pods, not DaemonSet pods: a DaemonSet would put
 * them straight back).
 */
import type { Lease } from '../api/coordination/v1/lease.js';
import type { Node, Taint } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { TAINT_UNSCHEDULABLE } from '../api/taints.js';
import { isConflict, isTooManyRequests, isNotFound } from '../api/errors.js';
import { type KubeClient, resourcePath } from '../client/client.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import { rfc3339 } from '../util/clock.js';
import { NODES, PODS } from '../kinds/resources.js';

type N = Node & KObject;
type P = Pod & KObject;

/** Set on a node a controller cordoned, naming it: that controller alone uncordons it (a user's cordon is left alone). */
export const ANNOTATION_CORDONED_BY = 'kumo.io/cordoned-by';
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export function isMirrorPod(pod: P): boolean {
  return pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
}

export function isDaemonSetPod(pod: P): boolean {
  return controllerRef(pod)?.kind === 'DaemonSet';
}

export function isTerminal(pod: P): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Pods that hold a node: a drain waits for these to be gone (terminating ones included). */
export function mustMove(pod: P): boolean {
  return !isTerminal(pod) && !isMirrorPod(pod) && !isDaemonSetPod(pod);
}

export function isCordoned(node: N): boolean {
  return node.spec?.unschedulable === true;
}

/**
 * The node's last sign of life: its Lease renewal or a Ready condition the
 * agent posted (as the node lifecycle controller reads it); its creation
 * when it never reported.
 */
export function lastHeartbeat(node: N, lease: (Lease & KObject) | undefined, now: number): number {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const posted = ready?.status === 'True' || ready?.status === 'False' ? Date.parse(ready.lastHeartbeatTime ?? '') || 0 : 0;
  return Math.max(Date.parse(lease?.spec?.renewTime ?? '') || 0, posted) || Date.parse(node.metadata.creationTimestamp ?? '') || now;
}

export type CordonResult = 'changed' | 'unchanged';

/**
 * Cordons (`unschedulable` true) or uncordons a node, with the taint that
 * goes with it. `by` marks a controller's cordon; with `by`, uncordoning
 * leaves a node alone that someone else cordoned. Retries lost
 * compare-and-swaps from a fresh read.
 */
export async function setUnschedulable(
  client: KubeClient,
  name: string,
  unschedulable: boolean,
  opts: { by?: string; now?: number; dryRun?: boolean } = {},
): Promise<{ result: CordonResult; node: N }> {
  for (let attempt = 0; ; attempt++) {
    const node = await client.get<N>(NODES, undefined, name);
    const annotations = { ...(node.metadata.annotations ?? {}) };
    const taints: Taint[] = [...(node.spec?.taints ?? [])];
    const hasTaint = taints.some((t) => t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule');
    if (unschedulable) {
      if (isCordoned(node) && hasTaint) return { result: 'unchanged', node };
      if (!hasTaint) taints.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule', timeAdded: rfc3339(opts.now ?? Date.now()) });
      if (opts.by && !isCordoned(node)) annotations[ANNOTATION_CORDONED_BY] = opts.by;
    } else {
      if (opts.by && annotations[ANNOTATION_CORDONED_BY] !== opts.by) return { result: 'unchanged', node };
      if (!isCordoned(node) && !hasTaint && annotations[ANNOTATION_CORDONED_BY] === undefined) return { result: 'unchanged', node };
      delete annotations[ANNOTATION_CORDONED_BY];
    }
    const kept = unschedulable ? taints : taints.filter((t) => !(t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule'));
    const spec: NonNullable<N['spec']> = { ...(node.spec ?? {}), taints: kept };
    if (unschedulable) spec.unschedulable = true;
    else delete spec.unschedulable;
    if (kept.length === 0) delete spec.taints;
    const next: N = { ...node, metadata: { ...node.metadata, annotations }, spec };
    if (Object.keys(annotations).length === 0) delete next.metadata.annotations;
    try {
      const updated = await client.update<N>(NODES, next, opts.dryRun ? { dryRun: true } : undefined);
      return { result: 'changed', node: updated };
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
    }
  }
}

export type EvictionResult = 'evicted' | 'gone' | 'blocked';

/**
 * Asks the API server to evict a pod (policy/v1 Eviction). `blocked` (429)
 * means a disruption budget said not now: try again later. With
 * `uid`, a pod recreated under the same name is left alone.
 */
export async function evictPod(
  client: KubeClient,
  pod: P,
  opts: { gracePeriodSeconds?: number; uid?: boolean; dryRun?: boolean } = {},
): Promise<EvictionResult> {
  const deleteOptions: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds >= 0) deleteOptions.gracePeriodSeconds = opts.gracePeriodSeconds;
  if (opts.uid) deleteOptions.preconditions = { uid: pod.metadata.uid };
  if (opts.dryRun) deleteOptions.dryRun = ['All'];
  try {
    await client.call({
      method: 'POST',
      path: resourcePath(PODS, pod.metadata.namespace, pod.metadata.name, 'eviction'),
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace }, deleteOptions },
    });
    return 'evicted';
  } catch (err) {
    if (isNotFound(err) || (opts.uid && isConflict(err))) return 'gone';
    if (isTooManyRequests(err)) return 'blocked';
    throw err;
  }
}

/** Pods bound to a node. */
export async function podsOnNode(client: KubeClient, node: string): Promise<P[]> {
  return (await client.listAll<P>(PODS, undefined, { fieldSelector: `spec.nodeName=${node}` })).items;
}
