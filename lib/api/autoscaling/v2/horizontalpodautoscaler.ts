/**
 * HorizontalPodAutoscaler (autoscaling/v2), and the defaults kube's
 * SetDefaults_HorizontalPodAutoscaler and GenerateHPAScale{Up,Down}Rules
 * give it: the API server fills them into a stored object, the controller
 * uses them for an HPA stored without `behavior`.
 */
import type { HPAScalingPolicy, HPAScalingRules } from './shapes.generated.js';

/** One direction's rules with every field kube defaults set. */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: string;
  policies: HPAScalingPolicy[];
}

export {
  HorizontalPodAutoscalerSchema,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerCondition,
  type HPAScalingPolicy,
  type HPAScalingRules,
  type MetricSpec,
  type MetricStatus,
  type MetricTarget,
} from './shapes.generated.js';

/** autoscaling.DefaultCPUUtilization: the target of an HPA stored without metrics. */
export const DEFAULT_CPU_UTILIZATION = 80;

/** The tolerance around the target within which no scaling happens (--horizontal-pod-autoscaler-tolerance). */
export const DEFAULT_TOLERANCE = 0.1;

/** kube's scale-up default: no stabilization, the most of 4 pods or 100 % per 15 s. */
export const DEFAULT_SCALE_UP: Readonly<ScalingRules> = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};

/** kube's scale-down default: a 300 s stabilization window (--horizontal-pod-autoscaler-downscale-stabilization), 100 % per 15 s. */
export const DEFAULT_SCALE_DOWN: Readonly<ScalingRules> = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** One direction's rules with kube's defaults in every unset field (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules). */
export function scalingRules(rules: HPAScalingRules | null | undefined, direction: 'up' | 'down'): HPAScalingRules & ScalingRules {
  const d = direction === 'up' ? DEFAULT_SCALE_UP : DEFAULT_SCALE_DOWN;
  return {
    ...(rules ?? {}),
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: rules?.selectPolicy ?? d.selectPolicy,
    policies: rules?.policies && rules.policies.length > 0 ? rules.policies : d.policies.map((p) => ({ ...p })),
  };
}
