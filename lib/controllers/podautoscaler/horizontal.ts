/**
 * The HorizontalPodAutoscaler controller, after kube's
 * pkg/controller/podautoscaler/horizontal.go (reconcileAutoscaler): read the
 * target's Scale, compute the replicas each metric asks for from the pods
 * its selector names and their metrics.k8s.io PodMetrics, take the largest,
 * stabilize and rate-limit it (behavior.ts), write it through the target's
 * scale subresource, and report status, conditions (AbleToScale,
 * ScalingActive, ScalingLimited) and events with kube's reasons and
 * messages.
 *
 * Every sync re-reads everything and requeues itself after the sync period
 * (15 s, kube's --horizontal-pod-autoscaler-sync-period). Its writes happen
 * only when something changed: the status when it differs, the history
 * annotation when a new measurement or a rescale was recorded. So a sync
 * set off by its own write (the stream delivers it in the cloud) finds
 * nothing to do.
 */
import {
  DEFAULT_TOLERANCE,
  scalingRules,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerCondition,
  type MetricSpec,
  type MetricStatus,
} from '../../api/autoscaling/v2/horizontalpodautoscaler.js';
import type { Pod } from '../../api/core/v1/pod.js';
import { isNotFound } from '../../api/errors.js';
import type { PodMetrics } from '../../api/metrics/v1beta1/metrics.js';
import type { KObject } from '../../api/object.js';
import { parseQuantity } from '../../api/quantity.js';
import type { KubeClient } from '../../client/client.js';
import type { Recorder } from '../../client/events.js';
import { allKeys, selfWatch, splitKey, type Reconciler, type ReconcileResult, type Watch } from '../../controller-runtime/reconciler.js';
import { HORIZONTAL_POD_AUTOSCALERS, PODS } from '../../kinds/resources.js';
import { storeResource } from '../../api/store-key.js';
import { type Clock, rfc3339, systemClock } from '../../util/clock.js';
import { deepEqual } from '../../util/json.js';
import { HISTORY_ANNOTATION, normalizeWithBehavior, normalizeWithoutBehavior, parseHistory, recordScaleEvent, type ScaleHistory } from './behavior.js';
import { type PodMetric, rawResourceReplicas, ReplicaCalculationError, resourceReplicas, type Tolerances } from './replica-calculator.js';
import { type Scale, ScaleTargets } from './scale-target.js';

type HPA = HorizontalPodAutoscaler & KObject;
type ConditionStatus = 'True' | 'False';

export interface HorizontalControllerOptions {
  /** How often each HPA is synced (--horizontal-pod-autoscaler-sync-period). @default 15 s */
  syncPeriodMs?: number;
  /** @default 5 min */
  cpuInitializationPeriodMs?: number;
  /** @default 30 s */
  initialReadinessDelayMs?: number;
}

const SYNC_PERIOD_MS = 15_000;

/** One metric's outcome: the replicas it asks for and its status, or why it could not be computed. */
type MetricOutcome = { ok: true; replicas: number; status: MetricStatus; name: string; timestamp: number } | { ok: false; reason: string; error: string };

/** kube's setConditionInList: a changed status moves lastTransitionTime, reason and message always follow. */
function setCondition(hpa: HPA, type: string, status: ConditionStatus, reason: string, message: string, now: string): void {
  hpa.status ??= {};
  const conditions = [...(hpa.status.conditions ?? [])];
  const i = conditions.findIndex((c) => c.type === type);
  const prev = i >= 0 ? conditions[i] : undefined;
  const next: HorizontalPodAutoscalerCondition = {
    type,
    status,
    lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
    reason,
    message,
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
  hpa.status.conditions = conditions;
}

/** A milli-unit amount as a quantity, as resource.NewMilliQuantity(v, DecimalSI) prints it. */
function milliQuantity(v: number): string {
  return v % 1000 === 0 ? String(v / 1000) : `${v}m`;
}

function milli(q: string | undefined): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.round(v * 1000);
}

export class HorizontalController implements Reconciler {
  readonly name = 'horizontalpodautoscaler';
  readonly watches: Watch[] = [selfWatch(storeResource(HORIZONTAL_POD_AUTOSCALERS))];
  private readonly scales: ScaleTargets;

  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    private readonly opts: HorizontalControllerOptions = {},
  ) {
    this.scales = new ScaleTargets(client, clock);
  }

  listKeys(): Promise<string[]> {
    return allKeys(this.client, HORIZONTAL_POD_AUTOSCALERS);
  }

  private get syncPeriodMs(): number {
    return this.opts.syncPeriodMs ?? SYNC_PERIOD_MS;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const stored = await this.client.find<HPA>(HORIZONTAL_POD_AUTOSCALERS, namespace, name);
    if (!stored || stored.metadata.deletionTimestamp) return;
    const hpa = structuredClone(stored);
    const history = await this.sync(hpa);
    await this.write(stored, hpa, history);
    return { requeueAfterMs: this.syncPeriodMs };
  }

  /** reconcileAutoscaler: decides and rescales; sets `hpa.status` in place; returns the history to store. */
  private async sync(hpa: HPA): Promise<ScaleHistory> {
    const nowMs = this.clock.now();
    const now = rfc3339(nowMs);
    const spec = hpa.spec ?? {};
    const ref = spec.scaleTargetRef ?? {};
    const ns = hpa.metadata.namespace ?? '';
    let history = parseHistory(hpa.metadata.annotations?.[HISTORY_ANNOTATION]);
    let scale: Scale;
    try {
      scale = await this.scales.get(ref.apiVersion ?? '', ref.kind ?? '', ns, ref.name ?? '');
    } catch (err) {
      const msg = (err as Error).message;
      setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`, now);
      await this.recorder.record(hpa, 'Warning', 'FailedGetScale', msg);
      if (!isNotFound(err)) throw err;
      return history;
    }
    setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale", now);
    const current = scale.spec?.replicas ?? 0;
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas ?? 0;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let statuses: MetricStatus[] | undefined;
    let measuredAt = nowMs;
    if (current === 0 && min !== 0) {
      rescale = false;
      setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now);
    } else if (current > max) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = max;
    } else if (current < min) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, spec.metrics ?? [], now);
      statuses = computed.statuses;
      if (computed.replicas < 0) {
        hpa.status = { ...hpa.status, currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? 0, currentMetrics: statuses };
        return history;
      }
      measuredAt = computed.timestamp || nowMs;
      desired = computed.replicas;
      if (desired > current) reason = `${computed.name} above target`;
      if (desired < current) reason = 'All metrics below target';
      const args = { currentReplicas: current, desiredReplicas: desired, minReplicas: min, maxReplicas: max, at: measuredAt, now: nowMs };
      const n = spec.behavior
        ? normalizeWithBehavior(args, scalingRules(spec.behavior.scaleUp, 'up'), scalingRules(spec.behavior.scaleDown, 'down'), history)
        : normalizeWithoutBehavior(args, history);
      setCondition(hpa, 'AbleToScale', 'True', n.ableToScale.reason, n.ableToScale.message, now);
      setCondition(hpa, 'ScalingLimited', n.limited.status, n.limited.reason, n.limited.message, now);
      history = n.history;
      desired = n.replicas;
      rescale = desired !== current;
    }
    if (rescale) {
      try {
        await this.scales.update(ref.apiVersion ?? '', ref.kind ?? '', scale, desired);
      } catch (err) {
        const msg = (err as Error).message;
        await this.recorder.record(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${msg}`);
        setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`, now);
        hpa.status = {
          ...hpa.status,
          currentReplicas: current,
          desiredReplicas: hpa.status?.desiredReplicas ?? 0,
          ...(statuses ? { currentMetrics: statuses } : {}),
        };
        return history;
      }
      setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`, now);
      await this.recorder.record(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      history = recordScaleEvent(
        history,
        current,
        desired,
        nowMs,
        nowMs,
        scalingRules(spec.behavior?.scaleUp, 'up'),
        scalingRules(spec.behavior?.scaleDown, 'down'),
      );
    } else {
      desired = current;
    }
    hpa.status = {
      ...hpa.status,
      currentReplicas: current,
      desiredReplicas: desired,
      ...(statuses ? { currentMetrics: statuses } : {}),
      ...(rescale ? { lastScaleTime: now } : {}),
    };
    return history;
  }

  /** computeReplicasForMetrics: the largest proposal of the valid metrics, or -1 when all are invalid (or some are and the rest would scale down). */
  private async computeReplicasForMetrics(
    hpa: HPA,
    scale: Scale,
    metrics: readonly MetricSpec[],
    now: string,
  ): Promise<{ replicas: number; name: string; statuses: MetricStatus[]; timestamp: number }> {
    const selector = scale.status?.selector ?? '';
    if (selector === '') {
      await this.recorder.record(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector", now);
      return { replicas: -1, name: '', statuses: [], timestamp: 0 };
    }
    const current = scale.spec?.replicas ?? 0;
    const statuses: MetricStatus[] = [];
    let replicas = 0;
    let name = '';
    let timestamp = 0;
    let invalid = 0;
    let first: { reason: string; error: string } | undefined;
    for (const m of metrics) {
      const outcome = await this.computeReplicasForMetric(hpa, m, current, selector);
      if (!outcome.ok) {
        invalid++;
        first ??= outcome;
        statuses.push({ type: '' });
        await this.recorder.record(hpa, 'Warning', outcome.reason, outcome.error);
        continue;
      }
      statuses.push(outcome.status);
      if (replicas === 0 || outcome.replicas > replicas) {
        replicas = outcome.replicas;
        name = outcome.name;
        timestamp = outcome.timestamp;
      }
    }
    if (first && (invalid >= metrics.length || replicas < current)) {
      setCondition(hpa, 'ScalingActive', 'False', first.reason, `the HPA was unable to compute the replica count: ${first.error}`, now);
      const message = `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${first.error}`;
      await this.recorder.record(hpa, 'Warning', 'FailedComputeMetricsReplicas', message);
      return { replicas: -1, name: '', statuses, timestamp: 0 };
    }
    setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${name}`, now);
    return { replicas, name, statuses, timestamp };
  }

  private tolerances(hpa: HPA): Tolerances {
    const t = (q: string | number | null | undefined) => parseQuantity(q ?? undefined) ?? DEFAULT_TOLERANCE;
    return { scaleUp: t(hpa.spec?.behavior?.scaleUp?.tolerance), scaleDown: t(hpa.spec?.behavior?.scaleDown?.tolerance) };
  }

  /** Resource and ContainerResource metrics from metrics.k8s.io; the other sources need an API kumo does not serve. */
  private async computeReplicasForMetric(hpa: HPA, m: MetricSpec, current: number, selector: string): Promise<MetricOutcome> {
    const src = m.type === 'Resource' ? m.resource : m.type === 'ContainerResource' ? m.containerResource : undefined;
    if (!src) {
      const reason = `FailedGet${m.type ?? ''}Metric`;
      return { ok: false, reason, error: `unable to get metric of type ${m.type ?? ''}: kumo serves no custom or external metrics API` };
    }
    const resource = src.name ?? '';
    const container = m.type === 'ContainerResource' ? (m.containerResource?.container ?? '') : undefined;
    const target = src.target ?? {};
    const utilization = target.averageValue == null;
    const fail = (err: unknown): MetricOutcome => ({
      ok: false,
      reason: m.type === 'ContainerResource' ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric',
      error: `failed to get ${resource} ${utilization ? 'utilization' : 'usage'}: ${(err as Error).message}`,
    });
    try {
      const ns = hpa.metadata.namespace ?? '';
      const [pods, metrics] = await Promise.all([
        this.client.listAll<Pod & KObject>(PODS, ns, { labelSelector: selector }),
        this.podMetrics(ns, selector, resource, container),
      ]);
      const inputs = { currentReplicas: current, pods: pods.items, metrics, resource, tolerances: this.tolerances(hpa), ...(container ? { container } : {}) };
      const calc = {
        now: this.clock.now(),
        ...(this.opts.cpuInitializationPeriodMs !== undefined ? { cpuInitializationPeriodMs: this.opts.cpuInitializationPeriodMs } : {}),
        ...(this.opts.initialReadinessDelayMs !== undefined ? { delayOfInitialReadinessStatusMs: this.opts.initialReadinessDelayMs } : {}),
      };
      const kind = m.type === 'ContainerResource' ? 'containerResource' : 'resource';
      const id = container ? { name: resource, container } : { name: resource };
      if (utilization) {
        const r = resourceReplicas(inputs, target.averageUtilization ?? 0, calc);
        const status = { type: m.type ?? '', [kind]: { ...id, current: { averageUtilization: r.utilization, averageValue: milliQuantity(r.rawAverage) } } };
        return { ok: true, replicas: r.replicas, status, name: `${resource} resource utilization (percentage of request)`, timestamp: r.timestamp };
      }
      const r = rawResourceReplicas(inputs, milli(String(target.averageValue)) ?? 0, calc);
      const status = { type: m.type ?? '', [kind]: { ...id, current: { averageValue: milliQuantity(r.rawAverage) } } };
      return { ok: true, replicas: r.replicas, status, name: `${resource} resource`, timestamp: r.timestamp };
    } catch (err) {
      if (err instanceof ReplicaCalculationError || isNotFound(err)) return fail(err);
      throw err;
    }
  }

  /** GetResourceMetric: each pod's usage of `resource` (its containers' sum, or one container's), from metrics.k8s.io. */
  private async podMetrics(namespace: string, selector: string, resource: string, container: string | undefined): Promise<Map<string, PodMetric>> {
    let list: { items?: PodMetrics[] };
    try {
      list = await this.client.call({
        method: 'GET',
        path: `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`,
        query: new URLSearchParams({ labelSelector: selector }),
      });
    } catch (err) {
      throw new ReplicaCalculationError(
        `unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${(err as Error).message}`,
      );
    }
    if ((list.items ?? []).length === 0)
      throw new ReplicaCalculationError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const out = new Map<string, PodMetric>();
    for (const pm of list.items ?? []) {
      let value = 0;
      let complete = true;
      const containers = container ? pm.containers.filter((c) => c.name === container) : pm.containers;
      for (const c of containers) {
        const v = milli(c.usage[resource as 'cpu' | 'memory']);
        if (v === undefined) complete = false;
        else value += v;
      }
      if (!complete || containers.length === 0) continue;
      out.set(pm.metadata.name, { value, timestamp: Date.parse(pm.timestamp), windowMs: goDurationMs(pm.window) });
    }
    return out;
  }

  /** Stores what a sync decided: the history annotation when it changed, then the status when it changed. */
  private async write(stored: HPA, hpa: HPA, history: ScaleHistory): Promise<void> {
    const ns = stored.metadata.namespace;
    const name = stored.metadata.name!;
    const text = JSON.stringify(history);
    if (text !== (stored.metadata.annotations?.[HISTORY_ANNOTATION] ?? JSON.stringify(parseHistory(undefined)))) {
      await this.client.patch(HORIZONTAL_POD_AUTOSCALERS, ns, name, { metadata: { annotations: { [HISTORY_ANNOTATION]: text } } }, 'merge');
    }
    if (!deepEqual(stored.status ?? {}, hpa.status ?? {})) {
      await this.client.patch(HORIZONTAL_POD_AUTOSCALERS, ns, name, { status: hpa.status }, 'merge', { subresource: 'status' });
    }
  }
}

/** A metav1.Duration's text (`1m0s`, `10s`, `1h2m3s`) in milliseconds. */
function goDurationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) ms += Number(n) * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : 1000);
  return ms;
}
