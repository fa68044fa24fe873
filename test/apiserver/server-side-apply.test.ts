/**
 * Server-side apply and field ownership over HTTP: managedFields as
 * Kubernetes writes them, conflicts between managers, force, pruning,
 * keyed lists and sets merging per item, and updates taking ownership.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceByName } from '#lib/kinds/resources';
import { FieldSet, pathString } from '#lib/apiserver/ssa/fieldpath';
import { CONFIGMAPS, DEPLOYMENTS, startApi, type TestApi, type Wire } from './harness.js';

const APPLY = 'application/apply-patch+yaml';
let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

function apply(path: string, body: unknown, manager: string, extra = '') {
  return t.patch(`${path}?fieldManager=${manager}${extra}`, typeof body === 'string' ? body : JSON.stringify(body), APPLY);
}

function owners(obj: Wire): Record<string, unknown> {
  return Object.fromEntries(
    (obj.metadata.managedFields ?? []).map((m: Wire) => [`${m.manager}/${m.operation}${m.subresource ? `/${m.subresource}` : ''}`, m.fieldsV1]),
  );
}

const cm = (name: string, data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...extra },
  data,
});

describe('field sets', () => {
  it('round-trips fieldsV1 and prints paths as Kubernetes does', () => {
    const v1 = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {} } }, 'f:finalizers': { 'v:"a"': {} } },
    };
    const set = FieldSet.fromFieldsV1(v1);
    expect(set.toFieldsV1()).toEqual(v1);
    expect(set.paths().map(pathString)).toEqual([
      '.metadata.labels',
      '.metadata.labels.app',
      '.spec.containers[name="web"]',
      '.spec.containers[name="web"].image',
      '.spec.finalizers[="a"]',
    ]);
    const other = FieldSet.fromFieldsV1({ 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } });
    expect(set.intersection(other).paths().map(pathString)).toEqual(['.spec.containers[name="web"].image']);
    expect(set.difference(other).paths().map(pathString)).not.toContain('.spec.containers[name="web"].image');
  });
});

describe('server-side apply', () => {
  it('creates with 201 and records exactly what the configuration names', async () => {
    const r = await apply(
      `${DEPLOYMENTS}/web`,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
`,
      'deployer',
    );
    expect(r.status).toBe(201);
    expect(r.body.spec.progressDeadlineSeconds).toBe(600);
    expect(r.body.metadata.managedFields).toEqual([
      {
        manager: 'deployer',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    // Keyed by containerPort and protocol; protocol comes from its +default="TCP".
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    // Dropping spec from the configuration prunes what the applier owned there: the result has no selector, so it is refused.
    const pruned = await apply(
      `${DEPLOYMENTS}/web`,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } } },
      'deployer',
    );
    expect(pruned.status).toBe(422);
    expect((await t.get(`${DEPLOYMENTS}/web`)).body.spec.replicas).toBe(2);
  });

  it('records other writers as Update managers, and their fields conflict with an applier', async () => {
    await apply(`${CONFIGMAPS}/owned`, cm('owned', { a: '1', b: '1' }), 'team-a');
    const put = await t.patch(`${CONFIGMAPS}/owned?fieldManager=editor`, { data: { b: '2' } }, 'application/merge-patch+json');
    expect(owners(put.body)).toEqual({ 'team-a/Apply': { 'f:data': { 'f:a': {} } }, 'editor/Update': { 'f:data': { 'f:b': {} } } });

    const refused = await apply(`${CONFIGMAPS}/owned`, cm('owned', { a: '1', b: '3' }), 'team-a');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "editor" using v1: .data.b',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "editor" using v1', field: '.data.b' }] },
    });
    expect((await t.get(`${CONFIGMAPS}/owned`)).body.data).toEqual({ a: '1', b: '2' });

    const forced = await apply(`${CONFIGMAPS}/owned`, cm('owned', { a: '1', b: '3' }), 'team-a', '&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.data).toEqual({ a: '1', b: '3' });
    expect(owners(forced.body)).toEqual({ 'team-a/Apply': { 'f:data': { 'f:a': {}, 'f:b': {} } } });
  });

  it('prunes what an applier stops applying, keeping what another manager owns', async () => {
    await apply(`${CONFIGMAPS}/pruned`, cm('pruned', { keep: '1', drop: '1', shared: '1' }), 'a');
    await apply(`${CONFIGMAPS}/pruned`, cm('pruned', { shared: '1' }), 'b');
    const r = await apply(`${CONFIGMAPS}/pruned`, cm('pruned', { keep: '1' }), 'a');
    expect(r.body.data).toEqual({ keep: '1', shared: '1' });
    // Applying the same value as another applier shares ownership; the field goes when its last owner lets go.
    const last = await apply(`${CONFIGMAPS}/pruned`, cm('pruned', {}), 'b');
    expect(last.body.data).toEqual({ keep: '1' });
  });

  it('merges keyed lists per item and sets per value between appliers', async () => {
    const base = (containers: Wire[], finalizers: string[]) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'multi', finalizers },
      spec: { selector: { matchLabels: { app: 'm' } }, template: { metadata: { labels: { app: 'm' } }, spec: { containers } } },
    });
    await apply(`${DEPLOYMENTS}/multi`, base([{ name: 'app', image: 'app:1' }], ['example.com/a']), 'app-team');
    const r = await apply(
      `${DEPLOYMENTS}/multi`,
      {
        ...base([{ name: 'proxy', image: 'envoy:1' }], ['example.com/b']),
        spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoy:1' }] } } },
      },
      'mesh',
    );
    expect(r.status).toBe(200);
    expect(r.body.spec.template.spec.containers.map((c: Wire) => c.name)).toEqual(['app', 'proxy']);
    expect(r.body.metadata.finalizers).toEqual(['example.com/a', 'example.com/b']);
    const dropped = await apply(`${DEPLOYMENTS}/multi`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'multi' } }, 'mesh');
    expect(dropped.body.spec.template.spec.containers.map((c: Wire) => c.name)).toEqual(['app']);
    expect(dropped.body.metadata.finalizers).toEqual(['example.com/a']);
    // An atomic list (command) is one value: another applier changing it conflicts.
    await apply(`${DEPLOYMENTS}/multi`, base([{ name: 'app', image: 'app:1', command: ['run'] }], ['example.com/a']), 'app-team');
    const atomic = await apply(
      `${DEPLOYMENTS}/multi`,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'multi' },
        spec: { template: { spec: { containers: [{ name: 'app', command: ['serve'] }] } } },
      },
      'ops',
    );
    expect(atomic.status).toBe(409);
    expect(atomic.body.details.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "app-team"', field: '.spec.template.spec.containers[name="app"].command' },
    ]);
  });

  it('treats fields set before any apply as owned by before-first-apply', async () => {
    const rt = resourceByName('configmaps')!;
    await t.api.rest.create(rt, 'default', cm('legacy', { a: '1' }) as Wire);
    const r = await apply(`${CONFIGMAPS}/legacy`, cm('legacy', { a: '2' }), 'newcomer');
    expect(r.status).toBe(409);
    expect(r.body.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a');
  });

  it('changes nothing when nothing changes (same resourceVersion), and takes a resourceVersion as a precondition', async () => {
    const first = await apply(`${CONFIGMAPS}/steady`, cm('steady', { a: '1' }), 'a');
    const second = await apply(`${CONFIGMAPS}/steady`, cm('steady', { a: '1' }), 'a');
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    const stale = await apply(`${CONFIGMAPS}/steady`, cm('steady', { a: '2' }, { resourceVersion: '1' }), 'a');
    expect(stale).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    const current = await apply(`${CONFIGMAPS}/steady`, cm('steady', { a: '2' }, { resourceVersion: first.body.metadata.resourceVersion }), 'a');
    expect(current.status).toBe(200);
  });

  it('refuses bad apply requests with 400 and writes nothing', async () => {
    const noManager = await t.patch(`${CONFIGMAPS}/bad`, JSON.stringify(cm('bad', {})), APPLY);
    expect(noManager).toMatchObject({ status: 400, body: { message: 'fieldManager is required for apply requests' } });
    expect((await apply(`${CONFIGMAPS}/bad`, cm('bad', {}, { managedFields: [{ manager: 'x' }] }), 'm')).body.message).toBe(
      'metadata.managedFields must be nil',
    );
    expect((await apply(`${CONFIGMAPS}/bad`, cm('other', {}), 'm')).body.message).toBe(
      'the name of the object (other) does not match the name on the URL (bad)',
    );
    expect((await apply(`${CONFIGMAPS}/bad`, 'data: [unclosed', 'm')).status).toBe(400);
    expect((await apply(`${CONFIGMAPS}/bad`, { ...cm('bad', {}), extra: 1 }, 'm', '&fieldValidation=Strict')).body.message).toContain(
      'strict decoding error: unknown field "extra"',
    );
    expect((await t.get(`${CONFIGMAPS}/bad`)).status).toBe(404);
  });

  it('keeps the scale subresource as the owner of spec.replicas', async () => {
    await apply(
      `${DEPLOYMENTS}/scaled`,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'scaled' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 's' } },
          template: { metadata: { labels: { app: 's' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      },
      'deployer',
    );
    const scaled = await t.patch(`${DEPLOYMENTS}/scaled/scale`, { spec: { replicas: 4 } }, 'application/merge-patch+json', {
      headers: { 'user-agent': 'kubectl/v1.35.2 (linux/amd64) kubernetes/x' },
    });
    expect(scaled.status).toBe(200);
    const d = (await t.get(`${DEPLOYMENTS}/scaled`)).body;
    expect(owners(d)['kubectl/Update/scale']).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(owners(d)['deployer/Apply']).not.toHaveProperty(['f:spec', 'f:replicas']);
  });
});
