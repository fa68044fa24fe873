/**
 * pods/{name}/eviction over HTTP, without controllers: each budget's status
 * is written through its status subresource as the disruption controller
 * would, so every rule of kube's EvictionREST is seen on its own (the
 * Status body, Retry-After, what is or is not deleted and charged). Racing
 * evictions are run on SQLite and on DynamoDB (the emulator) through two
 * API servers sharing the table, as two API function instances do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '#lib/store/types';
import { ensureEmulator } from '../helpers/moto.js';
import { pod, PODS, serversSharingTable, startApi, type TestApi, type Wire } from './harness.js';

const PDBS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

function eviction(name: string, deleteOptions?: Wire): Wire {
  return { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name }, ...(deleteOptions ? { deleteOptions } : {}) };
}

/** A Running pod, Ready or not. */
async function running(name: string, app: string, ready = true, on: TestApi<Store> = t): Promise<void> {
  const t = on;
  await t.post(PODS, pod(name, { labels: { app }, nodeName: 'n1' }));
  const current = (await t.get(`${PODS}/${name}`)).body;
  const status = { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  expect((await t.put(`${PODS}/${name}/status`, { ...current, status })).status).toBe(200);
}

/** A budget with the status the disruption controller would have written. */
async function budget(name: string, app: string, status: Wire, spec: Wire = { minAvailable: 1 }, on: TestApi<Store> = t): Promise<void> {
  const t = on;
  expect(
    (await t.post(PDBS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { ...spec, selector: { matchLabels: { app } } } }))
      .status,
  ).toBe(201);
  const current = (await t.get(`${PDBS}/${name}`)).body;
  expect((await t.put(`${PDBS}/${name}/status`, { ...current, status: { observedGeneration: 1, ...status } })).status).toBe(200);
}

const deleting = async (name: string) => (await t.get(`${PODS}/${name}`)).body.metadata?.deletionTimestamp !== undefined;

describe('pods/eviction', () => {
  it('evicts a pod no budget selects with 201 Success', async () => {
    await running('free', 'free');
    const r = await t.post(`${PODS}/free/eviction`, eviction('free'));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    expect(await deleting('free')).toBe(true);
  });

  it('charges the budget: disruptionsAllowed down by one, the pod in disruptedPods, DisruptionAllowed False at 0', async () => {
    await running('paid', 'paid');
    await budget('paid', 'paid', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    expect((await t.post(`${PODS}/paid/eviction`, eviction('paid'))).status).toBe(201);
    const status = (await t.get(`${PDBS}/paid`)).body.status;
    expect(status.disruptionsAllowed).toBe(0);
    expect(Object.keys(status.disruptedPods)).toEqual(['paid']);
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' })]);
  });

  it("answers 429 with kube's message and DisruptionBudget cause when no disruption is allowed, and deletes nothing", async () => {
    await running('held', 'held');
    await budget('held', 'held', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    const r = await t.post(`${PODS}/held/eviction`, eviction('held'));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget held needs 1 healthy pods and has 1 currently' }] },
      code: 429,
    });
    expect(await deleting('held')).toBe(false);
  });

  it('answers 429 with Retry-After 10 while the controller has not observed the budget’s spec', async () => {
    await running('behind', 'behind');
    await budget('behind', 'behind', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    const current = (await t.get(`${PDBS}/behind`)).body;
    expect((await t.put(`${PDBS}/behind`, { ...current, spec: { ...current.spec, minAvailable: 2 } })).body.metadata.generation).toBe(2);
    const r = await t.post(`${PODS}/behind/eviction`, eviction('behind'));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('10');
    expect(r.body.details).toEqual({
      retryAfterSeconds: 10,
      causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget behind is still being processed by the server.' }],
    });
    expect(await deleting('behind')).toBe(false);
  });

  it('evicts an unready pod without charging a budget that is met, or one whose policy is AlwaysAllow', async () => {
    await running('sick', 'sick', false);
    await budget('sick', 'sick', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 2 });
    expect((await t.post(`${PODS}/sick/eviction`, eviction('sick'))).status).toBe(201);
    expect((await t.get(`${PDBS}/sick`)).body.status.disruptedPods).toBeUndefined();

    await running('sicker', 'sicker', false);
    await budget('sicker', 'sicker', { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 1 });
    expect((await t.post(`${PODS}/sicker/eviction`, eviction('sicker'))).status).toBe(429);
    await running('sickest', 'sickest', false);
    await budget(
      'sickest',
      'sickest',
      { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 1 },
      { minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
    );
    expect((await t.post(`${PODS}/sickest/eviction`, eviction('sickest'))).status).toBe(201);
  });

  it('deletes a Pending pod at once, whatever its budget says', async () => {
    await t.post(PODS, pod('waiting', { labels: { app: 'waiting' } }));
    await budget('waiting', 'waiting', { disruptionsAllowed: 0 });
    expect((await t.post(`${PODS}/waiting/eviction`, eviction('waiting'))).status).toBe(201);
  });

  it('checks a dry run without charging or deleting', async () => {
    await running('dry', 'dry');
    await budget('dry', 'dry', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    expect((await t.post(`${PODS}/dry/eviction`, eviction('dry', { dryRun: ['All'] }))).status).toBe(201);
    expect((await t.get(`${PDBS}/dry`)).body.status.disruptionsAllowed).toBe(1);
    expect(await deleting('dry')).toBe(false);
  });

  it('lets exactly as many of many racing evictions through as the budget allows', async () => {
    await race([t]);
  });

  it('answers 500 for a pod two budgets select, and 400 for an Eviction naming another pod', async () => {
    await running('shared', 'shared');
    await budget('shared-a', 'shared', { disruptionsAllowed: 1 });
    await budget('shared-b', 'shared', { disruptionsAllowed: 1 });
    const r = await t.post(`${PODS}/shared/eviction`, eviction('shared'));
    expect(r.status).toBe(500);
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    });
    const wrong = await t.post(`${PODS}/shared/eviction`, eviction('other'));
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toBe('name in URL does not match name in Eviction object');
    expect(await deleting('shared')).toBe(false);
  });
});

/** Six evictions at once, spread over `servers`, against a budget allowing 2: two 201s, four 429s, the two recorded. */
async function race(servers: TestApi<Store>[]): Promise<void> {
  const [first] = servers as [TestApi<Store>];
  const names = Array.from({ length: 6 }, (_, i) => `race-${i}`);
  for (const name of names) await running(name, 'race', true, first);
  await budget('race', 'race', { disruptionsAllowed: 2, currentHealthy: 6, desiredHealthy: 4, expectedPods: 6 }, { minAvailable: 4 }, first);
  const replies = await Promise.all(names.map((name, i) => servers[i % servers.length]!.post(`${PODS}/${name}/eviction`, eviction(name))));
  expect(replies.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429, 429]);
  const status = (await first.get(`${PDBS}/race`)).body.status;
  expect(status.disruptionsAllowed).toBe(0);
  const granted = names.filter((_, i) => replies[i]!.status === 201);
  expect(Object.keys(status.disruptedPods).sort()).toEqual(granted.sort());
  const deleted = await Promise.all(names.map(async (name) => (await first.get(`${PODS}/${name}`)).body.metadata?.deletionTimestamp !== undefined));
  expect(deleted.filter(Boolean)).toHaveLength(2);
}

// The cloud's case: two API function instances sharing only the DynamoDB table, the budget charged by conditional writes.
const emulator = await ensureEmulator();
describe.skipIf(!emulator)('pods/eviction on DynamoDB (the emulator), two API servers', () => {
  const servers = serversSharingTable(2, emulator);

  it('lets exactly as many of many racing evictions through as the budget allows', async () => {
    await race(servers);
  });
});
