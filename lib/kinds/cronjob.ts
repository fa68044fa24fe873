/**
 * CronJob (batch/v1): namespaced. Jobs on a schedule, after kube's
 * pkg/registry/batch/cronjob and pkg/apis/batch/validation (defaults,
 * the schedule, time zone, deadline, concurrency policy and history limits
 * validated with kube's messages, the job template validated as a Job's),
 * kubectl's columns and describer. The controller is
 * lib/controllers/cronjob.ts.
 */
import { isKnownTimeZone, parseCronSchedule } from '../api/batch/v1/cron-schedule.js';
import { CronJobSchema, type CronJob } from '../api/batch/v1/cronjob.js';
import type { Job } from '../api/batch/v1/job.js';
import type { Event } from '../api/core/v1/event.js';
import { defaultPodSpec } from '../api/core/v1/pod-defaults.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { AGE, col, NAME, type Printer, selectorString, templateInfo } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline, rfc1123z } from '../printers/describe/common.js';
import { describePodTemplate } from '../printers/describe/pod.js';
import { LEVEL_0, tabbed } from '../printers/describe/writer.js';
import { labelSelectorText } from '../printers/selector.js';
import { defineKind } from './kind.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { jobStrategy } from './strategies/jobs.js';

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;

/**
 * The controller names a CronJob's Jobs `<name>-<minutes since the epoch>`
 * (11 characters after the name while that number has 8 digits), and a Job's
 * name is at most 63 characters: so is a CronJob's at most 52 on create.
 */
const MAX_NAME_LENGTH = 52;

/** kube's validTimeZoneCharacters: one component of an IANA zone name. */
const TIME_ZONE_COMPONENT = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(tz: string, errs: FieldError[]): void {
  const path = 'spec.timeZone';
  if (tz === '') {
    errs.push(fieldErrors.invalid(path, tz, 'timeZone must be nil or non-empty string'));
    return;
  }
  if (tz.split('/').some((part) => part === '.' || part === '..' || part.startsWith('-') || !TIME_ZONE_COMPONENT.test(part))) {
    errs.push(fieldErrors.invalid(path, tz, `unknown time zone ${tz}`));
    return;
  }
  if (tz.toLowerCase() === 'local') {
    errs.push(fieldErrors.invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    return;
  }
  if (!isKnownTimeZone(tz)) errs.push(fieldErrors.invalid(path, tz, `unknown time zone ${tz}`));
}

function nonNegative(path: string, v: number | null | undefined, errs: FieldError[]): void {
  if (v !== undefined && v !== null && v < 0) errs.push(fieldErrors.invalid(path, v, 'must be greater than or equal to 0'));
}

/** kube's ValidateJobTemplateSpec: the Job's own spec rules, and a selector the Job's create will generate. */
function validateJobTemplate(cj: CronJob, ctx: StrategyContext, errs: FieldError[]): void {
  const spec = cj.spec?.jobTemplate?.spec ?? {};
  const asJob = { apiVersion: 'batch/v1', kind: 'Job', metadata: {}, spec: { ...spec, manualSelector: false } } as Job & KObject;
  for (const e of jobStrategy.validate!(asJob, ctx)) errs.push({ ...e, field: e.field.replace(/^spec\b/, 'spec.jobTemplate.spec') });
  if (spec.selector) errs.push(fieldErrors.invalid('spec.jobTemplate.spec.selector', spec.selector, '`selector` will be auto-generated'));
  if (spec.manualSelector) errs.push(fieldErrors.notSupported('spec.jobTemplate.spec.manualSelector', spec.manualSelector, ['nil', 'false']));
}

export const cronJobStrategy: Strategy = {
  defaults(obj) {
    const spec = ((obj as CronJob).spec ??= {});
    spec.concurrencyPolicy ??= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    const podSpec = spec.jobTemplate?.spec?.template?.spec;
    if (podSpec) defaultPodSpec(podSpec);
  },
  prepareForCreate(obj) {
    (obj as CronJob).status = {};
  },
  validate(obj, ctx) {
    const cj = obj as CronJob;
    const spec = cj.spec ?? {};
    const errs: FieldError[] = [];
    const schedule = spec.schedule ?? '';
    if (schedule === '') errs.push(fieldErrors.required('spec.schedule'));
    else {
      // The zone is checked on its own below: parse in UTC here so that a bad zone is reported once.
      const parsed = parseCronSchedule(schedule);
      if (!parsed.ok) errs.push(fieldErrors.invalid('spec.schedule', schedule, parsed.error));
      if (schedule.includes('TZ'))
        errs.push(fieldErrors.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
    nonNegative('spec.startingDeadlineSeconds', spec.startingDeadlineSeconds, errs);
    if (spec.timeZone !== undefined && spec.timeZone !== null) validateTimeZone(spec.timeZone, errs);
    const policy = spec.concurrencyPolicy ?? '';
    if (policy === '') errs.push(fieldErrors.required('spec.concurrencyPolicy'));
    else if (!(CONCURRENCY_POLICIES as readonly string[]).includes(policy))
      errs.push(fieldErrors.notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
    validateJobTemplate(cj, ctx, errs);
    nonNegative('spec.successfulJobsHistoryLimit', spec.successfulJobsHistoryLimit, errs);
    nonNegative('spec.failedJobsHistoryLimit', spec.failedJobsHistoryLimit, errs);
    return errs;
  },
  validateCreate(obj) {
    const name = obj.metadata.name ?? '';
    return name.length > MAX_NAME_LENGTH ? [fieldErrors.invalid('metadata.name', name, `must be no more than ${MAX_NAME_LENGTH} characters`)] : [];
  },
};

function boolPtr(v: boolean | null | undefined): string {
  return v === undefined || v === null ? '<unset>' : v ? 'True' : 'False';
}

/** kubectl get cronjob (pkg/printers/internalversion printCronJob). */
export const cronJobPrinter: Printer = {
  columns: [
    NAME,
    col('Schedule'),
    col('Timezone'),
    col('Suspend', 'boolean'),
    col('Active', 'integer'),
    col('Last Schedule'),
    AGE,
    col('Containers', 'string', 1),
    col('Images', 'string', 1),
    col('Selector', 'string', 1),
  ],
  row(obj, now) {
    const cj = obj as CronJob;
    const template = cj.spec?.jobTemplate?.spec;
    const [containers, images] = templateInfo(template?.template);
    return [
      cj.metadata.name ?? '',
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      boolPtr(cj.spec?.suspend),
      (cj.status?.active ?? []).length,
      cj.status?.lastScheduleTime ? age(cj.status.lastScheduleTime, now) : '<none>',
      age(cj.metadata.creationTimestamp, now),
      containers,
      images,
      selectorString(template?.selector),
    ];
  },
};

function orUnset(v: number | string | null | undefined, suffix = ''): string {
  return v === undefined || v === null ? '<unset>' : `${v}${suffix}`;
}

/** kubectl describe cronjob (pkg/describe describeCronJob and describeJobTemplate), as of kubectl 1.35 (1.36 adds a Time Zone line). */
export function describeCronJob(cj: CronJob, events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    const spec = cj.spec ?? {};
    const job = spec.jobTemplate?.spec ?? {};
    w.write(LEVEL_0, `Name:\t${cj.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${cj.metadata.namespace ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', cj.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', cj.metadata.annotations);
    w.write(LEVEL_0, `Schedule:\t${spec.schedule ?? ''}\n`);
    w.write(LEVEL_0, `Concurrency Policy:\t${spec.concurrencyPolicy ?? ''}\n`);
    w.write(LEVEL_0, `Suspend:\t${boolPtr(spec.suspend)}\n`);
    w.write(LEVEL_0, `Successful Job History Limit:\t${orUnset(spec.successfulJobsHistoryLimit)}\n`);
    w.write(LEVEL_0, `Failed Job History Limit:\t${orUnset(spec.failedJobsHistoryLimit)}\n`);
    w.write(LEVEL_0, `Starting Deadline Seconds:\t${orUnset(spec.startingDeadlineSeconds, 's')}\n`);
    w.write(LEVEL_0, `Selector:\t${job.selector ? labelSelectorText(job.selector) : '<unset>'}\n`);
    w.write(LEVEL_0, `Parallelism:\t${orUnset(job.parallelism)}\n`);
    w.write(LEVEL_0, `Completions:\t${orUnset(job.completions)}\n`);
    if (job.activeDeadlineSeconds !== undefined && job.activeDeadlineSeconds !== null)
      w.write(LEVEL_0, `Active Deadline Seconds:\t${job.activeDeadlineSeconds}s\n`);
    describePodTemplate(job.template, w);
    w.write(LEVEL_0, `Last Schedule Time:\t${cj.status?.lastScheduleTime ? rfc1123z(cj.status.lastScheduleTime) : '<unset>'}\n`);
    const active = cj.status?.active ?? [];
    w.write(LEVEL_0, `Active Jobs:\t${active.length === 0 ? '<none>' : active.map((j) => j.name ?? '').join(', ')}\n`);
    if (events) describeEvents(events, w, now);
  });
}

export const cronJobKind = defineKind({
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  resource: 'cronjobs',
  namespaced: true,
  schema: CronJobSchema,
  shortNames: ['cj'],
  categories: ['all'],
  subresources: ['status'],
  // Its Jobs are its dependents; a CronJob is owned by nothing.
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'none' },
  strategy: cronJobStrategy,
  printer: cronJobPrinter,
  describer: async (obj, ctx) => describeCronJob(obj as CronJob, await ctx.events(), ctx.now),
});
