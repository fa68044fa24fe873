/**
 * PodDisruptionBudgets with the real kubectl: kubectl's columns, `create
 * pdb`, kube's validation, the status the disruption controller keeps, the
 * eviction subresource's 429 over HTTP (one of two racing evictions wins a
 * budget of 1), and `kubectl drain` held by a budget until a replacement is
 * Ready.
 */
import { describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { isTooManyRequests, StatusError } from '#lib/api/errors';
import type { PodDisruptionBudget } from '#lib/api/policy/v1/poddisruptionbudget';
import { resourcePath } from '#lib/client/client';
import { POD_DISRUPTION_BUDGETS, PODS } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite({ fakeNodes: { names: ['node-1', 'node-2', 'node-3'], startDelayMs: 50 } });
const { ok, refused } = k;

function deployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: busybox}]}
`;
}

function pdb(name: string, bound: string, app = name): string {
  return `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: ${name}}\nspec:\n  ${bound}\n  selector: {matchLabels: {app: ${app}}}\n`;
}

async function namespace(name: string): Promise<string> {
  await ok(['create', 'namespace', name]);
  return name;
}

/** A budget once the controller has counted `healthy` pods for it. */
async function settled(ns: string, name: string, healthy: number): Promise<PodDisruptionBudget & KObject> {
  return waitFor(
    async () => {
      const b = await k.cluster().cluster.client.get<PodDisruptionBudget & KObject>(POD_DISRUPTION_BUDGETS, ns, name);
      return b.status?.currentHealthy === healthy && b.status.observedGeneration === b.metadata.generation ? b : undefined;
    },
    { what: `pdb ${ns}/${name} with ${healthy} healthy pods` },
  );
}

function evict(ns: string, pod: string): Promise<unknown> {
  return k.cluster().cluster.client.call({
    method: 'POST',
    path: resourcePath(PODS, ns, pod, 'eviction'),
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } },
  });
}

async function podsOf(ns: string, app: string): Promise<KObject[]> {
  return (await k.cluster().cluster.client.list(PODS, ns, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
}

describe('PodDisruptionBudget', () => {
  it('is created by kubectl create pdb and printed in kubectl get pdb columns with its status', async () => {
    const ns = await namespace('pdb-columns');
    await ok(['apply', '-n', ns, '-f', '-'], deployment('web', 3));
    expect(await ok(['create', 'pdb', 'web', '-n', ns, '--selector=app=web', '--min-available=2'])).toBe('poddisruptionbudget.policy/web created\n');
    await ok(['apply', '-n', ns, '-f', '-'], pdb('web-pct', 'maxUnavailable: 50%', 'web'));
    await settled(ns, 'web', 3);
    const pct = await settled(ns, 'web-pct', 3);
    // 50% of 3 expected pods, rounded up, may be down: 1 must stay healthy.
    expect(pct.status).toMatchObject({ expectedPods: 3, desiredHealthy: 1, disruptionsAllowed: 2 });
    expect(pct.status?.conditions).toEqual([
      expect.objectContaining({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', observedGeneration: 1 }),
    ]);

    const table = rows(await ok(['get', 'pdb', '-n', ns]));
    expect(table[0]).toEqual(['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    expect(table.slice(1).map((r) => r.slice(0, 4))).toEqual([
      ['web', '2', 'N/A', '1'],
      ['web-pct', 'N/A', '50%', '2'],
    ]);
    const described = await ok(['describe', 'pdb', 'web', '-n', ns]);
    expect(described).toMatch(/^Min available:\s+2$/m);
    expect(described).toMatch(/^Selector:\s+app=web$/m);
    expect(described).toMatch(/^\s+Allowed disruptions:\s+1$/m);
    expect(described).toMatch(/^\s+Total:\s+3$/m);
  });

  it('is explained and applied server-side from its Kubernetes type', async () => {
    const ns = await namespace('pdb-ssa');
    expect(await ok(['explain', 'pdb.spec.unhealthyPodEvictionPolicy'])).toContain('UnhealthyPodEvictionPolicy defines the criteria');
    expect(await ok(['apply', '--server-side', '-n', ns, '-f', '-'], pdb('applied', 'maxUnavailable: 1'))).toBe(
      'poddisruptionbudget.policy/applied serverside-applied\n',
    );
  });

  it('allows no disruption, with reason SyncFailed, while a pod’s controller has no scale to count', async () => {
    const ns = await namespace('pdb-job');
    await ok(['create', 'job', 'batch', '-n', ns, '--image=busybox', '--', 'sleep', '3600']);
    await ok(['apply', '-n', ns, '-f', '-'], pdb('batch', 'maxUnavailable: 1').replace('app: batch', 'job-name: batch'));
    const failed = await waitFor(
      async () => {
        const b = await k.cluster().cluster.client.get<PodDisruptionBudget & KObject>(POD_DISRUPTION_BUDGETS, ns, 'batch');
        return b.status?.conditions?.find((c) => c.reason === 'SyncFailed');
      },
      { what: 'the batch budget failing to sync' },
    );
    expect(failed).toMatchObject({ type: 'DisruptionAllowed', status: 'False', message: 'jobs.batch does not implement the scale subresource' });
    const events = await ok(['get', 'events', '-n', ns, '--field-selector=involvedObject.name=batch,involvedObject.kind=PodDisruptionBudget']);
    expect(events).toContain('Failed to calculate the number of expected pods: jobs.batch does not implement the scale subresource');
  });

  it("refuses kube's invalid budgets and stores nothing", async () => {
    const ns = await namespace('pdb-invalid');
    expect(await refused(['create', '-n', ns, '-f', '-'], pdb('both', 'minAvailable: 1\n  maxUnavailable: 1'))).toBe(
      'The PodDisruptionBudget "both" is invalid: spec: Invalid value: {"minAvailable":1,"selector":{"matchLabels":{"app":"both"}},"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set',
    );
    expect(await refused(['create', '-n', ns, '-f', '-'], pdb('big', 'maxUnavailable: 120%'))).toBe(
      'The PodDisruptionBudget "big" is invalid: spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%',
    );
    expect(await refused(['create', '-n', ns, '-f', '-'], pdb('policy', 'minAvailable: 1\n  unhealthyPodEvictionPolicy: Sometimes'))).toBe(
      'The PodDisruptionBudget "policy" is invalid: spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"',
    );
    expect(await ok(['get', 'pdb', '-n', ns])).toBe('');
  });
});

describe('eviction', () => {
  it('answers 429 with the DisruptionBudget cause when a budget would break, and lets exactly one of two racing evictions through a budget of 1', async () => {
    const ns = await namespace('evict');
    await ok(['apply', '-n', ns, '-f', '-'], deployment('api', 3));
    await ok(['apply', '-n', ns, '-f', '-'], pdb('api', 'maxUnavailable: 1'));
    await settled(ns, 'api', 3);
    const [a, b] = await podsOf(ns, 'api');

    const results = await Promise.allSettled([evict(ns, a!.metadata.name!), evict(ns, b!.metadata.name!)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refusal = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as StatusError;
    expect(isTooManyRequests(refusal)).toBe(true);
    expect(refusal.toStatus()).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget api needs 2 healthy pods and has 3 currently' }] },
    });
    // The winner is recorded as disrupted until its pod is gone; the loser still runs.
    const evicted = results[0]!.status === 'fulfilled' ? a! : b!;
    const kept = evicted === a ? b! : a!;
    const after = await k.cluster().cluster.client.get<PodDisruptionBudget & KObject>(POD_DISRUPTION_BUDGETS, ns, 'api');
    expect(after.status?.disruptionsAllowed).toBe(0);
    expect((await k.cluster().cluster.client.get(PODS, ns, kept.metadata.name!)).metadata.deletionTimestamp).toBeUndefined();
    expect(await k.cluster().cluster.client.find(PODS, ns, evicted.metadata.name!)).toSatisfy(
      (p: KObject | undefined) => p === undefined || p.metadata.uid !== evicted.metadata.uid || p.metadata.deletionTimestamp !== undefined,
    );
  });

  it('answers 500 for a pod two budgets select, as kube does', async () => {
    const ns = await namespace('evict-two');
    await ok(['apply', '-n', ns, '-f', '-'], deployment('two', 2));
    await ok(['apply', '-n', ns, '-f', '-'], pdb('one', 'maxUnavailable: 1', 'two'));
    await ok(['apply', '-n', ns, '-f', '-'], pdb('other', 'maxUnavailable: 1', 'two'));
    await settled(ns, 'other', 2);
    const [pod] = await podsOf(ns, 'two');
    const err = (await evict(ns, pod!.metadata.name!).catch((e: unknown) => e)) as StatusError;
    expect(err).toBeInstanceOf(StatusError);
    expect(err.code).toBe(500);
    expect(err.message).toBe('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    expect((await k.cluster().cluster.client.get(PODS, ns, pod!.metadata.name!)).metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('kubectl drain', () => {
  it('waits on a budget (429, retried every 5 s) and finishes once a replacement is Ready', async () => {
    const ns = await namespace('drain-pdb');
    await ok(['apply', '-n', ns, '-f', '-'], deployment('db', 2));
    await ok(['create', 'pdb', 'db', '-n', ns, '--selector=app=db', '--min-available=2']);
    await settled(ns, 'db', 2);
    const [pod] = await podsOf(ns, 'db');
    const node = (pod!.spec as { nodeName: string }).nodeName;

    const drain = await k.cluster().spawnKubectl(['drain', node, '--pod-selector=app=db', '--timeout=60s']);
    let stdout = '';
    let stderr = '';
    drain.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    drain.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => drain.on('close', resolve));
    await waitFor(() => stderr.includes('(will retry after 5s)'), { what: 'drain blocked by the budget', timeoutMs: 20_000 });
    expect(stderr).toContain(
      `error when evicting pods/"${pod!.metadata.name}" -n "${ns}" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
    );

    // A third replica, Ready on another node, frees one disruption: drain's next attempt goes through.
    await ok(['scale', 'deployment/db', '-n', ns, '--replicas=3']);
    expect(await exited).toBe(0);
    expect(stdout).toContain(`pod/${pod!.metadata.name} evicted\n`);
    expect(stdout).toMatch(new RegExp(`node/${node} drained\n$`));
    await ok(['uncordon', node]);
  }, 60_000);
});
