/**
 * A CronJob's schedule as kube reads it (robfig/cron's ParseStandard): five
 * fields (minute, hour, day of month, month, day of week), the descriptors
 * `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
 * `@hourly` and `@every <duration>`, evaluated in `spec.timeZone` (UTC when
 * unset). The fields are parsed and stepped by cron-parser; the field count,
 * the descriptors and `@every` are checked here so that what cron-parser
 * accepts beyond kube (a seconds field, `@minutely`...) is refused, with
 * robfig's messages where it has its own.
 */
import { CronDate, CronExpressionParser } from 'cron-parser';

export interface CronSchedule {
  /** The first activation strictly after `afterMs` (ms since the epoch), as robfig's Schedule.Next. */
  next(afterMs: number): number;
}

export type ParsedSchedule = { ok: true; schedule: CronSchedule } | { ok: false; error: string };

/** robfig's descriptors other than `@every`, as five fields. */
const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Go's time.ParseDuration units, in milliseconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1h30m", "90s") in milliseconds, or undefined where Go's parser refuses it. */
function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return ms;
}

/** Whether an IANA zone name is known (Go's time.LoadLocation). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a schedule for `timeZone` (undefined: UTC). The error is the text
 * kube's validation and the controller's UnparseableSchedule event show.
 */
export function parseCronSchedule(schedule: string, timeZone?: string | null): ParsedSchedule {
  let tz = timeZone ?? 'UTC';
  let spec = schedule.trim();
  // robfig reads a leading `TZ=zone` or `CRON_TZ=zone`: validation refuses it, but it parses, as in kube.
  const prefix = /^(?:CRON_)?TZ=(\S*)\s*/.exec(spec);
  if (prefix) {
    tz = prefix[1]!;
    spec = spec.slice(prefix[0].length);
  }
  if (!isKnownTimeZone(tz)) return { ok: false, error: `provided bad location ${tz}: unknown time zone ${tz}` };
  if (spec.startsWith('@every ')) {
    const text = spec.slice('@every '.length).trim();
    const ms = parseGoDuration(text);
    if (ms === undefined) return { ok: false, error: `failed to parse duration ${spec}: time: invalid duration "${text}"` };
    // robfig's Every: at least one second, whole seconds, from the previous activation.
    const delay = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { ok: true, schedule: { next: (after) => Math.floor(after / 1000) * 1000 + delay } };
  }
  let fields: string;
  if (spec.startsWith('@')) {
    const expanded = DESCRIPTORS[spec];
    if (!expanded) return { ok: false, error: `unrecognized descriptor: ${spec}` };
    fields = expanded;
  } else {
    const parts = spec.split(/\s+/).filter((p) => p !== '');
    if (parts.length !== 5) return { ok: false, error: `expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]` };
    fields = parts.join(' ');
  }
  try {
    CronExpressionParser.parse(fields, { tz });
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  return {
    ok: true,
    schedule: {
      next: (after) =>
        CronExpressionParser.parse(fields, { tz, currentDate: new Date(after) })
          .next()
          .getTime(),
    },
  };
}

/** RFC 3339 in `timeZone` (UTC when unset), as Go formats time.RFC3339: whole seconds, `Z` for a zero offset. */
export function rfc3339InZone(ms: number, timeZone?: string | null): string {
  const offsetMin = new CronDate(ms, timeZone ?? 'UTC').getUTCOffset();
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMin * 60_000).toISOString().slice(0, 19);
  if (offsetMin === 0) return `${local}Z`;
  const abs = Math.abs(offsetMin);
  return `${local}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
