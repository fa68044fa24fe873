/**
 * The DaemonSet strategy (kube's pkg/registry/apps/daemonset and
 * pkg/apis/apps/validation): defaults, the template generation kept in
 * `deprecated.daemonset.template.generation` (apps/v1's home for
 * spec.templateGeneration), and validation with kube's messages.
 */
import type { DaemonSet } from '../../api/apps/v1/daemonset.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { deepEqual } from '../../util/json.js';
import type { Strategy } from '../strategy.js';
import { validateSelectorAndTemplate } from '../validation/selector.js';
import { defaultTemplate, intOrPercent, validateTemplate } from './apps.js';

/** Where apps/v1 keeps the internal spec.templateGeneration (kube's appsv1.DeprecatedTemplateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** A DaemonSet's template generation (1 when it has none). */
export function templateGeneration(ds: DaemonSet): number {
  const v = Number(ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION]);
  return Number.isInteger(v) && v > 0 ? v : 1;
}

function withTemplateGeneration(ds: DaemonSet, generation: number): void {
  ds.metadata.annotations = { ...(ds.metadata.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(generation) };
}

function nonNegative(v: number | null | undefined, path: string, errs: FieldError[]): void {
  if (v !== undefined && v !== null && v < 0) errs.push(fieldErrors.invalid(path, v, 'must be greater than or equal to 0'));
}

/** kube's ValidateDaemonSetUpdateStrategy and ValidateRollingUpdateDaemonSet: exactly one of maxUnavailable and maxSurge is non-zero. */
function validateUpdateStrategy(ds: DaemonSet, errs: FieldError[]): void {
  const strategy = ds.spec?.updateStrategy ?? {};
  const path = 'spec.updateStrategy';
  if (strategy.type === 'OnDelete') return;
  if (strategy.type !== 'RollingUpdate') {
    errs.push(fieldErrors.notSupported(path, strategy, ['RollingUpdate', 'OnDelete']));
    return;
  }
  const ru = strategy.rollingUpdate;
  if (!ru) {
    errs.push(fieldErrors.required(`${path}.rollingUpdate`));
    return;
  }
  const unavailable = intOrPercent(ru.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`, errs) ?? 0;
  const surge = intOrPercent(ru.maxSurge, `${path}.rollingUpdate.maxSurge`, errs) ?? 0;
  if (unavailable !== 0 && surge !== 0) {
    errs.push(fieldErrors.invalid(`${path}.rollingUpdate.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
  } else if (unavailable === 0 && surge === 0) {
    errs.push(fieldErrors.required(`${path}.rollingUpdate.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  }
}

export const daemonSetStrategy: Strategy = {
  /** SetDefaults_DaemonSet (apps/v1): RollingUpdate with maxUnavailable 1 and maxSurge 0, ten revisions of history. */
  defaults(obj) {
    const ds = obj as DaemonSet;
    const spec = (ds.spec ??= {});
    const strategy = (spec.updateStrategy ??= {});
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = (strategy.rollingUpdate ??= {});
      ru.maxUnavailable ??= 1;
      ru.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    defaultTemplate(spec.template);
  },
  prepareForCreate(obj) {
    const ds = obj as DaemonSet;
    ds.status = {};
    withTemplateGeneration(ds, 1);
  },
  /** A changed template takes the next template generation (the pods' pod-template-generation label follows it). */
  prepareForUpdate(obj, old) {
    const ds = obj as DaemonSet;
    const prev = old as DaemonSet;
    const generation = templateGeneration(prev);
    withTemplateGeneration(ds, deepEqual(ds.spec?.template, prev.spec?.template) ? generation : generation + 1);
  },
  validate(obj) {
    const ds = obj as DaemonSet;
    const errs: FieldError[] = [];
    const spec = ds.spec ?? {};
    errs.push(...validateSelectorAndTemplate(spec.selector, spec.template?.metadata?.labels, 'spec.selector', 'spec.template.metadata.labels', 'daemonset'));
    validateTemplate(spec.template, 'spec.template', errs, ['Always'], 'DaemonSet');
    nonNegative(spec.minReadySeconds, 'spec.minReadySeconds', errs);
    validateUpdateStrategy(ds, errs);
    nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
    return errs;
  },
  validateUpdate(obj, old) {
    const a = (obj as DaemonSet).spec?.selector;
    const b = (old as DaemonSet).spec?.selector;
    return deepEqual(a, b) ? [] : [fieldErrors.invalid('spec.selector', a, 'field is immutable')];
  },
};
