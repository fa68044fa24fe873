/**
 * How many replicas a resource metric asks for, after kube's
 * pkg/controller/podautoscaler/replica_calculator.go (GetResourceReplicas,
 * GetRawResourceReplicas) and metrics/utilization.go. Pure: the pods, their
 * measured usage and the time come in as values. Quantities are in milli-units
 * (millicores, millibytes), as kube's MilliValue.
 *
 * Pods are grouped as kube groups them: deleted and failed pods are ignored;
 * pending pods count as unready; pods without a measurement are missing; for
 * CPU, a pod not Ready or still in its initialization period without a full
 * window measured since it became Ready is unready. When the ratio calls for
 * a scale-up, unready pods count as using nothing; missing pods count as
 * using nothing on a scale-up and their whole request (or the target) on a
 * scale-down, so uncertainty always damps the change; a change that flips
 * direction or falls within the tolerance is no change.
 */
import type { Pod } from '../../api/core/v1/pod.js';
import { parseQuantity } from '../../api/quantity.js';

export interface PodMetric {
  /** Usage in milli-units, summed over the pod's containers (or the one container a ContainerResource metric names). */
  value: number;
  /** When the measurement window ended (ms since the epoch). */
  timestamp: number;
  windowMs: number;
}

/** The tolerance either side of a ratio of 1 within which nothing changes. */
export interface Tolerances {
  scaleDown: number;
  scaleUp: number;
}

export interface CalculatorOptions {
  now: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period. @default 5 min */
  cpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay. @default 30 s */
  delayOfInitialReadinessStatusMs?: number;
}

export interface ResourceReplicas {
  replicas: number;
  /** Utilization targets: the current utilization in percent of the requests. */
  utilization?: number;
  /** The average usage per pod, in milli-units. */
  rawAverage: number;
  /** The newest measurement used. */
  timestamp: number;
}

/** A metric that cannot be computed, with kube's message. */
export class ReplicaCalculationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaCalculationError';
  }
}

const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
const INITIAL_READINESS_DELAY_MS = 30_000;

function within(t: Tolerances, ratio: number): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

interface Groups {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** groupPods. */
function groupPods(pods: readonly Pod[], metrics: ReadonlyMap<string, PodMetric>, resource: string, o: CalculatorOptions): Groups {
  const g: Groups = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  const initPeriod = o.cpuInitializationPeriodMs ?? CPU_INITIALIZATION_PERIOD_MS;
  const readinessDelay = o.delayOfInitialReadinessStatusMs ?? INITIAL_READINESS_DELAY_MS;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
      const start = Date.parse(pod.status?.startTime ?? '');
      let unready: boolean;
      if (!ready || Number.isNaN(start)) unready = true;
      else {
        const transition = Date.parse(ready.lastTransitionTime ?? '') || 0;
        if (start + initPeriod > o.now) unready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        else unready = ready.status === 'False' && start + readinessDelay > transition;
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyCount++;
  }
  return g;
}

/** calculatePodRequests: each pod's request of `resource` in milli-units (one container's, or the sum); every container must request it. */
export function podRequests(pods: readonly Pod[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = parseQuantity(c.resources?.requests?.[resource]);
      if (q === undefined) throw new ReplicaCalculationError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += Math.round(q * 1000);
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** GetResourceUtilizationRatio: the ratio of utilization to target, the utilization in percent (truncated), and the average raw usage. */
function utilizationRatio(metrics: ReadonlyMap<string, PodMetric>, requests: ReadonlyMap<string, number>, target: number) {
  let total = 0;
  let requested = 0;
  let n = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    total += m.value;
    requested += r;
    n++;
  }
  if (requested === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
  const utilization = Math.trunc((total * 100) / requested);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(total / n) };
}

/** GetMetricUsageRatio: the ratio of the average usage to the target, and the average. */
function usageRatio(metrics: ReadonlyMap<string, PodMetric>, target: number) {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const average = Math.trunc(total / metrics.size);
  return { ratio: average / target, average };
}

function newest(metrics: ReadonlyMap<string, PodMetric>): number {
  let t = 0;
  for (const m of metrics.values()) t = Math.max(t, m.timestamp);
  return t;
}

interface Inputs {
  currentReplicas: number;
  pods: readonly Pod[];
  metrics: ReadonlyMap<string, PodMetric>;
  resource: string;
  tolerances: Tolerances;
  /** ContainerResource metrics: the one container whose requests count. */
  container?: string;
}

/**
 * The shared body of both calculations: `ratioOf` computes the ratio of a
 * set of measurements to the target; `fillMissing` is what a missing pod is
 * assumed to use on a scale-down.
 */
function calculate(
  inp: Inputs,
  o: CalculatorOptions,
  ratioOf: (m: ReadonlyMap<string, PodMetric>) => number,
  fillMissing: (pod: string) => number,
): { replicas: number } {
  const metrics = new Map(inp.metrics);
  const g = groupPods(inp.pods, metrics, inp.resource, o);
  for (const p of [...g.ignored, ...g.unready]) metrics.delete(p);
  if (metrics.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const ratio = ratioOf(metrics);
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (within(inp.tolerances, ratio)) return { replicas: inp.currentReplicas };
    return { replicas: Math.ceil(ratio * g.readyCount) };
  }
  const dummy = (value: number) => ({ value, timestamp: 0, windowMs: 0 });
  if (ratio < 1) for (const p of g.missing) metrics.set(p, dummy(fillMissing(p)));
  else if (ratio > 1) for (const p of g.missing) metrics.set(p, dummy(0));
  if (scaleUpWithUnready) for (const p of g.unready) metrics.set(p, dummy(0));
  const newRatio = ratioOf(metrics);
  if (within(inp.tolerances, newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return { replicas: inp.currentReplicas };
  const replicas = Math.ceil(newRatio * metrics.size);
  if ((newRatio < 1 && replicas > inp.currentReplicas) || (newRatio > 1 && replicas < inp.currentReplicas)) return { replicas: inp.currentReplicas };
  return { replicas };
}

/** GetResourceReplicas: a Utilization target (percent of the pods' requests). */
export function resourceReplicas(inp: Inputs, targetUtilization: number, o: CalculatorOptions): ResourceReplicas {
  if (inp.pods.length === 0) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const timestamp = newest(inp.metrics);
  const requests = podRequests(inp.pods, inp.resource, inp.container);
  // The utilization reported is that of the pods measured, before missing and unready pods are filled in.
  const measured = new Map(inp.metrics);
  const g = groupPods(inp.pods, measured, inp.resource, o);
  for (const p of [...g.ignored, ...g.unready]) measured.delete(p);
  if (measured.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const reported = utilizationRatio(measured, requests, targetUtilization);
  const fallback = Math.max(100, targetUtilization);
  const { replicas } = calculate(
    inp,
    o,
    (m) => utilizationRatio(m, requests, targetUtilization).ratio,
    (p) => Math.trunc(((requests.get(p) ?? 0) * fallback) / 100),
  );
  return { replicas, utilization: reported.utilization, rawAverage: reported.rawAverage, timestamp };
}

/** GetRawResourceReplicas: an AverageValue target (milli-units per pod). */
export function rawResourceReplicas(inp: Inputs, targetAverage: number, o: CalculatorOptions): ResourceReplicas {
  if (inp.pods.length === 0) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const timestamp = newest(inp.metrics);
  const measured = new Map(inp.metrics);
  const g = groupPods(inp.pods, measured, inp.resource, o);
  for (const p of [...g.ignored, ...g.unready]) measured.delete(p);
  if (measured.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const { average } = usageRatio(measured, targetAverage);
  const { replicas } = calculate(
    inp,
    o,
    (m) => usageRatio(m, targetAverage).ratio,
    () => targetAverage,
  );
  return { replicas, rawAverage: average, timestamp };
}
