/**
 * Open watches of a custom resource end when its CRD goes, as kube closes
 * them, also on a server that did not see the deletion (it shares only the
 * store, as cloud API instances do): while a watch is open, the server checks
 * the CRDs every TTL without waiting for a request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '#lib/store/sqlite';
import { serveApi, type TestApi } from '../apiserver/harness.js';
import { widgetCRD } from './fixtures.js';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const WIDGETS = '/apis/example.com/v1/namespaces/default/widgets';

let watching: TestApi;
let deleting: TestApi;

beforeAll(async () => {
  const store = new SqliteStore({ path: ':memory:' });
  watching = await serveApi(store, { crdTtlMs: 100 });
  deleting = await serveApi(store, { crdTtlMs: 100 });
});

afterAll(async () => {
  await watching?.close();
  await deleting?.close();
});

describe('watches of a custom resource', () => {
  it("end when the CRD is deleted through another server, and the resource's paths answer 404", async () => {
    expect((await watching.post(CRDS, widgetCRD())).status).toBe(201);
    const w = await watching.watch(`${WIDGETS}?watch=true`);
    expect(w.status).toBe(200);
    const other = await watching.watch('/api/v1/namespaces/default/configmaps?watch=true');
    await deleting.post(WIDGETS, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} });
    expect(await w.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w' } } });

    expect((await deleting.del(`${CRDS}/widgets.example.com`)).status).toBe(200);
    // The stream ends (rest() resolves once the server ends it), having sent at most the object's deletion.
    const rest = await w.rest();
    expect(rest.every((e) => e.type === 'DELETED' && e.object.metadata.name === 'w')).toBe(true);
    expect((await watching.get(WIDGETS)).status).toBe(404);
    // A built-in kind's watch is not affected.
    expect(await other.ended(300)).toBe(false);
    other.close();
  });
});
