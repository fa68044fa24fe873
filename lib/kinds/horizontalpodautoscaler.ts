/**
 * HorizontalPodAutoscaler (autoscaling/v2): namespaced, with a status
 * subresource, after kube's pkg/registry/autoscaling/horizontalpodautoscaler
 * (defaults, validation with kube's messages), kubectl's
 * printHorizontalPodAutoscaler columns and its v2 describer. The control loop
 * is lib/controllers/podautoscaler.
 */
import {
  DEFAULT_CPU_UTILIZATION,
  HorizontalPodAutoscalerSchema,
  scalingRules,
  type HorizontalPodAutoscaler,
  type HPAScalingRules,
  type MetricSpec,
  type MetricStatus,
  type MetricTarget,
} from '../api/autoscaling/v2/horizontalpodautoscaler.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { parseQuantity } from '../api/quantity.js';
import { pathSegmentName } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline, rfc1123z } from '../printers/describe/common.js';
import { LEVEL_0, LEVEL_1, LEVEL_2, tabbed, type PrefixWriter } from '../printers/describe/writer.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';

type HPA = HorizontalPodAutoscaler;

const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'] as const;
const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'] as const;
const POLICY_TYPES = ['Percent', 'Pods'] as const;
/** autoscaling.MaxStabilizationWindowSeconds and MaxPeriodSeconds. */
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

function positive(q: unknown): boolean {
  return (parseQuantity(q as string | number) ?? 0) > 0;
}

/** validateMetricTarget. */
function validateTarget(t: MetricTarget | null | undefined, path: string, errs: FieldError[]): void {
  const type = t?.type ?? '';
  if (type === '') errs.push(fieldErrors.required(`${path}.type`, 'must specify a metric target type'));
  if (!TARGET_TYPES.includes(type)) errs.push(fieldErrors.invalid(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  if (t?.value != null && !positive(t.value)) errs.push(fieldErrors.invalid(`${path}.value`, t.value, 'must be positive'));
  if (t?.averageValue != null && !positive(t.averageValue)) errs.push(fieldErrors.invalid(`${path}.averageValue`, t.averageValue, 'must be positive'));
  if (t?.averageUtilization != null && t.averageUtilization < 1)
    errs.push(fieldErrors.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
}

/** validateResourceSource and validateContainerResourceSource. */
function validateResource(
  src: { name?: string | null; target?: MetricTarget | null; container?: string | null },
  path: string,
  container: boolean,
  errs: FieldError[],
): void {
  if (!src.name) errs.push(fieldErrors.required(`${path}.name`, 'must specify a resource name'));
  if (container && !src.container) errs.push(fieldErrors.required(`${path}.container`, 'must specify a container'));
  validateTarget(src.target, `${path}.target`, errs);
  const t = src.target ?? {};
  if (t.averageUtilization == null && t.averageValue == null)
    errs.push(fieldErrors.required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (t.averageUtilization != null && t.averageValue != null)
    errs.push(fieldErrors.forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
}

/** validateMetricSpec: one source, of the type named, and (for the resource sources kumo measures) its target. */
function validateMetric(m: MetricSpec, path: string, errs: FieldError[]): void {
  const type = m.type ?? '';
  if (type === '') errs.push(fieldErrors.required(`${path}.type`, 'must specify a metric source type'));
  if (!(METRIC_SOURCE_TYPES as readonly string[]).includes(type)) errs.push(fieldErrors.notSupported(`${path}.type`, type, METRIC_SOURCE_TYPES));
  const present = (['object', 'pods', 'resource', 'containerResource', 'external'] as const).filter((f) => m[f] != null);
  if (m.resource && present[0] === 'resource') validateResource(m.resource, `${path}.resource`, false, errs);
  if (m.containerResource && present[0] === 'containerResource') validateResource(m.containerResource, `${path}.containerResource`, true, errs);
  const expected = type === 'ContainerResource' ? 'containerResource' : type.toLowerCase();
  if (!(present as readonly string[]).includes(expected))
    errs.push(fieldErrors.required(`${path}.${expected}`, 'must populate information for the given metric source'));
  if (present.length !== 1) {
    for (const f of present) if (f !== expected) errs.push(fieldErrors.forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  }
}

/** validateScalingRules. */
function validateRules(rules: HPAScalingRules | null | undefined, path: string, errs: FieldError[]): void {
  if (!rules) return;
  const w = rules.stabilizationWindowSeconds;
  if (w != null && w < 0) errs.push(fieldErrors.invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (w != null && w > MAX_STABILIZATION_WINDOW_SECONDS)
    errs.push(fieldErrors.invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (rules.selectPolicy != null && !(SELECT_POLICIES as readonly string[]).includes(rules.selectPolicy))
    errs.push(fieldErrors.notSupported(`${path}.selectPolicy`, rules.selectPolicy, SELECT_POLICIES));
  if ((rules.policies ?? []).length === 0) errs.push(fieldErrors.required(`${path}.policies`, 'must specify at least one Policy'));
  (rules.policies ?? []).forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (!(POLICY_TYPES as readonly string[]).includes(p.type ?? '')) errs.push(fieldErrors.notSupported(`${pp}.type`, p.type ?? '', POLICY_TYPES));
    if ((p.value ?? 0) <= 0) errs.push(fieldErrors.invalid(`${pp}.value`, p.value ?? 0, 'must be greater than zero'));
    if ((p.periodSeconds ?? 0) <= 0) errs.push(fieldErrors.invalid(`${pp}.periodSeconds`, p.periodSeconds ?? 0, 'must be greater than zero'));
    if ((p.periodSeconds ?? 0) > MAX_PERIOD_SECONDS)
      errs.push(fieldErrors.invalid(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
}

/** validateHorizontalPodAutoscalerSpec. */
export function validateHorizontalPodAutoscaler(hpa: HPA): FieldError[] {
  const errs: FieldError[] = [];
  const spec = hpa.spec ?? {};
  const min = spec.minReplicas;
  const max = spec.maxReplicas ?? 0;
  if (min != null && min < 1) errs.push(fieldErrors.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(fieldErrors.invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min != null && max < min) errs.push(fieldErrors.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  const ref = spec.scaleTargetRef ?? {};
  for (const f of ['kind', 'name'] as const) {
    const v = ref[f] ?? '';
    if (v === '') errs.push(fieldErrors.required(`spec.scaleTargetRef.${f}`));
    else for (const msg of pathSegmentName(v)) errs.push(fieldErrors.invalid(`spec.scaleTargetRef.${f}`, v, msg));
  }
  (spec.metrics ?? []).forEach((m, i) => validateMetric(m, `spec.metrics[${i}]`, errs));
  validateRules(spec.behavior?.scaleUp, 'spec.behavior.scaleUp', errs);
  validateRules(spec.behavior?.scaleDown, 'spec.behavior.scaleDown', errs);
  return errs;
}

export const hpaStrategy: Strategy = {
  // SetDefaults_HorizontalPodAutoscaler (v2): one replica at least, 80 % CPU without metrics, the behavior's unset fields.
  defaults(obj) {
    const hpa = obj as HPA;
    hpa.spec ??= {};
    hpa.spec.minReplicas ??= 1;
    if ((hpa.spec.metrics ?? []).length === 0) {
      hpa.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
    }
    const b = hpa.spec.behavior;
    if (b) hpa.spec.behavior = { ...b, scaleUp: scalingRules(b.scaleUp, 'up'), scaleDown: scalingRules(b.scaleDown, 'down') };
  },
  validate: (obj) => validateHorizontalPodAutoscaler(obj as HPA),
  validateUpdate: (obj) => validateHorizontalPodAutoscaler(obj as HPA),
  validateStatusUpdate(obj) {
    const s = (obj as HPA).status ?? {};
    const errs: FieldError[] = [];
    if ((s.currentReplicas ?? 0) < 0) errs.push(fieldErrors.invalid('status.currentReplicas', s.currentReplicas, 'must be greater than or equal to 0'));
    // kube's path has this typo (ValidateHorizontalPodAutoscalerStatusUpdate).
    if ((s.desiredReplicas ?? 0) < 0) errs.push(fieldErrors.invalid('status.desiredReplicasa', s.desiredReplicas, 'must be greater than or equal to 0'));
    return errs;
  },
};

/** kubectl's formatHPAMetrics: `cpu: 40%/80%`, `memory: 12Mi/100Mi`, `<unknown>` before a measurement. */
export function formatHpaTargets(specs: readonly MetricSpec[], statuses: readonly MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  const max = 2;
  for (const [i, spec] of specs.entries()) {
    const status = statuses[i];
    const src = spec.type === 'Resource' ? spec.resource : spec.type === 'ContainerResource' ? spec.containerResource : undefined;
    const current = spec.type === 'Resource' ? status?.resource?.current : spec.type === 'ContainerResource' ? status?.containerResource?.current : undefined;
    if (src) {
      const name = src.name ?? '';
      if (src.target?.averageValue != null) {
        list.push(`${name}: ${current?.averageValue ?? '<unknown>'}/${src.target.averageValue}`);
      } else {
        const cur = current?.averageUtilization != null ? `${current.averageUtilization}%` : '<unknown>';
        const target = src.target?.averageUtilization != null ? `${src.target.averageUtilization}%` : '<auto>';
        list.push(`${name}: ${cur}/${target}`);
      }
    } else {
      // Pods, Object and External metrics: kumo serves no custom or external metrics API, so never measured.
      const target = spec.pods?.target ?? spec.object?.target ?? spec.external?.target;
      const avg = !spec.pods && target?.averageValue != null ? ' (avg)' : '';
      list.push(`<unknown>/${target?.averageValue ?? target?.value ?? '<unknown>'}${avg}`);
    }
  }
  const shown = list.slice(0, max).join(', ');
  return list.length > max ? `${shown} + ${list.length - max} more...` : shown;
}

/** kubectl get hpa (printHorizontalPodAutoscaler). */
export const hpaPrinter: Printer = {
  columns: [NAME, col('Reference'), col('Targets'), col('MinPods', 'string'), col('MaxPods', 'integer'), col('Replicas', 'integer'), AGE],
  row(obj, now) {
    const hpa = obj as HPA;
    const ref = hpa.spec?.scaleTargetRef;
    return [
      hpa.metadata.name ?? '',
      `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
      formatHpaTargets(hpa.spec?.metrics ?? [], hpa.status?.currentMetrics ?? []),
      hpa.spec?.minReplicas != null ? String(hpa.spec.minReplicas) : '<unset>',
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      age(hpa.metadata.creationTimestamp, now),
    ];
  },
};

function describeRules(w: PrefixWriter, title: string, rules: HPAScalingRules | null | undefined): void {
  if (!rules) return;
  w.write(LEVEL_1, `${title}:\n`);
  if (rules.stabilizationWindowSeconds != null) w.write(LEVEL_2, `Stabilization Window: ${rules.stabilizationWindowSeconds} seconds\n`);
  if ((rules.policies ?? []).length > 0) {
    w.write(LEVEL_2, `Select Policy: ${rules.selectPolicy ?? 'Max'}\n`);
    w.write(LEVEL_2, 'Policies:\n');
    for (const p of rules.policies ?? []) w.write(LEVEL_2, `  - Type: ${p.type}\tValue: ${p.value}\tPeriod: ${p.periodSeconds} seconds\n`);
  }
}

/** kubectl's describeHorizontalPodAutoscalerV2. */
export function describeHpa(hpa: HPA, events: Parameters<typeof describeEvents>[0] | undefined, now: number): string {
  return tabbed((w) => {
    const spec = hpa.spec ?? {};
    const status = hpa.status ?? {};
    w.write(LEVEL_0, `Name:\t${hpa.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${hpa.metadata.namespace ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', hpa.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', hpa.metadata.annotations);
    w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(hpa.metadata.creationTimestamp)}\n`);
    w.write(LEVEL_0, `Reference:\t${spec.scaleTargetRef?.kind ?? ''}/${spec.scaleTargetRef?.name ?? ''}\n`);
    w.write(LEVEL_0, 'Metrics:\t( current / target )\n');
    for (const [i, m] of (spec.metrics ?? []).entries()) {
      const src = m.resource ?? m.containerResource;
      if (!src) {
        w.write(LEVEL_1, `${m.type ?? ''} metric:\t<unknown> / <unknown>\n`);
        continue;
      }
      const cur = (m.resource ? status.currentMetrics?.[i]?.resource : status.currentMetrics?.[i]?.containerResource)?.current;
      const on = m.containerResource ? `resource ${src.name} of container "${m.containerResource.container}" on pods` : `resource ${src.name} on pods`;
      if (src.target?.averageValue != null) {
        w.write(LEVEL_1, `${on}:\t${cur?.averageValue ?? '<unknown>'} / ${src.target.averageValue}\n`);
      } else {
        const current = cur?.averageUtilization != null ? `${cur.averageUtilization}% (${cur.averageValue ?? ''})` : '<unknown>';
        w.write(LEVEL_1, `${on}  (as a percentage of request):\t${current} / ${src.target?.averageUtilization ?? '<auto>'}%\n`);
      }
    }
    w.write(LEVEL_0, `Min replicas:\t${spec.minReplicas ?? '<unset>'}\n`);
    w.write(LEVEL_0, `Max replicas:\t${spec.maxReplicas ?? 0}\n`);
    if (spec.behavior) {
      w.write(LEVEL_0, 'Behavior:\n');
      describeRules(w, 'Scale Up', spec.behavior.scaleUp);
      describeRules(w, 'Scale Down', spec.behavior.scaleDown);
    }
    w.write(LEVEL_0, `${spec.scaleTargetRef?.kind ?? ''} pods:\t${status.currentReplicas ?? 0} current / ${status.desiredReplicas ?? 0} desired\n`);
    if ((status.conditions ?? []).length > 0) {
      w.write(LEVEL_0, 'Conditions:\n');
      w.write(LEVEL_1, 'Type\tStatus\tReason\tMessage\n');
      w.write(LEVEL_1, '----\t------\t------\t-------\n');
      for (const c of status.conditions ?? []) w.write(LEVEL_1, `${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
    }
    if (events) describeEvents(events, w, now);
  });
}

export const horizontalPodAutoscalerKind = defineKind({
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  resource: 'horizontalpodautoscalers',
  namespaced: true,
  schema: HorizontalPodAutoscalerSchema,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: hpaStrategy,
  printer: hpaPrinter,
  describer: async (obj, ctx) => describeHpa(obj as HPA, await ctx.events(), ctx.now),
});
