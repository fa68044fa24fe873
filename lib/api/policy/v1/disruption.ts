/**
 * What the eviction subresource and the disruption controller both know of
 * a PodDisruptionBudget's status (k8s.io/api/policy/v1 constants and
 * k8s.io/component-helpers/apps/poddisruptionbudget).
 */
import type { PodDisruptionBudgetStatus } from './poddisruptionbudget.js';

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';
export const SYNC_FAILED_REASON = 'SyncFailed';
/** The StatusCause type of an eviction a budget refuses (policyv1.DisruptionBudgetCause). */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
/**
 * How long a pod the eviction subresource let go stays in disruptedPods
 * (disruption.DeletionTimeout): past it, the controller counts the pod again
 * as if it was never deleted.
 */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

type MetaCondition = NonNullable<PodDisruptionBudgetStatus['conditions']>[number];

/**
 * apimeta.SetStatusCondition: replaces the condition of the same type in
 * place, keeping its lastTransitionTime unless its status changes. Returns
 * a new list; must not mutate `conditions`.
 */
export function setStatusCondition(
  conditions: readonly MetaCondition[] | null | undefined,
  next: { type: string; status: string; reason: string; message: string; observedGeneration: number },
  now: string,
): MetaCondition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  if (i < 0) return [...list, { ...next, lastTransitionTime: now }];
  const old = list[i]!;
  list[i] = { ...next, lastTransitionTime: old.status === next.status ? old.lastTransitionTime : now };
  return list;
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while a disruption is allowed, else False/InsufficientPods. */
export function withDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: string): PodDisruptionBudgetStatus {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  const conditions = setStatusCondition(
    status.conditions,
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: '',
      observedGeneration: status.observedGeneration ?? 0,
    },
    now,
  );
  return { ...status, conditions };
}
