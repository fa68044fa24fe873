/**
 * PodDisruptionBudget (policy/v1): namespaced. How many of a set of pods may
 * be down at once by choice (an eviction), after kube's
 * pkg/registry/policy/poddisruptionbudget: minAvailable or maxUnavailable
 * (one of them), each a count or a percentage; a status the disruption
 * controller (lib/controllers/disruption.ts) writes and the eviction
 * subresource decrements; generation bumped by spec changes only.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { PodDisruptionBudgetSchema, type PodDisruptionBudget } from '../api/policy/v1/poddisruptionbudget.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents } from '../printers/describe/common.js';
import { LEVEL_0, LEVEL_2, tabbed } from '../printers/describe/writer.js';
import { labelSelectorText } from '../printers/selector.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { intOrPercent, nonNegative } from './strategies/apps.js';
import { validateLabelSelector } from './validation/selector.js';

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'] as const;

/** IntOrString.String(): a count as digits, a percentage as written. */
function intOrString(v: number | string | null | undefined): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

const podDisruptionBudgetStrategy: Strategy = {
  prepareForCreate(obj) {
    // Go's zero PodDisruptionBudgetStatus: its counts have no omitempty.
    (obj as PodDisruptionBudget).status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  validate(obj) {
    const spec = (obj as PodDisruptionBudget).spec ?? {};
    const errs: FieldError[] = [];
    const set = (v: unknown) => v !== undefined && v !== null;
    if (set(spec.minAvailable) && set(spec.maxUnavailable)) {
      // kube echoes the spec as json.Marshal writes its Go struct: fields in declaration order, unset ones omitted.
      const { minAvailable, selector, maxUnavailable, unhealthyPodEvictionPolicy } = spec;
      const echoed = JSON.parse(JSON.stringify({ minAvailable, selector, maxUnavailable, unhealthyPodEvictionPolicy })) as unknown;
      errs.push(fieldErrors.invalid('spec', echoed, 'minAvailable and maxUnavailable cannot be both set'));
    }
    intOrPercent(spec.minAvailable, 'spec.minAvailable', errs);
    intOrPercent(spec.maxUnavailable, 'spec.maxUnavailable', errs);
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const policy = spec.unhealthyPodEvictionPolicy;
    if (set(policy) && !(UNHEALTHY_POD_EVICTION_POLICIES as readonly string[]).includes(policy!)) {
      errs.push(fieldErrors.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
    }
    return errs;
  },
  // ValidatePodDisruptionBudgetStatusUpdate (policy/v1): the counts are never negative.
  validateStatusUpdate(obj) {
    const status = (obj as PodDisruptionBudget).status ?? {};
    const errs: FieldError[] = [];
    for (const field of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const)
      nonNegative(status[field], `status.${field}`, errs);
    return errs;
  },
};

/** printPodDisruptionBudget: N/A for the bound not set. */
const podDisruptionBudgetPrinter: Printer = {
  columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE],
  row(obj, now) {
    const pdb = obj as PodDisruptionBudget;
    return [
      pdb.metadata.name ?? '',
      intOrString(pdb.spec?.minAvailable) ?? 'N/A',
      intOrString(pdb.spec?.maxUnavailable) ?? 'N/A',
      pdb.status?.disruptionsAllowed ?? 0,
      age(pdb.metadata.creationTimestamp, now),
    ];
  },
};

export const podDisruptionBudgetKind = defineKind({
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  resource: 'poddisruptionbudgets',
  namespaced: true,
  schema: PodDisruptionBudgetSchema,
  shortNames: ['pdb'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: podDisruptionBudgetStrategy,
  printer: podDisruptionBudgetPrinter,
  // kubectl's describePodDisruptionBudgetV1.
  describer: async (obj, ctx) => {
    const pdb = obj as PodDisruptionBudget;
    const events = await ctx.events();
    return tabbed((w) => {
      w.write(LEVEL_0, `Name:\t${pdb.metadata.name ?? ''}\n`);
      w.write(LEVEL_0, `Namespace:\t${pdb.metadata.namespace ?? ''}\n`);
      const min = intOrString(pdb.spec?.minAvailable);
      const max = intOrString(pdb.spec?.maxUnavailable);
      if (min !== undefined) w.write(LEVEL_0, `Min available:\t${min}\n`);
      else if (max !== undefined) w.write(LEVEL_0, `Max unavailable:\t${max}\n`);
      const selector = pdb.spec?.selector;
      w.write(LEVEL_0, `Selector:\t${selector ? labelSelectorText(selector) || '<none>' : '<unset>'}\n`);
      w.write(LEVEL_0, 'Status:\n');
      w.write(LEVEL_2, `Allowed disruptions:\t${pdb.status?.disruptionsAllowed ?? 0}\n`);
      w.write(LEVEL_2, `Current:\t${pdb.status?.currentHealthy ?? 0}\n`);
      w.write(LEVEL_2, `Desired:\t${pdb.status?.desiredHealthy ?? 0}\n`);
      w.write(LEVEL_2, `Total:\t${pdb.status?.expectedPods ?? 0}\n`);
      if (events) describeEvents(events, w, ctx.now);
    });
  },
});
