/**
 * Restart back-off per key, as the kubelet's flowcontrol.Backoff: the first
 * restart is immediate, then a restart waits `initial`, doubling up to `max`
 * after each further one, counted from when the container last exited. An
 * entry untouched for twice `max` (a container that ran for 10 minutes with
 * the defaults) starts over.
 */
import type { Clock } from '../util/clock.js';

export interface BackoffOptions {
  /** @default 10 s */
  initialMs?: number;
  /** @default 5 min */
  maxMs?: number;
}

export class Backoff {
  private readonly entries = new Map<string, { backoffMs: number; lastUpdate: number }>();
  readonly initialMs: number;
  readonly maxMs: number;

  constructor(
    private readonly clock: Clock,
    opts: BackoffOptions = {},
  ) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
  }

  private expired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > 2 * this.maxMs;
  }

  /** Milliseconds left before `key` may restart after an exit at `eventTime`; 0 when it may now. */
  remaining(key: string, eventTime: number): number {
    const e = this.entries.get(key);
    if (!e || this.expired(eventTime, e.lastUpdate)) return 0;
    return Math.max(0, e.backoffMs - (this.clock.now() - eventTime));
  }

  /** The current back-off of `key` (what a CrashLoopBackOff message shows). */
  current(key: string): number {
    return this.entries.get(key)?.backoffMs ?? this.initialMs;
  }

  /** Records a restart of `key`. */
  next(key: string, eventTime: number = this.clock.now()): void {
    const e = this.entries.get(key);
    const backoffMs = !e || this.expired(eventTime, e.lastUpdate) ? this.initialMs : Math.min(e.backoffMs * 2, this.maxMs);
    this.entries.set(key, { backoffMs, lastUpdate: this.clock.now() });
  }

  /** Forgets every key that starts with `prefix` (a pod that is gone). */
  forget(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** Formats a back-off the way the kubelet's messages do (Go's Duration.String: 10s, 1m20s, 5m0s). */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (ms < 1000) return `${ms}ms`;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${s % 60}s`;
}
