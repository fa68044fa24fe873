/**
 * How a reconcile's end is labelled (controller-runtime's `result`), and how
 * a cloud invocation's tally becomes EMF records: totals first, durations in
 * records of at most 100 values, and a controller's errors under its own
 * dimension only when it had some.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { ReconcileTally } from '#lib/cloud/reconcile-metrics';
import { observedReconcile, type ReconcileOutcome } from '#lib/controller-runtime/metrics';
import type { ReconcileResult, Reconciler } from '#lib/controller-runtime/reconciler';

function reconciler(run: () => Promise<ReconcileResult | void>): Reconciler {
  return { name: 'demo', watches: [], listKeys: async () => [], reconcile: run };
}

describe('observedReconcile', () => {
  it('labels a reconcile success, requeue_after, requeue or error, with its duration, and passes its result or error on', async () => {
    const seen: [string, ReconcileOutcome, number][] = [];
    const observer = { reconciled: (c: string, o: ReconcileOutcome, s: number) => void seen.push([c, o, s]) };
    let now = 0;
    const stopwatch = () => (now += 250);
    expect(
      await observedReconcile(
        reconciler(async () => undefined),
        'k',
        observer,
        stopwatch,
      ),
    ).toBeUndefined();
    expect(
      await observedReconcile(
        reconciler(async () => ({ requeueAfterMs: 1000 })),
        'k',
        observer,
        stopwatch,
      ),
    ).toEqual({ requeueAfterMs: 1000 });
    await observedReconcile(
      reconciler(async () => ({ requeueAfterMs: 0 })),
      'k',
      observer,
      stopwatch,
    );
    await expect(
      observedReconcile(
        reconciler(async () => Promise.reject(new Error('boom'))),
        'k',
        observer,
        stopwatch,
      ),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([
      ['demo', 'success', 0.25],
      ['demo', 'requeue_after', 0.25],
      ['demo', 'requeue', 0.25],
      ['demo', 'error', 0.25],
    ]);
  });
});

describe('ReconcileTally', () => {
  /** The EMF records a publish writes, parsed. */
  function published(tally: ReconcileTally): Record<string, unknown>[] {
    const lines: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      return true;
    });
    try {
      tally.publish(new Metrics({ namespace: 'kumo/Test', serviceName: 'controllers' }));
    } finally {
      stdout.mockRestore();
    }
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  const dimensionsOf = (r: Record<string, unknown>) => (r._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions;

  it('writes nothing for an invocation that reconciled nothing', () => {
    expect(published(new ReconcileTally())).toEqual([]);
  });

  it("writes the totals once, every duration in records of at most 100, and each failing controller's errors under its name", () => {
    const tally = new ReconcileTally();
    for (let i = 0; i < 148; i++) tally.reconciled('deployment', 'success', 0.01);
    tally.reconciled('replicaset', 'error', 0.02);
    tally.reconciled('replicaset', 'error', 0.03);
    const records = published(tally);
    expect(records).toHaveLength(3);
    const [first, rest, errors] = records;
    expect(first).toMatchObject({ service: 'controllers', controller_runtime_reconcile_total: 150, controller_runtime_reconcile_errors_total: 2 });
    expect(dimensionsOf(first!)).toEqual([['service']]);
    expect(rest).not.toHaveProperty('controller_runtime_reconcile_total');
    const durations = [first!, rest!].flatMap((r) => [r.controller_runtime_reconcile_time_seconds].flat());
    expect(durations).toHaveLength(150);
    expect(errors).toMatchObject({ service: 'controllers', controller: 'replicaset', controller_runtime_reconcile_errors_total: 2 });
    expect(dimensionsOf(errors!)).toEqual([['service', 'controller']]);
    // Published once: the tally starts over.
    expect(published(tally)).toEqual([]);
  });
});
