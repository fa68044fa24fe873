/**
 * HorizontalPodAutoscaler in autoscaling/v1, served beside v2 (the storage
 * version) and converted as kube's pkg/apis/autoscaling/v1/conversion.go
 * does: v1 holds only a CPU utilization target and its current value; a v2
 * object's other metrics, current metrics, conditions and behavior travel
 * in v1 annotations so that a v1 read-modify-write keeps them.
 *
 * Difference from kube: the metrics annotations hold the v2 MetricSpec and
 * MetricStatus forms (kube writes its older alpha forms there); only clients
 * that parse those annotations can tell.
 */
import type { KObject } from '../../object.js';
import type { HorizontalPodAutoscaler as V2, MetricSpec, MetricStatus } from '../v2/horizontalpodautoscaler.js';
import type { HorizontalPodAutoscaler as V1 } from './shapes.generated.js';

export { HorizontalPodAutoscalerSchema, type HorizontalPodAutoscaler } from './shapes.generated.js';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';

const isCpuUtilization = (m: MetricSpec): boolean => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization';
const isCpuCurrent = (m: MetricStatus): boolean => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization != null;

function parsed<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // kube drops an annotation it cannot decode
  }
}

/** A v2 object in v1's form. */
export function hpaToV1(obj: KObject): KObject {
  const v2 = obj as V2;
  const annotations: Record<string, string> = { ...(v2.metadata.annotations ?? {}) };
  const metrics = v2.spec?.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length > 0) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  const current = v2.status?.currentMetrics ?? [];
  const cpuNow = current.find(isCpuCurrent);
  const otherNow = current.filter((m) => m !== cpuNow);
  if (otherNow.length > 0) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(otherNow);
  if ((v2.status?.conditions ?? []).length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(v2.status?.conditions);
  if (v2.spec?.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(v2.spec.behavior);
  const v1: V1 = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...v2.metadata, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: {
      ...(v2.spec?.scaleTargetRef ? { scaleTargetRef: v2.spec.scaleTargetRef } : {}),
      ...(v2.spec?.minReplicas != null ? { minReplicas: v2.spec.minReplicas } : {}),
      ...(v2.spec?.maxReplicas != null ? { maxReplicas: v2.spec.maxReplicas } : {}),
      ...(cpu?.resource?.target?.averageUtilization != null ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}),
    },
  };
  if (v2.status) {
    v1.status = {
      ...(v2.status.observedGeneration != null ? { observedGeneration: v2.status.observedGeneration } : {}),
      ...(v2.status.lastScaleTime ? { lastScaleTime: v2.status.lastScaleTime } : {}),
      currentReplicas: v2.status.currentReplicas ?? 0,
      desiredReplicas: v2.status.desiredReplicas ?? 0,
      ...(cpuNow?.resource?.current?.averageUtilization != null ? { currentCPUUtilizationPercentage: cpuNow.resource.current.averageUtilization } : {}),
    };
  }
  return v1 as KObject;
}

/** A v1 object in v2's form (the annotations that carried v2's fields are consumed). */
export function hpaToV2(obj: KObject): KObject {
  const v1 = obj as V1;
  const annotations: Record<string, string> = { ...(v1.metadata.annotations ?? {}) };
  const take = <T>(key: string): T | undefined => {
    const value = parsed<T>(annotations[key]);
    delete annotations[key];
    return value;
  };
  const others = take<MetricSpec[]>(METRICS_ANNOTATION) ?? [];
  const otherNow = take<MetricStatus[]>(CURRENT_METRICS_ANNOTATION) ?? [];
  const conditions = take<NonNullable<V2['status']>['conditions']>(CONDITIONS_ANNOTATION);
  const behavior = take<NonNullable<V2['spec']>['behavior']>(BEHAVIOR_ANNOTATION);
  const target = v1.spec?.targetCPUUtilizationPercentage;
  const metrics: MetricSpec[] = [
    ...(target != null ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }] : []),
    ...others,
  ];
  const { annotations: _, ...meta } = v1.metadata;
  const v2: V2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...meta, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: {
      ...(v1.spec?.scaleTargetRef ? { scaleTargetRef: v1.spec.scaleTargetRef } : {}),
      ...(v1.spec?.minReplicas != null ? { minReplicas: v1.spec.minReplicas } : {}),
      ...(v1.spec?.maxReplicas != null ? { maxReplicas: v1.spec.maxReplicas } : {}),
      ...(metrics.length > 0 ? { metrics } : {}),
      ...(behavior ? { behavior } : {}),
    },
  };
  if (v1.status) {
    const cpuNow = v1.status.currentCPUUtilizationPercentage;
    const current: MetricStatus[] = [
      ...(cpuNow != null ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cpuNow } } }] : []),
      ...otherNow,
    ];
    v2.status = {
      ...(v1.status.observedGeneration != null ? { observedGeneration: v1.status.observedGeneration } : {}),
      ...(v1.status.lastScaleTime ? { lastScaleTime: v1.status.lastScaleTime } : {}),
      currentReplicas: v1.status.currentReplicas ?? 0,
      desiredReplicas: v1.status.desiredReplicas ?? 0,
      ...(current.length > 0 ? { currentMetrics: current } : {}),
      ...(conditions ? { conditions } : {}),
    };
  }
  return v2 as KObject;
}

/** Converts between the two served versions (the registry's Builtin conversion). */
export function convertHpa(obj: KObject, apiVersion: string): KObject {
  return apiVersion === 'autoscaling/v1' ? hpaToV1(obj) : hpaToV2(obj);
}
