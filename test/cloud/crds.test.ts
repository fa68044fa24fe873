/**
 * CustomResourceDefinitions in the cloud, from the deployed API bundle on
 * DynamoDB: two execution environments share only the store, so a CRD
 * created through one is served by the other once its revision check is due
 * (no cold start), its conditions are set once, and deleting it through the
 * other deletes its objects there too.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { widgetCRD } from '../apiextensions/fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { type ApiModule, type CloudAccount, deployToEmulator, invoke, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();
let first: ApiModule;
let second: ApiModule;

beforeAll(async () => {
  if (!account) return;
  first = await loadBundle<ApiModule>(bundles.api);
  second = await loadBundle<ApiModule>(bundles.api);
});
afterAll(async () => {
  await account?.dispose();
});

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const WIDGETS = '/apis/example.com/v1/namespaces/default/widgets';

const crd = widgetCRD();

describe.runIf(account)('CustomResourceDefinitions across API function instances', () => {
  it('serves a CRD created through one instance from another, and deletes its objects with it', async () => {
    const as = (api: ApiModule, method: string, path: string, body?: unknown) =>
      invoke(api, method, path, { token: account!.adminToken, ...(body !== undefined ? { body } : {}) });
    // Both instances are warm before the CRD exists.
    expect((await as(first, 'GET', WIDGETS)).status).toBe(404);
    expect((await as(second, 'GET', WIDGETS)).status).toBe(404);

    expect((await as(first, 'POST', CRDS, crd)).status).toBe(201);
    const created = await waitFor(
      async () => {
        const r = await as(second, 'POST', WIDGETS, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} });
        return r.status === 201 ? r : undefined;
      },
      { what: 'the second instance serves widgets' },
    );
    expect(created.body.spec).toEqual({ replicas: 1 });
    const stored = (await as(first, 'GET', `${CRDS}/widgets.example.com`)).body;
    expect(stored.status.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason])).toEqual([
      ['NamesAccepted', 'True', 'NoConflicts'],
      ['Established', 'True', 'InitialNamesAccepted'],
    ]);

    expect((await as(second, 'DELETE', `${CRDS}/widgets.example.com`)).status).toBe(200);
    await waitFor(async () => (await as(second, 'GET', `${CRDS}/widgets.example.com`)).status === 404, { what: 'the CRD is gone' });
    await waitFor(async () => (await as(first, 'GET', WIDGETS)).status === 404, { what: 'the first instance stops serving widgets' });
    expect((await as(first, 'POST', CRDS, crd)).status).toBe(201);
    await waitFor(async () => (await as(second, 'GET', WIDGETS)).status === 200, { what: 'the recreated CRD is served' });
    expect((await as(second, 'GET', WIDGETS)).body.items).toEqual([]);
  });
});
