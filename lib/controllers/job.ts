/**
 * The Job controller: runs pods until `completions` of them succeed, at most
 * `parallelism` at a time; counts failures against `backoffLimit` (pods that
 * failed, plus container restarts under restartPolicy OnFailure); enforces
 * `activeDeadlineSeconds`; marks the Job Complete or Failed; deletes finished
 * Jobs after `ttlSecondsAfterFinished`.
 */
import type { Job } from '../api/batch/v1/job.js';
import type { Pod } from '../api/core/v1/pod.js';
import { fromLabelSelector } from '../api/labels.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { JOBS, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { Recorder } from '../client/events.js';
import { isActive, isPodReady } from './pod-util.js';
import type { OwnerIndex } from './owner-index.js';
import { podsOf, scalePodSet, CreatesInFlight } from './podset.js';
import { claimPods } from './pod-claims.js';
import { allKeys, CONFLICT_RETRY_MS, OWNER_COALESCE_MS, ownerWatch, selfWatch, splitKey } from '../controller-runtime/reconciler.js';
import type { Reconciler, ReconcileResult, Watch, SharedCache } from '../controller-runtime/reconciler.js';

type J = Job & KObject;

export interface JobControllerOptions {
  /** First delay before re-creating pods after a failure (doubles per failure, capped at 6 minutes). @default 10 s */
  backoffBaseMs?: number;
}

function finished(job: J): Condition | undefined {
  return (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class JobController implements Reconciler {
  readonly name = 'job';
  /** Each of its pods' changes queues it: one reconcile per 100 ms at most, which reads them all. */
  readonly coalesceMs = OWNER_COALESCE_MS;
  readonly watches: Watch[] = [selfWatch(storeResource(JOBS)), ownerWatch(storeResource(PODS), 'Job')];
  readonly caches: SharedCache[];
  private readonly creates = new CreatesInFlight();

  /** With an index, pods are read from it instead of listing the namespace on every reconcile. */
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    private readonly opts: JobControllerOptions = {},
    private readonly index?: OwnerIndex,
  ) {
    this.caches = index ? [index] : [];
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, JOBS);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const job = await this.client.find<J>(JOBS, namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const now = this.clock.now();
    const done = finished(job);
    if (done) return this.expire(job, done, now);

    const selector = fromLabelSelector(job.spec?.selector);
    const view = await podsOf(this.client, this.index, job);
    const pods = await claimPods({ client: this.client, owner: job, ownerType: JOBS, selector, pods: view.pods, adopt: !!job.spec?.manualSelector });
    const active = pods.filter(isActive);
    // Counts only grow: a finished pod someone deleted still counted (Kubernetes tracks this with finalizers).
    const succeeded = Math.max(job.status?.succeeded ?? 0, pods.filter((p) => p.status?.phase === 'Succeeded').length);
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const onFailure = job.spec?.template?.spec?.restartPolicy === 'OnFailure';
    const restarts = onFailure ? active.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0), 0) : 0;
    const failed = Math.max(job.status?.failed ?? 0, failedPods.length + restarts);
    const startTime = job.status?.startTime ?? rfc3339(now);
    const completions = job.spec?.completions;
    const parallelism = job.spec?.parallelism ?? 1;
    const backoffLimit = job.spec?.backoffLimit ?? 6;

    let condition: Condition | undefined;
    let wantActive: number;
    const deadline = job.spec?.activeDeadlineSeconds;
    const pastDeadline = deadline !== undefined && deadline !== null && now >= Date.parse(startTime) + deadline * 1000;
    if (failed > backoffLimit) {
      condition = { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      wantActive = 0;
    } else if (pastDeadline) {
      condition = { type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      wantActive = 0;
    } else if (completions !== undefined && completions !== null ? succeeded >= completions : succeeded > 0 && active.length === 0) {
      condition = { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
      wantActive = 0;
    } else if (job.spec?.suspend) {
      wantActive = 0;
    } else {
      // Work-queue jobs (no completions) stop starting pods once one has succeeded.
      const remaining = completions !== undefined && completions !== null ? completions - succeeded : succeeded > 0 ? 0 : parallelism;
      wantActive = Math.max(0, Math.min(parallelism, remaining));
    }

    // After failures, wait before starting replacements, doubling per failure (Kubernetes' pod failure backoff).
    let requeueAfterMs: number | undefined;
    let mayCreate = true;
    if (!condition && failedPods.length > 0 && active.length < wantActive) {
      const lastFailure = Math.max(...failedPods.map((p) => lastFinish(p)));
      const delay = Math.min((this.opts.backoffBaseMs ?? 10_000) * 2 ** (failedPods.length - 1), 6 * 60_000);
      if (now < lastFailure + delay) {
        mayCreate = false;
        requeueAfterMs = lastFailure + delay - now;
      }
    }

    let current: J = job;
    if (condition || active.length !== wantActive || mayCreate) {
      const outcome = await scalePodSet(
        {
          client: this.client,
          recorder: this.recorder,
          owner: job,
          ownerType: JOBS,
          template: job.spec?.template ?? {},
          pods,
          podsRevision: view.revision,
          creates: this.creates,
        },
        wantActive,
        mayCreate,
      );
      if (outcome === 'conflict') return { requeueAfterMs: CONFLICT_RETRY_MS };
      current = outcome.owner as J;
    }

    const status: NonNullable<Job['status']> = {
      ...(job.status ?? {}),
      startTime,
      active: active.length,
      succeeded,
      failed,
      ready: active.filter(isPodReady).length,
      terminating: pods.filter((p) => !!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length,
    };
    if (condition) {
      const t = rfc3339(now);
      const interim: Condition =
        condition.type === 'Complete'
          ? { type: 'SuccessCriteriaMet', status: 'True', reason: condition.reason!, message: condition.message!, lastProbeTime: t, lastTransitionTime: t }
          : { type: 'FailureTarget', status: 'True', reason: condition.reason!, message: condition.message!, lastProbeTime: t, lastTransitionTime: t };
      status.conditions = [...(job.status?.conditions ?? []), interim, { ...condition, lastProbeTime: t, lastTransitionTime: t }];
      if (condition.type === 'Complete') status.completionTime = t;
      await this.recorder.record(
        job,
        condition.type === 'Complete' ? 'Normal' : 'Warning',
        condition.type === 'Complete' ? 'Completed' : condition.reason!,
        condition.type === 'Complete' ? 'Job completed' : condition.message!,
      );
    }
    if (!deepEqual(status, job.status)) {
      try {
        await this.client.updateStatus(JOBS, { ...current, status } as KObject);
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        throw err;
      }
    }
    if (condition) return undefined;
    if (deadline !== undefined && deadline !== null) {
      const left = Date.parse(startTime) + deadline * 1000 - now;
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(left, 0) + 10);
    }
    return requeueAfterMs !== undefined && Number.isFinite(requeueAfterMs) ? { requeueAfterMs } : undefined;
  }

  /** ttlSecondsAfterFinished: delete the finished Job (and, in the background, its pods) once its time is up. */
  private async expire(job: J, done: Condition, now: number): Promise<ReconcileResult | void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null) return;
    const finishedAt = Date.parse(job.status?.completionTime ?? done.lastTransitionTime ?? rfc3339(now));
    const left = finishedAt + ttl * 1000 - now;
    if (left > 0) return { requeueAfterMs: left + 10 };
    try {
      await this.client.delete(JOBS, job.metadata.namespace, job.metadata.name!, {
        propagationPolicy: 'Background',
        preconditions: { uid: job.metadata.uid! },
      });
    } catch (err) {
      if (!(isNotFound(err) || isConflict(err))) throw err;
    }
  }
}

function lastFinish(pod: Pod): number {
  let t = 0;
  for (const c of pod.status?.containerStatuses ?? []) {
    const f = c.state?.terminated?.finishedAt;
    if (f) t = Math.max(t, Date.parse(f));
  }
  return t || Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}
