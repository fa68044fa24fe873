/**
 * The CronJobs' wake-up in the cloud: one EventBridge Scheduler one-shot
 * schedule (`at(...)`) armed for the earliest time any CronJob is due, which
 * invokes the controllers function with a {@link CRON_WAKEUP_SOURCE} event;
 * that invocation reconciles the CronJobs (creating the due Jobs) and arms
 * the schedule for the next earliest time. So a schedule fires on time
 * without a function polling for it: one invocation per due time.
 *
 * Invariant kept: after every invocation that saw a CronJob change (its
 * spec, or the status the controller writes when it starts a Job), the
 * schedule is at the earliest due time computed from a fresh list of
 * CronJobs. The schedule is written last-writer-wins (Scheduler has no
 * conditional update): two invocations arming at once from lists read at
 * different moments may leave the older list's time, which the scheduled
 * resync (every minute, which re-arms too) corrects; a time that is too
 * early only costs an invocation that finds nothing due and re-arms.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { CronJob } from '../api/batch/v1/cronjob.js';
import type { KObject } from '../api/object.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import { readSetting, type Env } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import type { StreamRecord } from '../controller-runtime/stream-driver.js';
import { cronJobDueAt } from '../controllers/cronjob-times.js';
import { CRONJOBS } from '../kinds/resources.js';
import { logPk } from '../store/dynamodb-table.js';
import { type Clock, systemClock } from '../util/clock.js';

/** The `source` of the event the schedule sends to the controllers function. */
export const CRON_WAKEUP_SOURCE = 'kumo.cronjobs';

/** The one schedule's name in the stack's group. */
export const CRON_WAKEUP_SCHEDULE = 'cronjobs-due';

/** The event the schedule delivers (the target's Input). */
export interface CronWakeupEvent {
  source: typeof CRON_WAKEUP_SOURCE;
  'detail-type': 'CronJobs due';
  detail: { due: string };
}

export function isCronWakeupEvent(event: unknown): event is CronWakeupEvent {
  return typeof event === 'object' && event !== null && (event as { source?: unknown }).source === CRON_WAKEUP_SOURCE;
}

/** Whether a stream batch holds a change of a CronJob: only those move a due time. */
export function touchesCronJobs(records: readonly StreamRecord[]): boolean {
  const pk = logPk(storeResource(CRONJOBS));
  return records.some((r) => (r.dynamodb?.NewImage?.pk as { S?: string } | undefined)?.S === pk);
}

/** Scheduler's `at()` expression for an instant, in UTC, rounded up to the second (it never fires before the due time). */
export function atExpression(ms: number): string {
  return `at(${new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19)})`;
}

export interface CronWakeupOptions {
  scheduler: SchedulerClient;
  /** The schedule group (the stack's). */
  group: string;
  /** The role Scheduler assumes to invoke the function. */
  roleArn: string;
  /** @default systemClock */
  clock?: Clock;
}

/** What arming did: the time armed (undefined: no CronJob is due, none armed) and whether the schedule was written. */
export interface ArmResult {
  dueAt?: number;
  written: boolean;
}

export class CronWakeup {
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: CronWakeupOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The earliest time any CronJob is due, from a fresh list. */
  async earliestDue(): Promise<number | undefined> {
    const now = this.clock.now();
    let earliest: number | undefined;
    for (const cj of (await this.client.listAll<CronJob & KObject>(CRONJOBS, undefined)).items) {
      const due = cronJobDueAt(cj, now);
      if (due !== undefined && (earliest === undefined || due < earliest)) earliest = due;
    }
    return earliest;
  }

  /**
   * Arms the schedule for the earliest due time, invoking `targetArn`. An
   * unchanged schedule is left alone unless `force` (the wake-up itself: its
   * schedule has fired even if its time reads as still ahead on this clock).
   */
  async arm(targetArn: string, opts: { force?: boolean } = {}): Promise<ArmResult> {
    const dueAt = await this.earliestDue();
    const names = { GroupName: this.opts.group, Name: CRON_WAKEUP_SCHEDULE };
    if (dueAt === undefined) {
      try {
        await this.opts.scheduler.send(new DeleteScheduleCommand(names));
        return { written: true };
      } catch (err) {
        if (err instanceof ResourceNotFoundException) return { written: false };
        throw err;
      }
    }
    // A time already past (a reconcile that failed) is armed a second ahead: Scheduler needs a future time.
    const expression = atExpression(Math.max(dueAt, this.clock.now() + 1000));
    let current: string | undefined;
    try {
      current = (await this.opts.scheduler.send(new GetScheduleCommand(names))).ScheduleExpression;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    if (current === expression && !opts.force) return { dueAt, written: false };
    const event: CronWakeupEvent = { source: CRON_WAKEUP_SOURCE, 'detail-type': 'CronJobs due', detail: { due: new Date(dueAt).toISOString() } };
    const schedule = {
      ...names,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: targetArn, RoleArn: this.opts.roleArn, Input: JSON.stringify(event), RetryPolicy: { MaximumRetryAttempts: 2 } },
      // Kept after it fires: the next arming updates it in place.
      ActionAfterCompletion: 'NONE' as const,
    };
    if (current === undefined) {
      try {
        await this.opts.scheduler.send(new CreateScheduleCommand(schedule));
        return { dueAt, written: true };
      } catch (err) {
        // Created by another invocation meanwhile: update it instead.
        if (!(err instanceof ConflictException)) throw err;
      }
    }
    await this.opts.scheduler.send(new UpdateScheduleCommand(schedule));
    return { dueAt, written: true };
  }
}

/** The wake-up the stack configures (its group and role), or undefined where it is not deployed (CronJobs then run at the resync). */
export function cronWakeupFromEnv(client: KubeClient, env: Env = process.env): CronWakeup | undefined {
  const group = readSetting(env, SETTINGS.cronScheduleGroup);
  const roleArn = readSetting(env, SETTINGS.cronSchedulerRoleArn);
  if (group === undefined || roleArn === undefined) return undefined;
  return new CronWakeup(client, { scheduler: new SchedulerClient({}), group, roleArn });
}
