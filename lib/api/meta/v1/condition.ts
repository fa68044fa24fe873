/**
 * What every kind's condition type has (PodCondition, NodeCondition,
 * DeploymentCondition, metav1.Condition…, generated from k8s.io/api): the
 * helpers that read and set conditions of any kind take this. Each kind's
 * own condition type is assignable to it.
 */
export interface Condition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string | null;
  lastUpdateTime?: string | null;
  lastTransitionTime?: string | null;
  reason?: string;
  message?: string;
  [extra: string]: unknown;
}
