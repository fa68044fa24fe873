/**
 * The HPA's pure parts with fake metrics: the replica calculator on kube's
 * own replica_calculator_test.go cases, and the stabilization windows and
 * scaling policies of horizontal.go.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from '#lib/api/core/v1/pod';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, scalingRules } from '#lib/api/autoscaling/v2/horizontalpodautoscaler';
import { emptyHistory, normalizeWithBehavior, normalizeWithoutBehavior, recordScaleEvent } from '#lib/controllers/podautoscaler/behavior';
import { type PodMetric, rawResourceReplicas, ReplicaCalculationError, resourceReplicas } from '#lib/controllers/podautoscaler/replica-calculator';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const LONG_AGO = new Date(NOW - 3_600_000).toISOString();

function pod(name: string, opts: { ready?: boolean; phase?: string; cpu?: string; memory?: string; started?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: opts.cpu ?? '1', memory: opts.memory ?? '1Gi' } } }] },
    status: {
      phase: opts.phase ?? 'Running',
      startTime: opts.started ?? LONG_AGO,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: LONG_AGO }],
    },
  };
}

function metrics(values: Record<string, number>): Map<string, PodMetric> {
  return new Map(Object.entries(values).map(([name, value]) => [name, { value, timestamp: NOW - 1000, windowMs: 30_000 }]));
}

const TOLERANCE = { scaleUp: 0.1, scaleDown: 0.1 };
const opts = { now: NOW };

describe('replica calculator', () => {
  it('scales up in proportion to utilization (TestReplicaCalcScaleUp)', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    const r = resourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 300, b: 500, c: 700 }), resource: 'cpu', tolerances: TOLERANCE }, 30, opts);
    expect(r).toMatchObject({ replicas: 5, utilization: 50, rawAverage: 500 });
  });

  it('counts unready pods as idle when scaling up (TestReplicaCalcScaleUpUnreadyLessScale)', () => {
    const pods = [pod('a', { ready: false }), pod('b'), pod('c')];
    const r = resourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 300, b: 500, c: 700 }), resource: 'cpu', tolerances: TOLERANCE }, 30, opts);
    expect(r).toMatchObject({ replicas: 4, utilization: 60 });
  });

  it('scales down (TestReplicaCalcScaleDown)', () => {
    const pods = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n));
    const m = metrics({ a: 100, b: 300, c: 500, d: 250, e: 250 });
    expect(resourceReplicas({ currentReplicas: 5, pods, metrics: m, resource: 'cpu', tolerances: TOLERANCE }, 50, opts)).toMatchObject({
      replicas: 3,
      utilization: 28,
    });
  });

  it('assumes a missing pod uses its whole request when scaling down', () => {
    const pods = ['a', 'b', 'c', 'd'].map((n) => pod(n));
    const r = resourceReplicas({ currentReplicas: 4, pods, metrics: metrics({ a: 100, b: 100, c: 100 }), resource: 'cpu', tolerances: TOLERANCE }, 50, opts);
    expect(r).toMatchObject({ replicas: 3, utilization: 10 });
  });

  it('keeps the replicas within the tolerance, and ignores deleted and failed pods', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('gone', { phase: 'Failed' })];
    const r = resourceReplicas(
      { currentReplicas: 3, pods, metrics: metrics({ a: 550, b: 550, c: 550, gone: 5000 }), resource: 'cpu', tolerances: TOLERANCE },
      50,
      opts,
    );
    expect(r).toMatchObject({ replicas: 3, utilization: 55 });
  });

  it("scales on an average value (memory), and fails with kube's messages", () => {
    const pods = [pod('a'), pod('b')];
    const mi = 2 ** 20 * 1000;
    const r = rawResourceReplicas(
      { currentReplicas: 2, pods, metrics: metrics({ a: 300 * mi, b: 500 * mi }), resource: 'memory', tolerances: TOLERANCE },
      200 * mi,
      opts,
    );
    expect(r).toMatchObject({ replicas: 4, rawAverage: 400 * mi });
    expect(() => resourceReplicas({ currentReplicas: 1, pods: [], metrics: new Map(), resource: 'cpu', tolerances: TOLERANCE }, 50, opts)).toThrow(
      new ReplicaCalculationError('no pods returned by selector while calculating replica count'),
    );
    const noRequest: Pod = { ...pod('x'), spec: { containers: [{ name: 'c', image: 'x' }] } };
    expect(() =>
      resourceReplicas({ currentReplicas: 1, pods: [noRequest], metrics: metrics({ x: 1 }), resource: 'cpu', tolerances: TOLERANCE }, 50, opts),
    ).toThrow('missing request for cpu in container c of Pod x');
  });

  it('ignores a CPU sample taken before a full window since the pod became ready', () => {
    const justReady: Pod = { ...pod('new', { started: new Date(NOW - 10_000).toISOString() }) };
    justReady.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(NOW - 5_000).toISOString() }];
    const r = resourceReplicas(
      { currentReplicas: 2, pods: [pod('a'), justReady], metrics: metrics({ a: 1000, new: 1000 }), resource: 'cpu', tolerances: TOLERANCE },
      50,
      opts,
    );
    // Only `a` counts (100 %, twice the target); on a scale-up `new` counts as idle: (1000 + 0) / 2000 is the target itself, so no change.
    expect(r).toMatchObject({ replicas: 2, utilization: 100 });
  });
});

describe('HPA behavior', () => {
  const base = { currentReplicas: 1, desiredReplicas: 20, minReplicas: 1, maxReplicas: 50, at: NOW, now: NOW };
  const up = scalingRules(undefined, 'up');
  const down = scalingRules(undefined, 'down');

  it('limits a scale-up to the most of 4 pods or 100 % per 15 s', () => {
    const n = normalizeWithBehavior(base, up, down, emptyHistory());
    expect(n).toMatchObject({ replicas: 5, limited: { status: 'True', reason: 'ScaleUpLimit' }, ableToScale: { reason: 'ReadyForNewScale' } });
    // The 4 pods added 5 s ago count against the same period.
    const after = recordScaleEvent(n.history, 1, 5, NOW - 5000, NOW, up, down);
    expect(normalizeWithBehavior({ ...base, currentReplicas: 5 }, up, down, after).replicas).toBe(5);
    expect(normalizeWithBehavior({ ...base, currentReplicas: 5, now: NOW + 20_000, at: NOW + 20_000 }, up, down, after).replicas).toBe(10);
  });

  it('holds a scale-down for the stabilization window, then applies it', () => {
    const history = { ...emptyHistory(), recommendations: [[NOW - 60_000, 5]] as [number, number][] };
    const held = normalizeWithBehavior({ ...base, currentReplicas: 5, desiredReplicas: 2 }, up, down, history);
    expect(held).toMatchObject({ replicas: 5, ableToScale: { reason: 'ScaleDownStabilized' } });
    const later = { ...base, currentReplicas: 5, desiredReplicas: 2, now: NOW + 300_000, at: NOW + 300_000 };
    expect(normalizeWithBehavior(later, up, down, held.history)).toMatchObject({ replicas: 2, limited: { status: 'False', reason: 'DesiredWithinRange' } });
  });

  it('records one recommendation per measurement, so a sync on the same measurement changes nothing', () => {
    const once = normalizeWithBehavior({ ...base, currentReplicas: 5, desiredReplicas: 5 }, up, down, emptyHistory());
    const twice = normalizeWithBehavior({ ...base, currentReplicas: 5, desiredReplicas: 5, now: NOW + 100 }, up, down, once.history);
    expect(twice.history).toEqual(once.history);
  });

  it('honours selectPolicy Disabled and Min, and the fixed rules without behavior', () => {
    expect(
      normalizeWithBehavior(base, { ...DEFAULT_SCALE_UP, selectPolicy: 'Disabled', policies: [...DEFAULT_SCALE_UP.policies] }, down, emptyHistory()).replicas,
    ).toBe(1);
    expect(
      normalizeWithBehavior(
        { ...base, currentReplicas: 10 },
        { ...DEFAULT_SCALE_UP, selectPolicy: 'Min', policies: [...DEFAULT_SCALE_UP.policies] },
        down,
        emptyHistory(),
      ).replicas,
    ).toBe(14);
    const downMin = {
      ...DEFAULT_SCALE_DOWN,
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Min',
      policies: [
        { type: 'Pods', value: 2, periodSeconds: 60 },
        { type: 'Percent', value: 50, periodSeconds: 60 },
      ],
    };
    expect(normalizeWithBehavior({ ...base, currentReplicas: 10, desiredReplicas: 1 }, up, downMin, emptyHistory())).toMatchObject({
      replicas: 8,
      limited: { reason: 'ScaleDownLimit' },
    });
    expect(normalizeWithoutBehavior({ ...base, currentReplicas: 2, desiredReplicas: 10 }, emptyHistory())).toMatchObject({
      replicas: 4,
      limited: { reason: 'ScaleUpLimit' },
    });
    expect(normalizeWithoutBehavior({ ...base, currentReplicas: 2, desiredReplicas: 10, maxReplicas: 3 }, emptyHistory())).toMatchObject({
      replicas: 3,
      limited: { reason: 'TooManyReplicas' },
    });
  });
});
