/** Pod state predicates and the deletion ranking the workload controllers share. */
import type { Pod } from '../api/core/v1/pod.js';

export function podCondition(pod: Pod, type: string) {
  return (pod.status?.conditions ?? []).find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds (Kubernetes' IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
  return since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod becomes available, or undefined if it is not ready (or already available). */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number | undefined {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True' || minReadySeconds <= 0) return undefined;
  const at = (ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0) + minReadySeconds * 1000;
  return at > now ? at - now : undefined;
}

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Counts toward a controller's replicas: not finished and not being deleted. */
export function isActive(pod: Pod): boolean {
  return !isTerminal(pod) && !pod.metadata.deletionTimestamp;
}

function phaseRank(pod: Pod): number {
  switch (pod.status?.phase) {
    case 'Pending':
      return 0;
    case 'Unknown':
      return 1;
    case 'Running':
      return 2;
    default:
      return 3;
  }
}

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => Math.max(n, c.restartCount), 0);
}

/**
 * Orders pods from the first to delete to the last (Kubernetes'
 * ActivePodsWithRanks): unscheduled before scheduled, pending before running,
 * not ready before ready, recently ready before long ready, more restarts
 * before fewer, newer before older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const unassigned = Number(!!a.spec?.nodeName) - Number(!!b.spec?.nodeName);
  if (unassigned !== 0) return unassigned;
  const phase = phaseRank(a) - phaseRank(b);
  if (phase !== 0) return phase;
  const ready = Number(isPodReady(a)) - Number(isPodReady(b));
  if (ready !== 0) return ready;
  if (isPodReady(a) && isPodReady(b)) {
    const ta = Date.parse(podCondition(a, 'Ready')?.lastTransitionTime ?? '') || 0;
    const tb = Date.parse(podCondition(b, 'Ready')?.lastTransitionTime ?? '') || 0;
    if (ta !== tb) return tb - ta;
  }
  const r = restarts(b) - restarts(a);
  if (r !== 0) return r;
  const ca = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const cb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ca !== cb) return cb - ca;
  return (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '');
}
