/**
 * When a CronJob is due, after kube's pkg/controller/cronjob/utils.go: the
 * most recent unmet schedule time (and whether too many were missed), the
 * next one, and its Jobs' deterministic names. Pure: `now` is passed in, so
 * the controller's clock (and a test's) decides.
 */
import { type CronSchedule, parseCronSchedule, type ParsedSchedule } from '../api/batch/v1/cron-schedule.js';
import type { CronJob } from '../api/batch/v1/cronjob.js';

/** How many schedule times were missed since the last one: more than 100 is "many" (kube's manyMissed). */
export type MissedSchedules = 'none' | 'few' | 'many';

/** kube's nextScheduleDelta: requeue this long after the due time, for clock skew between hosts. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

/** kube's cap on the missed start times it looks back over. */
const MANY_MISSED = 100;

export interface MostRecent {
  /** The last schedule time, or the creation time, or the starting deadline's start if later. */
  earliest: number;
  /** The most recent schedule time at or before `now` after `earliest`, if any. */
  mostRecent?: number;
  missed: MissedSchedules;
  /** A schedule that never fires twice (kube: "31 2": February 31st). */
  error?: string;
}

/** The CronJob's schedule in its time zone. */
export function cronJobSchedule(cj: CronJob): ParsedSchedule {
  return parseCronSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone);
}

/** kube's mostRecentScheduleTime. */
export function mostRecentScheduleTime(cj: CronJob, now: number, schedule: CronSchedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline !== undefined && deadline !== null) {
    // The controller never schedules anything before this point.
    earliest = Math.max(earliest, now - deadline * 1000);
  }
  const t1 = schedule.next(earliest);
  const t2 = schedule.next(t1);
  if (now < t1) return { earliest, missed: 'none' };
  if (now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  // A rough count of the schedule times between t1 and now, from the interval between the first two.
  const missedCount = Math.trunc((now - t1) / 1000 / between) + 1;
  // Start one interval before the estimate and let the schedule walk to now (irregular schedules, `@every`).
  let mostRecent: number | undefined;
  for (let t = schedule.next(t1 + (missedCount - 2) * between * 1000); t <= now; t = schedule.next(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > MANY_MISSED ? 'many' : 'few';
  return mostRecent === undefined ? { earliest, missed } : { earliest, mostRecent, missed };
}

/** kube's nextScheduleTime: the unmet schedule time to run now (within the starting deadline), if any. */
export function unmetScheduleTime(cj: CronJob, now: number, schedule: CronSchedule): { time?: number; missed: MissedSchedules; error?: string } {
  const r = mostRecentScheduleTime(cj, now, schedule, true);
  if (r.mostRecent === undefined || r.mostRecent > now) return { missed: r.missed, ...(r.error ? { error: r.error } : {}) };
  return { time: r.mostRecent, missed: r.missed };
}

/** kube's nextScheduleTimeDuration, as an instant: when to look at the CronJob again (the next schedule time after the last one met, plus the skew delta). */
export function nextDueAt(cj: CronJob, now: number, schedule: CronSchedule): number {
  const r = mostRecentScheduleTime(cj, now, schedule, false);
  const from = r.error ? now : (r.mostRecent ?? (r.missed === 'none' ? r.earliest : now));
  return schedule.next(from) + NEXT_SCHEDULE_DELTA_MS;
}

/**
 * When the controller must next look at a CronJob to start a Job on time, or
 * undefined when it never will by itself (suspended, being deleted, a
 * schedule or zone it cannot read): what the cloud's wake-up is armed from.
 */
export function cronJobDueAt(cj: CronJob, now: number): number | undefined {
  if (cj.spec?.suspend || cj.metadata.deletionTimestamp) return undefined;
  const parsed = cronJobSchedule(cj);
  return parsed.ok ? nextDueAt(cj, now, parsed.schedule) : undefined;
}

/** A Job's name for one schedule time: `<cronjob>-<minutes since the epoch>`, the same in every controller, so a slot gets one Job. */
export function scheduledJobName(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}
