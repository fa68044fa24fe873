/**
 * The CronJob controller, after kube's cronjob_controllerv2.go: at each
 * schedule time it creates a Job from the template, named for the time
 * (`<cronjob>-<minutes since the epoch>`: two controllers reconciling at once
 * create one Job, the other gets AlreadyExists) and annotated with it; it
 * honours `suspend`, `startingDeadlineSeconds` (and warns of too many missed
 * start times), `concurrencyPolicy` (Allow, Forbid: skip while one runs,
 * Replace: delete the running ones first) and `timeZone`; it keeps
 * `status.active`, `lastScheduleTime` and `lastSuccessfulTime`, and deletes
 * the oldest finished Jobs beyond the history limits. It asks to be queued
 * again at the next schedule time; in the cloud that wake-up comes from one
 * EventBridge Scheduler schedule armed for the earliest CronJob
 * (lib/cloud/cron-wakeup.ts).
 */
import { isKnownTimeZone, rfc3339InZone } from '../api/batch/v1/cron-schedule.js';
import type { CronJob } from '../api/batch/v1/cronjob.js';
import type { Job } from '../api/batch/v1/job.js';
import type { ObjectReference } from '../api/core/v1/shapes.generated.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { newControllerRef } from '../api/meta/v1/owner-references.js';
import type { KObject } from '../api/object.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { allKeys, CONFLICT_RETRY_MS, ownerWatch, selfWatch, splitKey } from '../controller-runtime/reconciler.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { CRONJOBS, JOBS } from '../kinds/resources.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import { cronJobSchedule, nextDueAt, scheduledJobName, unmetScheduleTime } from './cronjob-times.js';

type CJ = CronJob & KObject;
type J = Job & KObject;

/** batchv1.CronJobScheduledTimestampAnnotation: the schedule time a Job was created for, in the CronJob's zone. */
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

function finishedCondition(job: J): 'Complete' | 'Failed' | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type as 'Complete' | 'Failed' | undefined;
}

/** kube's byJobStartTime: oldest start first, unstarted last, names breaking ties. */
function byStartTime(a: J, b: J): number {
  const sa = a.status?.startTime ? Date.parse(a.status.startTime) : undefined;
  const sb = b.status?.startTime ? Date.parse(b.status.startTime) : undefined;
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  return sa! - sb!;
}

function jobRef(job: J): ObjectReference {
  return {
    kind: 'Job',
    namespace: job.metadata.namespace,
    name: job.metadata.name,
    uid: job.metadata.uid,
    apiVersion: 'batch/v1',
    resourceVersion: job.metadata.resourceVersion,
  };
}

/** What one sync decided besides the status (written by the caller): when to look again. */
interface SyncOutcome {
  /** When the next schedule time is due (ms since the epoch). */
  requeueAt?: number;
  /** The Job of this slot exists but could not be read back: look again at once. */
  retry?: boolean;
}

/** The controller's name (its queue's, and what the cloud's wake-up reconciles). */
export const CRONJOB_CONTROLLER = 'cronjob';

export class CronJobController implements Reconciler {
  readonly name = CRONJOB_CONTROLLER;
  readonly watches: Watch[] = [selfWatch(storeResource(CRONJOBS)), ownerWatch(storeResource(JOBS), 'CronJob')];

  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
  ) {}

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, CRONJOBS);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const stored = await this.client.find<CJ>(CRONJOBS, namespace, name);
    if (!stored) return;
    const jobs = (await this.client.list<J>(JOBS, namespace)).items.filter((j) =>
      j.metadata.ownerReferences?.some((r) => r.controller && r.uid === stored.metadata.uid),
    );
    // kube works on a copy and writes its status once at the end, if anything changed.
    const cj = structuredClone(stored);
    cj.status ??= {};
    await this.cleanupFinishedJobs(cj, jobs);
    const outcome = await this.sync(cj, jobs);
    if (!deepEqual(cj.status, stored.status ?? {})) {
      try {
        await this.client.updateStatus(CRONJOBS, { ...stored, status: cj.status } as KObject);
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        if (isNotFound(err)) return;
        throw err;
      }
    }
    if (outcome.retry) return { requeueAfterMs: CONFLICT_RETRY_MS };
    if (outcome.requeueAt !== undefined) return { requeueAfterMs: Math.max(0, outcome.requeueAt - this.clock.now()) };
  }

  /** kube's cleanupFinishedJobs: the oldest finished Jobs beyond each history limit are deleted. */
  private async cleanupFinishedJobs(cj: CJ, jobs: J[]): Promise<void> {
    const succeeded = jobs.filter((j) => finishedCondition(j) === 'Complete');
    const failed = jobs.filter((j) => finishedCondition(j) === 'Failed');
    const limits: [J[], number | null | undefined][] = [
      [succeeded, cj.spec?.successfulJobsHistoryLimit],
      [failed, cj.spec?.failedJobsHistoryLimit],
    ];
    for (const [finished, limit] of limits) {
      if (limit === undefined || limit === null || finished.length <= limit) continue;
      for (const job of [...finished].sort(byStartTime).slice(0, finished.length - limit)) await this.deleteJob(cj, job);
    }
  }

  /** kube's deleteJob: the Job with its pods (Background), then its reference from status.active. */
  private async deleteJob(cj: CJ, job: J): Promise<boolean> {
    try {
      await this.client.delete(JOBS, job.metadata.namespace, job.metadata.name!, {
        propagationPolicy: 'Background',
        preconditions: { uid: job.metadata.uid! },
      });
    } catch (err) {
      if (!isNotFound(err)) {
        await this.recorder.record(cj, 'Warning', 'FailedDelete', `Deleted job: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    }
    cj.status!.active = (cj.status!.active ?? []).filter((r) => r.uid !== job.metadata.uid);
    await this.recorder.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  /** kube's syncCronJob: mutates `cj.status`. */
  private async sync(cj: CJ, jobs: J[]): Promise<SyncOutcome> {
    const now = this.clock.now();
    const status = cj.status!;
    const children = new Set(jobs.map((j) => j.metadata.uid));
    for (const j of jobs) {
      const inActive = (status.active ?? []).some((r) => r.uid === j.metadata.uid);
      const finished = finishedCondition(j);
      if (!inActive && !finished) {
        await this.recorder.record(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (inActive && finished) {
        status.active = (status.active ?? []).filter((r) => r.uid !== j.metadata.uid);
        await this.recorder.record(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
      }
      // A Job need not be active to count: any that completed moves lastSuccessfulTime forward.
      if (finished === 'Complete' && j.status?.completionTime) {
        const last = status.lastSuccessfulTime ? Date.parse(status.lastSuccessfulTime) : undefined;
        if (last === undefined || Date.parse(j.status.completionTime) > last) status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    // A reference to a Job that is gone: re-read it, as the list may be older than the status.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      const job = await this.client.find<J>(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
      if (job && job.metadata.uid === ref.uid) continue;
      await this.recorder.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
      status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
    }
    if (cj.metadata.deletionTimestamp) return {};
    const spec = cj.spec ?? {};
    if (spec.timeZone && !isKnownTimeZone(spec.timeZone)) {
      await this.recorder.record(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${spec.timeZone}": unknown time zone ${spec.timeZone}`);
      return {};
    }
    if (spec.suspend) return {};
    const parsed = cronJobSchedule(cj);
    if (!parsed.ok) {
      // A user's error: nothing to do until the spec changes, which queues it again.
      await this.recorder.record(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${parsed.error}`);
      return {};
    }
    const schedule = parsed.schedule;
    const next = () => nextDueAt(cj, now, schedule);
    const unmet = unmetScheduleTime(cj, now, schedule);
    if (unmet.missed === 'many' && unmet.time !== undefined) {
      await this.recorder.record(
        cj,
        'Warning',
        'TooManyMissedTimes',
        'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
      );
    }
    if (unmet.error) {
      await this.recorder.record(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${unmet.error}`);
      return {};
    }
    const scheduled = unmet.time;
    if (scheduled === undefined) return { requeueAt: next() };
    const deadline = spec.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now) {
      await this.recorder.record(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123zUtc(scheduled)}`);
      return { requeueAt: next() };
    }
    const jobName = scheduledJobName(cj.metadata.name!, scheduled);
    const lastScheduled = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : undefined;
    if ((status.active ?? []).some((r) => r.name === jobName) || lastScheduled === Math.floor(scheduled / 1000) * 1000) return { requeueAt: next() };
    if (spec.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
      await this.recorder.record(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueAt: next() };
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        const job = await this.client.find<J>(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
        if (!job) continue;
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
      }
    }
    let created: J;
    try {
      created = await this.client.create<J>(JOBS, cj.metadata.namespace, this.jobFor(cj, jobName, scheduled));
      await this.recorder.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        await this.recorder.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
      // Another controller created it (or this one, before its status write was lost): record it if it is ours.
      const existing = await this.client.find<J>(JOBS, cj.metadata.namespace, jobName);
      if (!existing) return { retry: true };
      const ours = existing.metadata.ownerReferences?.some((r) => r.controller && r.uid === cj.metadata.uid);
      if (!ours || (status.active ?? []).some((r) => r.uid === existing.metadata.uid)) return {};
      created = existing;
    }
    status.active = [...(status.active ?? []), jobRef(created)];
    status.lastScheduleTime = rfc3339(scheduled);
    return { requeueAt: next() };
  }

  /** kube's getJobFromTemplate2: the template's labels and annotations, the schedule time annotated, owned by the CronJob. */
  private jobFor(cj: CJ, name: string, scheduled: number): KObject {
    const template = cj.spec?.jobTemplate ?? {};
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP]: rfc3339InZone(scheduled, cj.spec?.timeZone) },
        ownerReferences: [newControllerRef(cj)],
      },
      spec: structuredClone(template.spec ?? {}),
    } as KObject;
  }
}

/** Go's time.RFC1123Z of a UTC instant, as kube's MissSchedule event prints it (toUTCString is RFC 1123 with "GMT"). */
function rfc1123zUtc(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}
