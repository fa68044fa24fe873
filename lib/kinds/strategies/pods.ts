import { keepServiceAccountAdmission } from '../serviceaccount-admission.js';
import type { Pod, PodSpec } from '../../api/core/v1/pod.js';
import { defaultPodSpec } from '../../api/core/v1/pod-defaults.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import type { KObject } from '../../api/object.js';
import { parseQuantity } from '../../api/quantity.js';
import { deepEqual } from '../../util/json.js';
import type { Strategy, SubresourceStrategy } from '../strategy.js';
import { validatePodSpec } from '../validation/pod-spec.js';

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

function qosClass(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || parseQuantity(q) !== parseQuantity(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * Kubernetes' DefaultTolerationSeconds admission, on create and update: adds
 * the not-ready/unreachable NoExecute tolerations a pod does not already
 * have (one with that key or no key, for NoExecute or every effect).
 */
function addDefaultTolerations(spec: PodSpec, seconds: number): void {
  const tolerations = (spec.tolerations ??= []);
  for (const key of [NOT_READY, UNREACHABLE]) {
    const has = tolerations.some((t) => (t.key === key || !t.key) && (!t.effect || t.effect === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
}

/** The fields of a pod spec that may change after creation (Kubernetes' ValidatePodUpdate). */
function mutableView(spec: PodSpec | undefined): unknown {
  const s = structuredClone(spec ?? {}) as PodSpec;
  for (const c of s.containers ?? []) delete c.image;
  for (const c of s.initContainers ?? []) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  return s;
}

/**
 * kube's ValidatePodEphemeralContainersUpdate, part 2: ephemeral containers
 * are only ever added; patches need not keep their order, so each is
 * matched by name.
 */
function ephemeralContainerChanges(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const now = new Map((pod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const prev of old.spec?.ephemeralContainers ?? []) {
    const cur = now.get(prev.name);
    // The trailing newline is kube's (it precedes a diff there).
    if (!cur) errs.push(fieldErrors.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(prev.name)} may not be removed\n`));
    else if (!deepEqual(cur, prev))
      errs.push(fieldErrors.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(prev.name)} may not be changed\n`));
  }
  return errs;
}

/**
 * pods/ephemeralcontainers (kube's podEphemeralContainersStrategy): the
 * request may change spec.ephemeralContainers and nothing else; every other
 * field, metadata included, is the stored pod's.
 */
const ephemeralContainersStrategy: SubresourceStrategy = {
  prepareForUpdate(obj, old) {
    const pod = structuredClone(old) as Pod;
    const spec = (pod.spec ??= {});
    const requested = (obj as Pod).spec?.ephemeralContainers;
    if (requested === undefined || requested === null) delete spec.ephemeralContainers;
    else spec.ephemeralContainers = structuredClone(requested);
    defaultPodSpec(spec);
    return pod as KObject;
  },
  validateUpdate(obj, old) {
    return [...validatePodSpec((obj as Pod).spec, 'spec'), ...ephemeralContainerChanges(obj as Pod, old as Pod)];
  },
};

export const podStrategy: Strategy = {
  defaults(obj) {
    const pod = obj as Pod;
    pod.spec ??= {};
    defaultPodSpec(pod.spec);
  },
  prepareForCreate(obj, ctx) {
    const pod = obj as Pod;
    pod.spec ??= {};
    defaultPodSpec(pod.spec);
    // Kubernetes' DefaultTolerationSeconds admission: how long pods stay on a node that stops answering.
    addDefaultTolerations(pod.spec, ctx.admission.defaultTolerationSeconds);
    pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) };
  },
  prepareForUpdate(obj, old, ctx) {
    const pod = obj as Pod;
    const prev = old as Pod;
    pod.spec ??= {};
    // Priority admission on update keeps what it set at creation (the fields are immutable, and a
    // client replacing the pod from its manifest leaves them out).
    if ((pod.spec.priority === undefined || pod.spec.priority === null) && prev.spec?.priority !== undefined) pod.spec.priority = prev.spec.priority;
    if (!pod.spec.preemptionPolicy && prev.spec?.preemptionPolicy) pod.spec.preemptionPolicy = prev.spec.preemptionPolicy;
    addDefaultTolerations(pod.spec, ctx.admission.defaultTolerationSeconds);
    keepServiceAccountAdmission(pod, prev);
  },
  validate(obj) {
    return validatePodSpec((obj as Pod).spec, 'spec');
  },
  validateCreate(obj) {
    if (((obj as Pod).spec?.ephemeralContainers ?? []).length === 0) return [];
    return [fieldErrors.forbidden('spec.ephemeralContainers', 'cannot be set on create')];
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    const pod = obj as Pod;
    const prev = old as Pod;
    if (!deepEqual(mutableView(pod.spec), mutableView(prev.spec))) {
      errs.push(
        fieldErrors.forbidden(
          'spec',
          'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        ),
      );
    }
    // validateOnlyAddedTolerations: each existing toleration stays, its tolerationSeconds aside.
    const added = pod.spec?.tolerations ?? [];
    const kept = (prev.spec?.tolerations ?? []).every((t) => added.some((n) => deepEqual({ ...t, tolerationSeconds: n.tolerationSeconds }, n)));
    if (!kept) errs.push(fieldErrors.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
    if ((prev.spec?.nodeName ?? '') !== '' && pod.spec?.nodeName !== prev.spec?.nodeName) {
      errs.push(fieldErrors.forbidden('spec.nodeName', 'field is immutable'));
    }
    return errs;
  },
  subresources: { ephemeralcontainers: ephemeralContainersStrategy },
  prepareForStatusUpdate(obj, old) {
    // Status writes change status only; spec and ownership come from the stored pod.
    return { ...structuredClone(old), status: structuredClone(obj.status) } as KObject;
  },
  gracePeriodSeconds(obj, requested) {
    const pod = obj as Pod;
    // A pod no node has picked up, or one that has finished, has nothing to stop.
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    return requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  },
};
