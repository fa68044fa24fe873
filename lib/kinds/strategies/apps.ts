import type { Deployment } from '../../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../../api/apps/v1/replicaset.js';
import { defaultPodSpec } from '../../api/core/v1/pod-defaults.js';
import type { PodTemplateSpec } from '../../api/core/v1/pod.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import type { IntOrString } from '../../api/meta/v1/common.js';
import { deepEqual } from '../../util/json.js';
import type { Strategy } from '../strategy.js';
import { validatePodSpec } from '../validation/pod-spec.js';
import { validateSelectorAndTemplate } from '../validation/selector.js';

function defaultTemplate(t: PodTemplateSpec | null | undefined): void {
  if (!t) return;
  t.spec ??= {};
  defaultPodSpec(t.spec);
}

function nonNegative(v: number | null | undefined, path: string, errs: FieldError[]): void {
  if (v !== undefined && v !== null && v < 0) errs.push(fieldErrors.invalid(path, v, 'must be greater than or equal to 0'));
}

/** Validates an IntOrString percentage/count such as maxSurge (ValidatePositiveIntOrPercent and IsNotMoreThan100Percent). */
export function intOrPercent(v: IntOrString | null | undefined, path: string, errs: FieldError[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    nonNegative(v, path, errs);
    return v;
  }
  const m = v.match(/^(\d+)%$/);
  if (!m) {
    errs.push(
      fieldErrors.invalid(
        path,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    );
    return undefined;
  }
  const pct = Number(m[1]);
  if (pct > 100) errs.push(fieldErrors.invalid(path, v, 'must not be greater than 100%'));
  return pct;
}

/**
 * A workload's pod template (ValidatePodTemplateSpecFor<Kind>): `activeDeadlineOwner` names the kind in kube's message
 * refusing activeDeadlineSeconds (ReplicaSet for the apps kinds; null: allowed, as in a Job's or a PodTemplate's).
 */
function validateTemplate(
  template: PodTemplateSpec | null | undefined,
  path: string,
  errs: FieldError[],
  restartPolicies: readonly string[],
  activeDeadlineOwner: string | null = restartPolicies.includes('Always') ? 'ReplicaSet' : null,
): void {
  if (!template) {
    errs.push(fieldErrors.required(path));
    return;
  }
  errs.push(...validatePodSpec(template.spec, `${path}.spec`));
  // Ephemeral containers are added to a running pod, never templated (kube's ValidatePodTemplateSpec).
  if ((template.spec?.ephemeralContainers ?? []).length > 0)
    errs.push(fieldErrors.forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  const rp = template.spec?.restartPolicy;
  if (rp && !restartPolicies.includes(rp)) errs.push(fieldErrors.notSupported(`${path}.spec.restartPolicy`, rp, restartPolicies));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec.activeDeadlineSeconds !== null && activeDeadlineOwner) {
    errs.push(fieldErrors.forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${activeDeadlineOwner} is not Supported`));
  }
}

export const deploymentStrategy: Strategy = {
  defaults(obj) {
    const d = obj as Deployment;
    const spec = (d.spec ??= {});
    spec.replicas ??= 1;
    const strategy = (spec.strategy ??= {});
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = (strategy.rollingUpdate ??= {});
      ru.maxUnavailable ??= '25%';
      ru.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultTemplate(spec.template);
  },
  prepareForCreate(obj) {
    (obj as Deployment).status = {};
  },
  validate(obj) {
    const d = obj as Deployment;
    const errs: FieldError[] = [];
    const spec = d.spec ?? {};
    nonNegative(spec.replicas, 'spec.replicas', errs);
    nonNegative(spec.minReadySeconds, 'spec.minReadySeconds', errs);
    nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
    errs.push(...validateSelectorAndTemplate(spec.selector, spec.template?.metadata?.labels, 'spec.selector', 'spec.template.metadata.labels'));
    validateTemplate(spec.template, 'spec.template', errs, ['Always']);
    const st = spec.strategy;
    if (st?.type && st.type !== 'RollingUpdate' && st.type !== 'Recreate') {
      errs.push(fieldErrors.notSupported('spec.strategy.type', st.type, ['Recreate', 'RollingUpdate']));
    }
    if (st?.type === 'Recreate' && st.rollingUpdate) {
      errs.push(fieldErrors.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    }
    if (st?.rollingUpdate) {
      const surge = intOrPercent(st.rollingUpdate.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', errs);
      const unavailable = intOrPercent(st.rollingUpdate.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', errs);
      if (surge === 0 && unavailable === 0) {
        errs.push(fieldErrors.invalid('spec.strategy.rollingUpdate.maxUnavailable', st.rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
    }
    if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
      nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds', errs);
      if ((spec.minReadySeconds ?? 0) >= spec.progressDeadlineSeconds && spec.progressDeadlineSeconds > 0) {
        errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
      }
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const a = (obj as Deployment).spec?.selector;
    const b = (old as Deployment).spec?.selector;
    return deepEqual(a, b) ? [] : [fieldErrors.invalid('spec.selector', a, 'field is immutable')];
  },
};

export const replicaSetStrategy: Strategy = {
  defaults(obj) {
    const rs = obj as ReplicaSet;
    const spec = (rs.spec ??= {});
    spec.replicas ??= 1;
    defaultTemplate(spec.template);
  },
  prepareForCreate(obj) {
    (obj as ReplicaSet).status = { replicas: 0 };
  },
  validate(obj) {
    const rs = obj as ReplicaSet;
    const errs: FieldError[] = [];
    const spec = rs.spec ?? {};
    nonNegative(spec.replicas, 'spec.replicas', errs);
    nonNegative(spec.minReadySeconds, 'spec.minReadySeconds', errs);
    errs.push(...validateSelectorAndTemplate(spec.selector, spec.template?.metadata?.labels, 'spec.selector', 'spec.template.metadata.labels'));
    validateTemplate(spec.template, 'spec.template', errs, ['Always']);
    return errs;
  },
  validateUpdate(obj, old) {
    const a = (obj as ReplicaSet).spec?.selector;
    const b = (old as ReplicaSet).spec?.selector;
    return deepEqual(a, b) ? [] : [fieldErrors.invalid('spec.selector', a, 'field is immutable')];
  },
};

export { defaultTemplate, nonNegative, validateTemplate };
