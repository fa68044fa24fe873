/**
 * API Priority and Fairness as one API server instance can keep it, without
 * any shared state: each caller (a flow: the authenticated user, as
 * Kubernetes' default flow schemas distinguish flows) may use at most a
 * share of this instance's serving time, with a burst, and the flows of a
 * priority level together at most the level's share.
 *
 * Why per instance and by time: in the cloud every Lambda execution
 * environment serves one request at a time, has its own memory, and any
 * shared counter would be a store write per request (a bill at rest). Lambda
 * hands requests to whichever environment is free, so each one sees a
 * sample of the whole traffic; a flow held to a share of every
 * environment's time is held to that share of the function's capacity,
 * which the function's concurrency cap bounds. docs/cloud.md has the
 * reasoning and the limits.
 *
 * Levels, after Kubernetes' bootstrap configuration:
 * - `exempt`: system:masters, never limited (kube-apiserver exempts them so
 *   that an administrator can always act).
 * - `system`: nodes and node bootstrappers; each node may use half of an
 *   instance's time, the level all of it.
 * - `global-default`: every other authenticated user; each at most a
 *   quarter, all of them together at most half, so users can never take
 *   more than half of the API's time from the nodes.
 *
 * Only the work before a response starts is charged: a watch or a log
 * follow costs what setting it up cost (as APF charges a watch for its
 * initialization), its life is bounded by the client's timeout and the
 * function's.
 */
import type { UserInfo } from '../api/request.js';
import { type Clock, systemClock } from '../util/clock.js';

export type PriorityLevelName = 'exempt' | 'system' | 'global-default';

export interface PriorityLevel {
  /** Largest share of an instance's serving time one flow may use, on average. */
  flowShare: number;
  /** Largest share all flows of the level may use together: each active flow gets at most this divided by their number. */
  levelShare: number;
}

/** The shares of the limited levels (`exempt` has none). */
export const PRIORITY_LEVELS: Readonly<Record<Exclude<PriorityLevelName, 'exempt'>, PriorityLevel>> = {
  system: { flowShare: 0.5, levelShare: 1 },
  'global-default': { flowShare: 0.25, levelShare: 0.5 },
};

/** Kubernetes' message for a request refused by flow control. */
export const TOO_MANY_REQUESTS_MESSAGE = 'Too many requests, please try again later.';

/** Which level a user's requests belong to, by group (the flow schemas). */
export function priorityLevelOf(user: UserInfo): PriorityLevelName {
  if (user.groups.includes('system:masters')) return 'exempt';
  if (user.groups.includes('system:nodes') || user.groups.includes('system:bootstrappers')) return 'system';
  return 'global-default';
}

export interface FlowControlOptions {
  clock?: Clock;
  /** Serving time (ms) a flow may use at once before its share applies (0: the share alone). @default 5,000 */
  burstMs?: number;
  /** A flow counts as active in its level this long after its last request. @default 10 s */
  activeWindowMs?: number;
  /** Most flows remembered; the least recently seen go first (and come back with a full burst). @default 1,000 */
  maxFlows?: number;
}

export type Admission =
  /** Serve the request, then call `done` once (it charges the time since admission). */
  { admitted: true; level: PriorityLevelName; done(): void } | { admitted: false; level: PriorityLevelName; retryAfterSeconds: number };

interface Flow {
  level: Exclude<PriorityLevelName, 'exempt'>;
  /** Serving time (ms) the flow may still use; negative after an expensive request. */
  balance: number;
  /** When the balance was last topped up. */
  toppedUp: number;
  lastSeen: number;
}

/** Longest Retry-After given: a flow that overdrew a lot asks again within a minute and is told again. */
const MAX_RETRY_AFTER_SECONDS = 60;

export class FlowControl {
  private readonly flows = new Map<string, Flow>();
  private readonly clock: Clock;
  private readonly burstMs: number;
  private readonly activeWindowMs: number;
  private readonly maxFlows: number;

  constructor(opts: FlowControlOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.burstMs = opts.burstMs ?? 5_000;
    this.activeWindowMs = opts.activeWindowMs ?? 10_000;
    this.maxFlows = opts.maxFlows ?? 1_000;
  }

  /** Decides on one request of `user`: serve it (and charge it when `done`), or refuse it for a while. */
  admit(user: UserInfo): Admission {
    const levelName = priorityLevelOf(user);
    if (levelName === 'exempt') return { admitted: true, level: levelName, done: () => {} };
    const now = this.clock.now();
    const key = `${levelName}/${user.name}`;
    const flow = this.flows.get(key) ?? { level: levelName, balance: this.burstMs, toppedUp: now, lastSeen: now };
    const share = this.shareOf(flow.level, key, now);
    flow.balance = Math.min(this.burstMs, flow.balance + (now - flow.toppedUp) * share);
    flow.toppedUp = now;
    flow.lastSeen = now;
    // Re-inserted so the map's order is least recently seen first.
    this.flows.delete(key);
    this.flows.set(key, flow);
    while (this.flows.size > this.maxFlows) this.flows.delete(this.flows.keys().next().value!);
    // A flow with nothing left but no debt is served: a burst of 0 means the share alone.
    if (flow.balance < 0) {
      const seconds = Math.ceil(-flow.balance / share / 1000);
      return { admitted: false, level: levelName, retryAfterSeconds: Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds)) };
    }
    let charged = false;
    return {
      admitted: true,
      level: levelName,
      done: () => {
        if (charged) return;
        charged = true;
        flow.balance -= Math.max(0, this.clock.now() - now);
      },
    };
  }

  /** The flow's share now: its level's per-flow share, or less when many flows of the level are active here. */
  private shareOf(level: Exclude<PriorityLevelName, 'exempt'>, key: string, now: number): number {
    const spec = PRIORITY_LEVELS[level];
    let active = 1;
    for (const [k, f] of this.flows) if (k !== key && f.level === level && now - f.lastSeen < this.activeWindowMs) active++;
    return Math.min(spec.flowShare, spec.levelShare / active);
  }
}
