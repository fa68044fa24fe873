/**
 * A CronJob's schedule (lib/api/batch/v1/cron-schedule.ts) and when it is
 * due (lib/controllers/cronjob-times.ts), against kube's rules, with the
 * time passed in: five fields and robfig's descriptors, time zones, the
 * most recent unmet time, the starting deadline, too many missed times.
 */
import { describe, expect, it } from 'vitest';
import { parseCronSchedule, rfc3339InZone, type CronSchedule } from '#lib/api/batch/v1/cron-schedule';
import type { CronJob } from '#lib/api/batch/v1/cronjob';
import { cronJobDueAt, mostRecentScheduleTime, nextDueAt, scheduledJobName, unmetScheduleTime } from '#lib/controllers/cronjob-times';

const T = (iso: string) => Date.parse(iso);

function schedule(spec: string, tz?: string): CronSchedule {
  const parsed = parseCronSchedule(spec, tz);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
}

function cronJob(spec: Partial<NonNullable<CronJob['spec']>>, created: string, lastScheduleTime?: string): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj', namespace: 'default', creationTimestamp: created },
    spec: { schedule: '*/5 * * * *', ...spec },
    status: lastScheduleTime ? { lastScheduleTime } : {},
  };
}

describe('parseCronSchedule', () => {
  it('steps five fields and the descriptors strictly after a time', () => {
    expect(schedule('*/5 * * * *').next(T('2026-12-07T08:00:00Z'))).toBe(T('2026-12-07T08:05:00Z'));
    expect(schedule('*/5 * * * *').next(T('2026-12-07T08:04:59.500Z'))).toBe(T('2026-12-07T08:05:00Z'));
    expect(schedule('@hourly').next(T('2026-12-07T08:00:00Z'))).toBe(T('2026-12-07T09:00:00Z'));
    expect(schedule('@midnight').next(T('2026-12-07T08:00:00Z'))).toBe(T('2026-12-08T00:00:00Z'));
    expect(schedule('0 9 * * MON-FRI').next(T('2026-12-11T10:00:00Z'))).toBe(T('2026-12-14T09:00:00Z'));
    expect(schedule('@every 90s').next(T('2026-12-07T08:00:00.400Z'))).toBe(T('2026-12-07T08:01:30Z'));
  });

  it('reads the fields in the time zone', () => {
    // 09:00 in Paris is 08:00 UTC in winter.
    expect(schedule('0 9 * * *', 'Europe/Paris').next(T('2026-12-07T00:00:00Z'))).toBe(T('2026-12-07T08:00:00Z'));
    expect(rfc3339InZone(T('2026-12-07T08:00:00Z'), 'Europe/Paris')).toBe('2026-12-07T09:00:00+01:00');
    expect(rfc3339InZone(T('2026-12-07T08:00:00Z'), 'America/New_York')).toBe('2026-12-07T03:00:00-05:00');
    expect(rfc3339InZone(T('2026-12-07T08:00:00Z'))).toBe('2026-12-07T08:00:00Z');
  });

  it("refuses what robfig's standard parser refuses, with its messages", () => {
    expect(parseCronSchedule('* * * *')).toEqual({ ok: false, error: 'expected exactly 5 fields, found 4: [* * * *]' });
    expect(parseCronSchedule('0 * * * * *')).toEqual({ ok: false, error: 'expected exactly 5 fields, found 6: [0 * * * * *]' });
    expect(parseCronSchedule('@minutely')).toEqual({ ok: false, error: 'unrecognized descriptor: @minutely' });
    expect(parseCronSchedule('@every soon')).toEqual({ ok: false, error: 'failed to parse duration @every soon: time: invalid duration "soon"' });
    expect(parseCronSchedule('61 * * * *').ok).toBe(false);
    expect(parseCronSchedule('* * * * *', 'Mars/Olympus')).toEqual({ ok: false, error: 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus' });
    // robfig reads a TZ= prefix (which validation refuses) as the zone.
    expect(schedule('TZ=Europe/Paris 0 9 * * *').next(T('2026-12-07T00:00:00Z'))).toBe(T('2026-12-07T08:00:00Z'));
  });
});

describe('when a CronJob is due', () => {
  const every5 = schedule('*/5 * * * *');

  it('has nothing unmet before its first time, and is next due then (plus the skew delta)', () => {
    const cj = cronJob({}, '2026-12-07T08:01:00Z');
    const now = T('2026-12-07T08:03:00Z');
    expect(unmetScheduleTime(cj, now, every5)).toEqual({ missed: 'none' });
    expect(nextDueAt(cj, now, every5)).toBe(T('2026-12-07T08:05:00.100Z'));
    expect(cronJobDueAt(cj, now)).toBe(T('2026-12-07T08:05:00.100Z'));
  });

  it('runs the most recent unmet time only, however many were missed', () => {
    const cj = cronJob({}, '2026-12-07T08:01:00Z');
    const now = T('2026-12-07T08:17:00Z');
    expect(unmetScheduleTime(cj, now, every5)).toEqual({ time: T('2026-12-07T08:15:00Z'), missed: 'few' });
    // Once it ran (lastScheduleTime), the next one is next.
    const ran = cronJob({}, '2026-12-07T08:01:00Z', '2026-12-07T08:15:00Z');
    expect(unmetScheduleTime(ran, now, every5)).toEqual({ missed: 'none' });
    expect(nextDueAt(ran, now, every5)).toBe(T('2026-12-07T08:20:00.100Z'));
  });

  it('looks back no further than startingDeadlineSeconds', () => {
    const cj = cronJob({ startingDeadlineSeconds: 60 }, '2026-12-07T08:01:00Z');
    expect(unmetScheduleTime(cj, T('2026-12-07T08:17:00Z'), every5)).toEqual({ missed: 'none' });
    expect(unmetScheduleTime(cj, T('2026-12-07T08:15:30Z'), every5).time).toBe(T('2026-12-07T08:15:00Z'));
  });

  it('reports too many missed start times past 100 of them', () => {
    const cj = cronJob({ schedule: '* * * * *' }, '2026-12-07T08:00:00Z');
    const r = mostRecentScheduleTime(cj, T('2026-12-07T10:00:30Z'), schedule('* * * * *'), true);
    expect(r).toMatchObject({ mostRecent: T('2026-12-07T10:00:00Z'), missed: 'many' });
  });

  it('is never due while suspended or unreadable, and names Jobs by the minute', () => {
    expect(cronJobDueAt(cronJob({ suspend: true }, '2026-12-07T08:01:00Z'), T('2026-12-07T08:03:00Z'))).toBeUndefined();
    expect(cronJobDueAt(cronJob({ schedule: 'nope' }, '2026-12-07T08:01:00Z'), T('2026-12-07T08:03:00Z'))).toBeUndefined();
    expect(scheduledJobName('backup', T('2026-12-07T08:05:00Z'))).toBe(`backup-${T('2026-12-07T08:05:00Z') / 60_000}`);
  });
});
