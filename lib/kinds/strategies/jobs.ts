import type { Job } from '../../api/batch/v1/job.js';
import { defaultPodSpec } from '../../api/core/v1/pod-defaults.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { deepEqual } from '../../util/json.js';
import type { Strategy } from '../strategy.js';
import { validateSelectorAndTemplate } from '../validation/selector.js';
import { validateTemplate } from './apps.js';

export const JOB_CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME = 'batch.kubernetes.io/job-name';

export const jobStrategy: Strategy = {
  // batch/v1 Jobs orphan their pods by default, as in Kubernetes; kubectl asks for Background explicitly.
  defaultPropagation: 'Orphan',
  defaults(obj) {
    const job = obj as Job;
    const spec = (job.spec ??= {});
    if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    spec.parallelism ??= 1;
    spec.backoffLimit ??= 6;
    spec.completionMode ??= 'NonIndexed';
    spec.suspend ??= false;
    spec.manualSelector ??= false;
    spec.podReplacementPolicy ??= 'TerminatingOrFailed';
    if (spec.template) {
      spec.template.spec ??= {};
      defaultPodSpec(spec.template.spec);
    }
  },
  prepareForCreate(obj) {
    const job = obj as Job;
    job.status = {};
    const spec = (job.spec ??= {});
    // Like Kubernetes, generate a selector unique to this Job unless the user manages it.
    if (!spec.manualSelector) {
      const uid = job.metadata.uid!;
      const template = (spec.template ??= {});
      const meta = (template.metadata ??= {});
      meta.labels = {
        ...(meta.labels ?? {}),
        [JOB_CONTROLLER_UID]: uid,
        [JOB_NAME]: job.metadata.name ?? '',
        'controller-uid': uid,
        'job-name': job.metadata.name ?? '',
      };
      spec.selector = { matchLabels: { [JOB_CONTROLLER_UID]: uid } };
    }
  },
  validate(obj) {
    const job = obj as Job;
    const errs: FieldError[] = [];
    const spec = job.spec ?? {};
    for (const f of ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished'] as const) {
      const v = spec[f];
      if (v !== undefined && v !== null && v < 0) errs.push(fieldErrors.invalid(`spec.${f}`, v, 'must be greater than or equal to 0'));
    }
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null && spec.activeDeadlineSeconds <= 0) {
      errs.push(fieldErrors.invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be greater than or equal to 1'));
    }
    if (spec.manualSelector) {
      errs.push(...validateSelectorAndTemplate(spec.selector, spec.template?.metadata?.labels, 'spec.selector', 'spec.template.metadata.labels'));
    }
    validateTemplate(spec.template, 'spec.template', errs, ['OnFailure', 'Never']);
    return errs;
  },
  validateUpdate(obj, old) {
    const a = (obj as Job).spec;
    const b = (old as Job).spec;
    const errs: FieldError[] = [];
    if (!deepEqual(a?.selector, b?.selector)) errs.push(fieldErrors.invalid('spec.selector', a?.selector, 'field is immutable'));
    if (!deepEqual(a?.template, b?.template)) errs.push(fieldErrors.invalid('spec.template', a?.template, 'field is immutable'));
    if (a?.completions !== b?.completions) errs.push(fieldErrors.invalid('spec.completions', a?.completions, 'field is immutable'));
    return errs;
  },
};
