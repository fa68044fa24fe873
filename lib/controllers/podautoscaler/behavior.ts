/**
 * From the replicas the metrics ask for to the replicas the HPA sets, after
 * kube's horizontal.go: stabilization windows over past recommendations and
 * the scale-up/scale-down policies over past scale events
 * (normalizeDesiredReplicasWithBehaviors), or, for an HPA without `behavior`,
 * the fixed rules (normalizeDesiredReplicas: a 5-minute downscale window, at
 * most doubling or 4 pods). Pure: history and time come in, the new history
 * goes out.
 *
 * kube keeps this history in the controller's memory. kumo's controllers may
 * run in any Lambda container, so it is stored on the HPA itself
 * (HISTORY_ANNOTATION), and each entry is stamped with the time of the
 * measurement it came from, not the time of the reconcile: reconciling again
 * on the same measurements records nothing new, so the controller's own
 * writes never make it write again.
 */
import { z } from 'zod';
import { DEFAULT_SCALE_DOWN, type ScalingRules } from '../../api/autoscaling/v2/horizontalpodautoscaler.js';

/** The HPA annotation holding its recommendations and scale events (JSON of ScaleHistory). */
export const HISTORY_ANNOTATION = 'autoscaling.kumo.io/history';

const Entry = z.tuple([z.number(), z.number()]);
const HistorySchema = z.object({ recommendations: z.array(Entry), scaleUp: z.array(Entry), scaleDown: z.array(Entry) });
/** [time (ms), replicas] recommendations and [time, replica change] scale events. */
export type ScaleHistory = z.infer<typeof HistorySchema>;

export function emptyHistory(): ScaleHistory {
  return { recommendations: [], scaleUp: [], scaleDown: [] };
}

export function parseHistory(text: string | undefined): ScaleHistory {
  if (!text) return emptyHistory();
  try {
    const parsed = HistorySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : emptyHistory();
  } catch {
    return emptyHistory();
  }
}

/** A condition the normalization sets (AbleToScale or ScalingLimited), with kube's reasons and messages. */
export interface Verdict {
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  /** AbleToScale (True): why the recommendation was or was not stabilized. */
  ableToScale: Verdict;
  /** ScalingLimited: its status (whether a limit changed the stabilized recommendation), reason and message. */
  limited: Verdict & { status: 'True' | 'False' };
  history: ScaleHistory;
}

export interface NormalizeArgs {
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  /** The time the recommendation's measurements were taken (its stamp in the history). */
  at: number;
  now: number;
}

const READY = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const WITHIN = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const TOO_FEW = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
const TOO_MANY = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const UP_LIMIT = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const DOWN_LIMIT = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };
const DOWN_STABILIZED = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const UP_STABILIZED = { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' };

/** Records `desired` at `at`, replacing an entry of the same time, and drops entries older than `keepMs`. */
function record(entries: ScaleHistory['recommendations'], at: number, value: number, now: number, keepMs: number): ScaleHistory['recommendations'] {
  return [...entries.filter(([t]) => t !== at && t > now - keepMs), [at, value] as [number, number]].sort((a, b) => a[0] - b[0]);
}

function limited(replicas: number, stabilized: number, v: Verdict): Normalized['limited'] {
  return { ...v, status: replicas === stabilized ? 'False' : 'True' };
}

/** normalizeDesiredReplicas: an HPA without `behavior`. */
export function normalizeWithoutBehavior(a: NormalizeArgs, history: ScaleHistory): Normalized {
  const windowMs = DEFAULT_SCALE_DOWN.stabilizationWindowSeconds * 1000;
  let stabilized = a.desiredReplicas;
  for (const [t, r] of history.recommendations) if (t > a.now - windowMs) stabilized = Math.max(stabilized, r);
  const recommendations = record(history.recommendations, a.at, a.desiredReplicas, a.now, windowMs);
  const ableToScale = stabilized !== a.desiredReplicas ? DOWN_STABILIZED : READY;
  // convertDesiredReplicasWithRules.
  const scaleUpLimit = Math.max(2 * a.currentReplicas, 4);
  const minimum = a.minReplicas === 0 ? 1 : a.minReplicas;
  const [maximum, maxVerdict] = a.maxReplicas > scaleUpLimit ? [scaleUpLimit, UP_LIMIT] : [a.maxReplicas, TOO_MANY];
  let replicas = stabilized;
  let verdict: Verdict = WITHIN;
  if (stabilized < minimum) [replicas, verdict] = [minimum, TOO_FEW];
  else if (stabilized > maximum) [replicas, verdict] = [maximum, maxVerdict];
  return { replicas, ableToScale, limited: limited(replicas, stabilized, verdict), history: { ...history, recommendations } };
}

/** getReplicasChangePerPeriod. */
function changeInPeriod(events: ScaleHistory['scaleUp'], periodSeconds: number, now: number): number {
  let sum = 0;
  for (const [t, change] of events) if (t > now - periodSeconds * 1000) sum += change;
  return sum;
}

/** calculateScaleUpLimitWithScalingRules and calculateScaleDownLimitWithBehaviors. */
function rateLimit(direction: 'up' | 'down', current: number, history: ScaleHistory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Scaling up, the Min policy picks the smallest proposal; scaling down, the smallest change is the largest proposal.
  const pickLargest = (rules.selectPolicy === 'Min') === (direction === 'down');
  let result = pickLargest ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const period = p.periodSeconds ?? 0;
    const start = current - changeInPeriod(history.scaleUp, period, now) + changeInPeriod(history.scaleDown, period, now);
    const value = p.value ?? 0;
    let proposed: number;
    if (direction === 'up') proposed = p.type === 'Pods' ? start + value : Math.ceil(start * (1 + value / 100));
    else proposed = p.type === 'Pods' ? start - value : Math.trunc(start * (1 - value / 100));
    result = pickLargest ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** normalizeDesiredReplicasWithBehaviors: stabilization windows, then the policies' rate limits, then min and max. */
export function normalizeWithBehavior(a: NormalizeArgs, up: ScalingRules, down: ScalingRules, history: ScaleHistory): Normalized {
  // stabilizeRecommendationWithBehaviors.
  const upCutoff = a.now - up.stabilizationWindowSeconds * 1000;
  const downCutoff = a.now - down.stabilizationWindowSeconds * 1000;
  let upRecommendation = a.desiredReplicas;
  let downRecommendation = a.desiredReplicas;
  for (const [t, r] of history.recommendations) {
    if (t > upCutoff) upRecommendation = Math.min(upRecommendation, r);
    if (t > downCutoff) downRecommendation = Math.max(downRecommendation, r);
  }
  let stabilized = Math.max(a.currentReplicas, upRecommendation);
  stabilized = Math.min(stabilized, downRecommendation);
  const keepMs = Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds) * 1000;
  const recommendations = record(history.recommendations, a.at, a.desiredReplicas, a.now, keepMs);
  const ableToScale = stabilized === a.desiredReplicas ? READY : a.desiredReplicas >= a.currentReplicas ? UP_STABILIZED : DOWN_STABILIZED;
  // convertDesiredReplicasWithBehaviorRate.
  let replicas = stabilized;
  let verdict: Verdict = WITHIN;
  if (stabilized > a.currentReplicas) {
    const limit = Math.max(rateLimit('up', a.currentReplicas, history, up, a.now), a.currentReplicas);
    const [maximum, v] = a.maxReplicas > limit ? [limit, UP_LIMIT] : [a.maxReplicas, TOO_MANY];
    if (stabilized > maximum) [replicas, verdict] = [maximum, v];
  } else if (stabilized < a.currentReplicas) {
    const limit = Math.min(rateLimit('down', a.currentReplicas, history, down, a.now), a.currentReplicas);
    const [minimum, v] = a.minReplicas < limit ? [limit, DOWN_LIMIT] : [a.minReplicas, TOO_FEW];
    if (stabilized < minimum) [replicas, verdict] = [minimum, v];
  }
  return { replicas, ableToScale, limited: limited(replicas, stabilized, verdict), history: { ...history, recommendations } };
}

/** storeScaleEvent: a rescale from `from` to `to` at `at`; events older than the longest policy period are dropped. */
export function recordScaleEvent(history: ScaleHistory, from: number, to: number, at: number, now: number, up: ScalingRules, down: ScalingRules): ScaleHistory {
  const longest = (rules: ScalingRules) => Math.max(0, ...rules.policies.map((p) => p.periodSeconds ?? 0)) * 1000;
  const keep = (events: ScaleHistory['scaleUp'], ms: number) => events.filter(([t]) => t > now - ms);
  if (to > from) return { ...history, scaleUp: [...keep(history.scaleUp, longest(up)), [at, to - from]], scaleDown: keep(history.scaleDown, longest(down)) };
  return { ...history, scaleUp: keep(history.scaleUp, longest(up)), scaleDown: [...keep(history.scaleDown, longest(down)), [at, from - to]] };
}
