/** Taint and toleration matching (k8s.io/api core/v1 toleration.go), shared by the scheduler and the node lifecycle controller. */
import type { Toleration } from './core/v1/pod.js';
import type { Taint } from './core/v1/node.js';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  if (t.key !== taint.key) return false;
  return (t.value ?? '') === (taint.value ?? '');
}

/**
 * For NoExecute taints: how long the pod may stay (seconds), 0 if it must go
 * now, Infinity if it tolerates them forever (Kubernetes' getMinTolerationTime).
 */
export function minTolerationSeconds(tolerations: Toleration[] | null | undefined, taints: Taint[]): number {
  let min = Infinity;
  for (const taint of taints) {
    const matching = (tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return 0;
    for (const t of matching) {
      if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) min = Math.min(min, Math.max(0, t.tolerationSeconds));
    }
  }
  return min;
}
