/**
 * ResourceQuota in the cloud, from the deployed bundles on DynamoDB: the
 * controllers bundle, fed by the emulator's stream through the stack's
 * event filters, counts a new quota and recounts it when a pod is deleted;
 * two API function instances sharing only the table admit racing creates
 * no further than the quota allows.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONTROLLER_FILTERS } from '#lib/cloud/stream-filters';
import { waitFor } from '../helpers/wait.js';
import { EventSourceMappings, type StreamFunction } from './esm.js';
import { type ApiModule, type CloudAccount, deployToEmulator, type EventHandler, invoke, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();

const NS = '/api/v1/namespaces/cloud-quota';
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });

describe.runIf(account)('ResourceQuota from the deployed bundles, on the emulator', () => {
  const apis: ApiModule[] = [];
  let mappings: EventSourceMappings;
  const as = (i: number, method: string, path: string, body?: unknown) =>
    invoke(apis[i]!, method, path, { token: account!.adminToken, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    apis.push(await loadBundle<ApiModule>(bundles.api), await loadBundle<ApiModule>(bundles.api));
    const controllers = await loadBundle<{ handler: EventHandler }>(bundles.controllers);
    mappings = new EventSourceMappings(account!.tableName, [
      { name: 'controllers', filters: CONTROLLER_FILTERS, instances: [controllers.handler as StreamFunction] },
    ]);
    await mappings.start();
  });
  afterAll(async () => {
    await mappings?.stop();
    await account?.dispose();
  });

  const used = async () => (await as(0, 'GET', `${NS}/resourcequotas/pods`)).body.status?.used;

  it('counts a quota from the stream, admits racing creates up to it, and releases a deleted pod’s share', async () => {
    expect((await as(0, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cloud-quota' } })).status).toBe(201);
    expect((await as(0, 'POST', `${NS}/pods`, pod('before'))).status).toBe(201);
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'pods' }, spec: { hard: { pods: '3' } } };
    expect((await as(1, 'POST', `${NS}/resourcequotas`, quota)).status).toBe(201);
    expect(await waitFor(used, { what: 'the controllers count the quota', timeoutMs: 30_000 })).toEqual({ pods: '1' });

    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => as(i % 2, 'POST', `${NS}/pods`, pod(`racer-${i}`))));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 201, 403, 403, 403, 403]);
    for (const r of replies.filter((r) => r.status === 403)) {
      expect(r.body.message).toMatch(/^pods "racer-\d" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=3, limited: pods=3$/);
    }
    expect(await used()).toEqual({ pods: '3' });

    expect((await as(1, 'DELETE', `${NS}/pods/before`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 })).status).toBe(200);
    await waitFor(async () => (await used())?.pods === '2', { what: 'the controllers release the deleted pod', timeoutMs: 30_000 });
    expect((await as(0, 'POST', `${NS}/pods`, pod('after'))).status).toBe(201);
  });
});
