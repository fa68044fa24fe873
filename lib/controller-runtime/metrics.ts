/**
 * What the control loops report, under controller-runtime's names: every
 * reconcile's outcome and duration per controller, and (where a process
 * keeps work queues: `kumo up`) each queue's depth, adds and retries. The
 * drivers report through ReconcileObserver; `kumo up` keeps the figures in
 * its Prometheus registry (ControllerMetrics), the cloud functions publish
 * each invocation's as CloudWatch metrics (lib/cloud/reconcile-metrics.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Stopwatch, systemStopwatch } from '../util/stopwatch.js';
import type { ReconcileResult, Reconciler } from './reconciler.js';
import type { WorkQueueMetrics } from './workqueue.js';

const OUTCOMES = ['success', 'error', 'requeue', 'requeue_after'] as const;

/** controller-runtime's `result` label: how a reconcile ended. */
export type ReconcileOutcome = (typeof OUTCOMES)[number];

export interface ReconcileObserver {
  /** One reconcile of `controller` ended with `outcome` after `seconds`. */
  reconciled(controller: string, outcome: ReconcileOutcome, seconds: number): void;
}

/** As controller-runtime labels a result: a delay is `requeue_after`, an immediate requeue `requeue`. */
function outcomeOf(result: ReconcileResult | void): ReconcileOutcome {
  const after = result?.requeueAfterMs;
  if (after === undefined) return 'success';
  return after > 0 ? 'requeue_after' : 'requeue';
}

/** Runs one reconcile and reports how it ended to `observer`; returns or rethrows what the reconcile did. */
export async function observedReconcile(
  r: Reconciler,
  key: string,
  observer: ReconcileObserver | undefined,
  stopwatch: Stopwatch = systemStopwatch,
): Promise<ReconcileResult | void> {
  if (!observer) return r.reconcile(key);
  const started = stopwatch();
  const seconds = () => (stopwatch() - started) / 1000;
  try {
    const result = await r.reconcile(key);
    observer.reconciled(r.name, outcomeOf(result), seconds());
    return result;
  } catch (err) {
    observer.reconciled(r.name, 'error', seconds());
    throw err;
  }
}

/** controller_runtime_reconcile_time_seconds' buckets (controller-runtime's). */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8,
  9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/**
 * The control loops' Prometheus metrics in one process. Queues are labelled
 * as controller-runtime labels them: `name` and `controller` both the
 * reconciler's name.
 */
export class ControllerMetrics implements ReconcileObserver {
  private readonly total: Counter<'controller' | 'result'>;
  private readonly errors: Counter<'controller'>;
  private readonly time: Histogram<'controller'>;
  private readonly adds: Counter<'name' | 'controller'>;
  private readonly retries: Counter<'name' | 'controller'>;
  /** Each queue's depth, read at scrape time. */
  private readonly depths = new Map<string, () => number>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.total = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.errors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.time = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_TIME_BUCKETS,
      registers,
    });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name', 'controller'], registers });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name', 'controller'],
      registers,
    });
    const depths = this.depths;
    new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name', 'controller'],
      registers,
      collect() {
        for (const [name, depth] of depths) this.set({ name, controller: name }, depth());
      },
    });
  }

  reconciled(controller: string, outcome: ReconcileOutcome, seconds: number): void {
    this.total.inc({ controller, result: outcome });
    if (outcome === 'error') this.errors.inc({ controller });
    this.time.observe({ controller }, seconds);
  }

  /**
   * Registers controller `name` and its work queue, whose `depth` is read at
   * every scrape, and returns the queue's hooks. Its series start at zero,
   * as controller-runtime initializes them, so a scrape shows every
   * controller, and a rate of errors is defined before the first one.
   */
  controller(name: string, depth: () => number): WorkQueueMetrics {
    for (const result of OUTCOMES) this.total.inc({ controller: name, result }, 0);
    this.errors.inc({ controller: name }, 0);
    this.depths.set(name, depth);
    const labels = { name, controller: name };
    this.adds.inc(labels, 0);
    this.retries.inc(labels, 0);
    return { added: () => this.adds.inc(labels), retried: () => this.retries.inc(labels) };
  }
}
