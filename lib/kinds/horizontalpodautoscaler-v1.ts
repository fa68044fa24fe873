/**
 * HorizontalPodAutoscaler in autoscaling/v1: the same objects as v2 (the
 * storage version, lib/kinds/horizontalpodautoscaler.ts), served in v1's
 * form through the Builtin conversion (lib/api/autoscaling/v1). As kube
 * validates the internal form, a v1 object is checked, defaulted, printed
 * and described as its v2 conversion is.
 */
import { convertHpa, HorizontalPodAutoscalerSchema, hpaToV2, METRICS_ANNOTATION } from '../api/autoscaling/v1/horizontalpodautoscaler.js';
import type { HorizontalPodAutoscaler as V1 } from '../api/autoscaling/v1/horizontalpodautoscaler.js';
import { DEFAULT_CPU_UTILIZATION, type HorizontalPodAutoscaler as V2 } from '../api/autoscaling/v2/horizontalpodautoscaler.js';
import { describeHpa, horizontalPodAutoscalerKind, hpaPrinter, hpaStrategy } from './horizontalpodautoscaler.js';
import { defineKind } from './kind.js';

export const horizontalPodAutoscalerV1Kind = defineKind({
  ...horizontalPodAutoscalerKind,
  version: 'v1',
  schema: HorizontalPodAutoscalerSchema,
  conversion: { storageVersion: 'v2', strategy: 'Builtin', convert: convertHpa },
  strategy: {
    // SetDefaults_HorizontalPodAutoscaler (v1): one replica at least; and, as kube's object comes back from v2
    // storage with v2's defaults, 80 % CPU when it names no metric at all.
    defaults(obj) {
      const hpa = obj as V1;
      hpa.spec ??= {};
      hpa.spec.minReplicas ??= 1;
      if (hpa.metadata.annotations?.[METRICS_ANNOTATION] === undefined) hpa.spec.targetCPUUtilizationPercentage ??= DEFAULT_CPU_UTILIZATION;
    },
    validate: (obj, ctx) => hpaStrategy.validate?.(hpaToV2(obj), ctx) ?? [],
    validateUpdate: (obj, old) => hpaStrategy.validateUpdate?.(hpaToV2(obj), hpaToV2(old)) ?? [],
    validateStatusUpdate: (obj, old) => hpaStrategy.validateStatusUpdate?.(hpaToV2(obj), hpaToV2(old)) ?? [],
  },
  printer: { columns: hpaPrinter.columns, row: (obj, now) => hpaPrinter.row(hpaToV2(obj), now) },
  describer: async (obj, ctx) => describeHpa(hpaToV2(obj) as V2, await ctx.events(), ctx.now),
});
