/**
 * The control loops' figures in the cloud. A controller or scheduler
 * function's memory is one container's and nobody scrapes it, so each
 * invocation's reconciles are tallied and written to its log as CloudWatch
 * Embedded Metric Format (Powertools Metrics), which CloudWatch turns into
 * metrics with no API call (docs/cloud.md, "Metrics").
 *
 * Custom metrics are billed per metric and month, so the set is small and
 * fixed: per function (the `service` dimension) the reconciles, their
 * errors and their durations, under controller-runtime's names; and, only
 * while a controller fails, its errors under a `controller` dimension.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ReconcileObserver, ReconcileOutcome } from '../controller-runtime/metrics.js';
import { type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';

/** The function's publisher, or none when no namespace is configured (the stack sets POWERTOOLS_METRICS_NAMESPACE; tests and local runs do not). */
export function reconcileMetricsFromEnv(env: Env = process.env): Metrics | undefined {
  const namespace = readSetting(env, SETTINGS.metricsNamespace);
  if (!namespace) return undefined;
  const serviceName = readSetting(env, SETTINGS.serviceName);
  return new Metrics({ namespace, ...(serviceName ? { serviceName } : {}) });
}

/** One invocation's reconciles, kept until published. */
export class ReconcileTally implements ReconcileObserver {
  private readonly seconds: number[] = [];
  /** Errors by controller. */
  private readonly errors = new Map<string, number>();

  reconciled(controller: string, outcome: ReconcileOutcome, seconds: number): void {
    this.seconds.push(seconds);
    if (outcome === 'error') this.errors.set(controller, (this.errors.get(controller) ?? 0) + 1);
  }

  /**
   * Writes the tally as EMF records and forgets it; nothing when nothing was
   * reconciled. The totals go first: Powertools flushes a record by itself
   * at 100 values of one metric, and the later records then carry only
   * durations, which CloudWatch adds up the same.
   */
  publish(metrics: Metrics): void {
    if (this.seconds.length === 0) return;
    let errors = 0;
    for (const n of this.errors.values()) errors += n;
    metrics.addMetric('controller_runtime_reconcile_total', MetricUnit.Count, this.seconds.length);
    metrics.addMetric('controller_runtime_reconcile_errors_total', MetricUnit.Count, errors);
    for (const s of this.seconds) metrics.addMetric('controller_runtime_reconcile_time_seconds', MetricUnit.Seconds, s);
    metrics.publishStoredMetrics();
    for (const [controller, n] of this.errors) {
      metrics.addDimension('controller', controller);
      metrics.addMetric('controller_runtime_reconcile_errors_total', MetricUnit.Count, n);
      metrics.publishStoredMetrics();
    }
    this.seconds.length = 0;
    this.errors.clear();
  }
}

/** Runs one invocation's work with a fresh tally, and publishes the tally however the work ends (when there is a publisher). */
export async function publishingReconciles<T>(metrics: Metrics | undefined, work: (observer: ReconcileObserver) => Promise<T>): Promise<T> {
  const tally = new ReconcileTally();
  try {
    return await work(tally);
  } finally {
    if (metrics) tally.publish(metrics);
  }
}
