/**
 * A CRD with several versions over HTTP: every served version at its own
 * paths, in discovery (the preferred version as kube picks it) and OpenAPI;
 * objects stored in the storage version and read, listed and watched in the
 * version asked for (conversion None); a deprecated version's warning;
 * status.storedVersions; a Webhook conversion through a real HTTPS webhook.
 */
import { startWebhookServer } from '../helpers/webhook-server.js';
import { describe, expect, it } from 'vitest';
import type { Wire } from '../apiserver/harness.js';
import { apiPerFile, CRDS, widgetCRD } from './fixtures.js';

const t = apiPerFile();
const at = (version: string) => `/apis/example.com/${version}/namespaces/default/widgets`;

/** Widgets in v1beta1 (deprecated), v1 (storage) and v2, each with a schema, columns and subresources of its own; v1alpha1 not served. */
function widgets(): Wire {
  const crd: Wire = widgetCRD();
  const base = crd.spec.versions[0];
  const version = (name: string, extra: Wire) => ({ ...structuredClone(base), name, storage: false, ...extra });
  crd.spec.versions = [
    version('v1alpha1', { served: false }),
    version('v1beta1', { deprecated: true }),
    { ...base, additionalPrinterColumns: [{ name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' }] },
    version('v2', {
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: { spec: { type: 'object', properties: { replicas: { type: 'integer', maximum: 3 }, colour: { type: 'string' } } } },
        },
      },
      subresources: { status: {} },
      selectableFields: [{ jsonPath: '.spec.colour' }],
    }),
  ];
  delete crd.status;
  return crd;
}

const widget = (version: string, name: string, spec: Wire = {}) => ({ apiVersion: `example.com/${version}`, kind: 'Widget', metadata: { name }, spec });

describe('a CRD with several versions', () => {
  it('serves every served version, lists them in discovery with the preferred one first, and each in OpenAPI', async () => {
    expect((await t.post(CRDS, widgets())).status).toBe(201);
    const group = (await t.get('/apis/example.com')).body;
    expect(group.versions.map((v: Wire) => v.version)).toEqual(['v2', 'v1', 'v1beta1']);
    expect(group.preferredVersion).toEqual({ groupVersion: 'example.com/v2', version: 'v2' });
    const aggregated = (await t.get('/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body;
    const entry = aggregated.items.find((i: Wire) => i.metadata.name === 'example.com');
    expect(entry.versions.map((v: Wire) => v.version)).toEqual(['v2', 'v1', 'v1beta1']);
    expect((await t.get('/apis/example.com/v2')).body.resources.map((r: Wire) => r.name)).toEqual(['widgets', 'widgets/status']);
    expect((await t.get('/apis/example.com/v1')).body.resources.map((r: Wire) => r.name)).toEqual(['widgets']);
    expect((await t.get('/apis/example.com/v1alpha1')).status).toBe(404);
    expect((await t.get(at('v1alpha1'))).status).toBe(404);
    const index = (await t.get('/openapi/v3')).body.paths;
    expect(Object.keys(index).filter((p) => p.startsWith('apis/example.com/'))).toEqual(
      expect.arrayContaining(['apis/example.com/v1', 'apis/example.com/v2', 'apis/example.com/v1beta1']),
    );
    const v2 = (await t.get('/openapi/v3/apis/example.com/v2')).body.components.schemas['com.example.v2.Widget'];
    expect(v2.properties.spec.properties.colour).toEqual({ type: 'string' });
  });

  it('stores objects in the storage version and serves them in the version asked for, with its own schema', async () => {
    const created = await t.post(at('v2'), widget('v2', 'w', { replicas: 2, colour: 'red' }));
    expect(created.status).toBe(201);
    expect(created.body.apiVersion).toBe('example.com/v2');
    const stored = await t.store.get({ resource: 'example.com/widgets', namespace: 'default', name: 'w' });
    expect(stored?.apiVersion).toBe('example.com/v1');
    // v1's schema has no colour: read as is (conversion None keeps the fields), pruned when written through v1.
    expect((await t.get(`${at('v1')}/w`)).body).toMatchObject({ apiVersion: 'example.com/v1', spec: { replicas: 2, colour: 'red' } });
    const list = (await t.get(at('v1beta1'))).body;
    expect([list.apiVersion, list.items.map((i: Wire) => i.apiVersion)]).toEqual(['example.com/v1beta1', ['example.com/v1beta1']]);
    // v2's maximum applies to v2 only.
    const tooMany = await t.post(at('v2'), widget('v2', 'big', { replicas: 4 }));
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.message).toBe(
      'Widget.example.com "big" is invalid: spec.replicas: Invalid value: 4: spec.replicas in body should be less than or equal to 3',
    );
    expect((await t.post(at('v1'), widget('v1', 'big', { replicas: 4 }))).status).toBe(201);
    // Per-version columns and selectable fields.
    const table = (await t.get(at('v1'), { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body;
    expect(table.columnDefinitions.map((c: Wire) => c.name)).toEqual(['Name', 'Replicas']);
    expect((await t.get(`${at('v2')}?fieldSelector=spec.colour%3Dred`)).body.items.map((i: Wire) => i.metadata.name)).toEqual(['w']);
    expect((await t.get(`${at('v1')}?fieldSelector=spec.colour%3Dred`)).status).toBe(400);
    // The status subresource is v2's only.
    expect((await t.get(`${at('v2')}/w/status`)).status).toBe(200);
    expect((await t.get(`${at('v1')}/w/status`)).status).toBe(404);
  });

  it('updates and patches through any version, and the stored form stays in the storage version', async () => {
    const current = (await t.get(`${at('v1beta1')}/w`)).body;
    const updated = await t.put(`${at('v1beta1')}/w`, { ...current, spec: { replicas: 1 } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ apiVersion: 'example.com/v1beta1', spec: { replicas: 1 }, metadata: { generation: 2 } });
    const patched = await t.patch(`${at('v2')}/w`, { spec: { colour: 'blue' } }, 'application/merge-patch+json');
    expect(patched.body).toMatchObject({ apiVersion: 'example.com/v2', spec: { replicas: 1, colour: 'blue' } });
    expect((await t.store.get({ resource: 'example.com/widgets', namespace: 'default', name: 'w' }))?.apiVersion).toBe('example.com/v1');
  });

  it('warns on every request for a deprecated version, in kube words', async () => {
    const res = await t.get(at('v1beta1'));
    expect(res.headers.get('warning')).toBe('299 - "example.com/v1beta1 Widget is deprecated"');
    expect((await t.get(at('v1'))).headers.get('warning')).toBeNull();
  });

  it('sends a watcher of one version the objects written in another, in its version', async () => {
    const list = (await t.get(at('v2'))).body;
    const w = await t.watch(`${at('v2')}?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    await t.post(at('v1'), widget('v1', 'late'));
    await t.del(`${at('v1beta1')}/late`);
    expect(await w.next()).toMatchObject({ type: 'ADDED', object: { apiVersion: 'example.com/v2', metadata: { name: 'late' } } });
    expect(await w.next()).toMatchObject({ type: 'DELETED', object: { apiVersion: 'example.com/v2', metadata: { name: 'late' } } });
    w.close();
  });

  it('records a new storage version in status.storedVersions and stores in it from then on', async () => {
    const crd = (await t.get(`${CRDS}/widgets.example.com`)).body;
    for (const v of crd.spec.versions) v.storage = v.name === 'v2';
    const updated = await t.put(`${CRDS}/widgets.example.com`, crd);
    expect(updated.status).toBe(200);
    expect(updated.body.status.storedVersions).toEqual(['v1', 'v2']);
    expect((await t.post(at('v1'), widget('v1', 'now'))).status).toBe(201);
    expect((await t.store.get({ resource: 'example.com/widgets', namespace: 'default', name: 'now' }))?.apiVersion).toBe('example.com/v2');
    // A version objects may still be stored in cannot leave spec.versions.
    crd.spec.versions = crd.spec.versions.filter((v: Wire) => v.name !== 'v1');
    delete crd.metadata.resourceVersion;
    const refused = await t.put(`${CRDS}/widgets.example.com`, crd);
    expect(refused.status).toBe(422);
    expect(refused.body.details.causes).toContainEqual(expect.objectContaining({ field: 'status.storedVersions[0]' }));
  });

  it('converts through a Webhook conversion: objects stored in the storage version, served in the asked one', async () => {
    const hooks = await startWebhookServer();
    try {
      const crd = widgets();
      crd.metadata.name = 'gears.example.com';
      crd.spec.names = { plural: 'gears', kind: 'Gear' };
      crd.spec.versions = crd.spec.versions.filter((v: Wire) => v.name === 'v1' || v.name === 'v2');
      crd.spec.conversion = {
        strategy: 'Webhook',
        webhook: { clientConfig: { url: hooks.url('/convert'), caBundle: hooks.caBundle }, conversionReviewVersions: ['v1'] },
      };
      expect((await t.post(CRDS, crd)).status).toBe(201);
      const gears = (version: string) => `/apis/example.com/${version}/namespaces/default/gears`;
      const gear = (version: string, name: string) => ({ apiVersion: `example.com/${version}`, kind: 'Gear', metadata: { name }, spec: {} });
      expect((await t.post(gears('v2'), gear('v2', 'g'))).status).toBe(201);
      const stored = await t.store.get({ resource: 'example.com/gears', namespace: 'default', name: 'g' });
      expect(stored).toMatchObject({ apiVersion: 'example.com/v1', metadata: { labels: { 'webhook.example.com/converted': 'v1' } } });
      const read = (await t.get(`${gears('v2')}/g`)).body;
      expect(read).toMatchObject({ apiVersion: 'example.com/v2', metadata: { labels: { 'webhook.example.com/converted': 'v2' } } });
      expect((await t.get(gears('v2'))).body.items.map((o: Wire) => o.apiVersion)).toEqual(['example.com/v2']);

      // A webhook that cannot be reached refuses what needs it, in kube's words; the storage version still works.
      crd.metadata.name = 'cogs.example.com';
      crd.spec.names = { plural: 'cogs', kind: 'Cog' };
      crd.spec.conversion.webhook.clientConfig = { url: 'https://127.0.0.1:1/cogs' };
      expect((await t.post(CRDS, crd)).status).toBe(201);
      const cogs = (version: string) => `/apis/example.com/${version}/namespaces/default/cogs`;
      const refused = await t.post(cogs('v2'), { apiVersion: 'example.com/v2', kind: 'Cog', metadata: { name: 'c' }, spec: {} });
      expect(refused.status).toBe(500);
      expect(refused.body).toMatchObject({
        reason: 'InternalError',
        message:
          'Internal error occurred: conversion webhook for example.com/v2, Kind=Cog failed: Post "https://127.0.0.1:1/cogs?timeout=30s": dial tcp 127.0.0.1:1: connect: connection refused',
      });
      expect((await t.post(cogs('v1'), { apiVersion: 'example.com/v1', kind: 'Cog', metadata: { name: 'c' }, spec: {} })).status).toBe(201);
      expect((await t.get(`${cogs('v1')}/c`)).status).toBe(200);
    } finally {
      await hooks.close();
    }
  });
});
