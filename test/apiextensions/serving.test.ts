/**
 * Serving CustomResourceDefinitions over HTTP: a CRD is validated as kube
 * validates it, its version becomes REST paths, discovery and OpenAPI, its
 * objects are pruned, defaulted and validated (CEL included), and deleting
 * it deletes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#lib/util/clock';
import { SqliteStore } from '#lib/store/sqlite';
import { serveApi, startApi, type TestApi, type Wire } from '../apiserver/harness.js';
import { widgetCRD } from './fixtures.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const WIDGETS = '/apis/example.com/v1/namespaces/default/widgets';

/** The widget CRD with a CEL rule on spec, printer columns, and the status and scale subresources. */
function widgets(): Wire {
  const crd: Wire = widgetCRD();
  const v = crd.spec.versions[0];
  v.schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [{ rule: 'self.replicas <= 10', message: 'at most 10 replicas' }];
  v.additionalPrinterColumns = [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Name', type: 'string', jsonPath: '.spec.name', priority: 1 },
  ];
  v.subresources = { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } };
  v.selectableFields = [{ jsonPath: '.spec.name' }];
  crd.spec.names.shortNames = ['wd'];
  crd.spec.names.categories = ['all'];
  delete crd.status;
  return crd;
}

function widget(name: string, spec: Wire = {}): Wire {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec };
}

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

describe('CustomResourceDefinition serving', () => {
  it('refuses an invalid CRD with 422 and kube causes, and stores nothing', async () => {
    const crd = widgets();
    crd.metadata.name = 'gizmos.example.com';
    crd.spec.versions[0].storage = false;
    const res = await t.post(CRDS, crd);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      details: { name: 'gizmos.example.com', group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
    });
    expect(res.body.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "gizmos.example.com": must be spec.names.plural+"."+spec.group',
      field: 'metadata.name',
    });
    expect(res.body.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      message: expect.stringMatching(/^Invalid value: \[\{"name":"v1",.*\}\]: must have exactly one version marked as storage version$/),
      field: 'spec.versions',
    });
    expect((await t.get(`${CRDS}/gizmos.example.com`)).status).toBe(404);
  });

  it('serves a stored CRD: Established, discovery, OpenAPI, pruning, defaults, CEL, table columns, status', async () => {
    expect((await t.post(CRDS, widgets())).status).toBe(201);

    const crd = (await t.get(`${CRDS}/widgets.example.com`)).body;
    expect(crd.status.conditions.map((c: Wire) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['NamesAccepted', 'True', 'NoConflicts', 'no conflicts found'],
      ['Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted'],
    ]);
    expect(crd.status.acceptedNames).toMatchObject({ plural: 'widgets', kind: 'Widget', shortNames: ['wd'] });

    const resources = (await t.get('/apis/example.com/v1')).body.resources;
    expect(resources.map((r: Wire) => r.name)).toEqual(['widgets', 'widgets/status', 'widgets/scale']);
    expect(resources[0]).toMatchObject({ kind: 'Widget', namespaced: true, shortNames: ['wd'], categories: ['all'] });
    const openapi = (await t.get('/openapi/v3/apis/example.com/v1')).body;
    expect(openapi.components.schemas['com.example.v1.Widget']).toMatchObject({
      'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'Widget' }],
      properties: { spec: { properties: { replicas: { type: 'integer', default: 1 } } } },
    });

    // Unknown fields are pruned with a warning (Warn, the default), defaults applied, status dropped on create.
    const created = await t.post(WIDGETS, { ...widget('w1', { name: 'one', extra: 1 }), status: { replicas: 3 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('warning')).toBe('299 - "unknown field \\"spec.extra\\""');
    expect(created.body.spec).toEqual({ name: 'one', replicas: 1 });
    expect(created.body.status).toBeUndefined();
    const strict = await t.post(`${WIDGETS}?fieldValidation=Strict`, widget('w3', { extra: 1 }));
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.extra"');

    const cel = await t.post(WIDGETS, widget('w2', { replicas: 11 }));
    expect(cel.status).toBe(422);
    expect(cel.body.message).toBe('Widget.example.com "w2" is invalid: spec: Invalid value: at most 10 replicas');
    expect(cel.body.details.causes).toEqual([{ reason: 'FieldValueInvalid', message: 'Invalid value: at most 10 replicas', field: 'spec' }]);
    expect((await t.get(`${WIDGETS}/w2`)).status).toBe(404);

    const table = (await t.get(WIDGETS, { accept: TABLE })).body;
    expect(table.columnDefinitions.map((c: Wire) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Replicas', 'integer', 0],
      ['Name', 'string', 1],
    ]);
    expect(table.rows.map((r: Wire) => r.cells)).toEqual([['w1', 1, 'one']]);

    // The status subresource writes status only, and leaves generation alone; a spec change bumps it.
    const current = (await t.get(`${WIDGETS}/w1`)).body;
    const withStatus = await t.put(`${WIDGETS}/w1/status`, { ...current, spec: { replicas: 5 }, status: { replicas: 2 } });
    expect(withStatus.status).toBe(200);
    expect(withStatus.body).toMatchObject({ spec: { name: 'one', replicas: 1 }, status: { replicas: 2 }, metadata: { generation: 1 } });
    const patched = await t.patch(`${WIDGETS}/w1`, { spec: { replicas: 2 }, status: { replicas: 9 } }, 'application/merge-patch+json');
    expect(patched.body).toMatchObject({ spec: { replicas: 2 }, status: { replicas: 2 }, metadata: { generation: 2 } });
  });

  it('lists and watches custom objects', async () => {
    const list = await t.get(WIDGETS);
    expect(list.body).toMatchObject({ apiVersion: 'example.com/v1', kind: 'WidgetList', items: [{ metadata: { name: 'w1' } }] });
    const w = await t.watch(`${WIDGETS}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
    await t.post(WIDGETS, widget('w4'));
    expect(await w.next()).toMatchObject({ type: 'ADDED', object: { kind: 'Widget', metadata: { name: 'w4' }, spec: { replicas: 1 } } });
    w.close();
    // A selectable field the CRD declares selects; another field is refused as for built-in kinds.
    expect((await t.get(`${WIDGETS}?fieldSelector=spec.name%3Done`)).body.items.map((i: Wire) => i.metadata.name)).toEqual(['w1']);
    expect((await t.get(`${WIDGETS}?fieldSelector=spec.name!%3Done`)).body.items.map((i: Wire) => i.metadata.name)).toEqual(['w4']);
    const refused = await t.get(`${WIDGETS}?fieldSelector=spec.replicas%3D1`);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe('field label not supported: spec.replicas');
  });

  it('deletes the objects with their CRD, its paths disappear, and a recreated CRD starts empty', async () => {
    const deleted = await t.del(`${CRDS}/widgets.example.com`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.metadata.finalizers).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
    expect((await t.get(`${CRDS}/widgets.example.com`)).status).toBe(404);
    expect((await t.get(WIDGETS)).status).toBe(404);
    expect((await t.get('/apis/example.com/v1')).status).toBe(404);
    expect((await t.post(CRDS, widgets())).status).toBe(201);
    expect((await t.get(WIDGETS)).body.items).toEqual([]);
  });

  it("serves a cluster-scoped custom resource whose Scale reads and writes the CRD's paths", async () => {
    const crd = widgets();
    crd.metadata.name = 'dials.example.com';
    crd.spec.names = { plural: 'dials', kind: 'Dial' };
    crd.spec.scope = 'Cluster';
    const v = crd.spec.versions[0];
    v.schema.openAPIV3Schema.properties = {
      spec: { type: 'object', properties: { turns: { type: 'integer' } } },
      status: { type: 'object', properties: { turns: { type: 'integer' }, selector: { type: 'string' } } },
    };
    delete v.additionalPrinterColumns;
    delete v.selectableFields;
    v.subresources = { status: {}, scale: { specReplicasPath: '.spec.turns', statusReplicasPath: '.status.turns', labelSelectorPath: '.status.selector' } };
    expect((await t.post(CRDS, crd)).status).toBe(201);
    const DIALS = '/apis/example.com/v1/dials';
    expect((await t.post(DIALS, { apiVersion: 'example.com/v1', kind: 'Dial', metadata: { name: 'd' }, spec: { turns: 2 } })).status).toBe(201);
    const stored = (await t.get(`${DIALS}/d`)).body;
    expect(stored.metadata.namespace).toBeUndefined();
    await t.put(`${DIALS}/d/status`, { ...stored, status: { turns: 1, selector: 'app=d' } });

    const scale = await t.get(`${DIALS}/d/scale`);
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { replicas: 1, selector: 'app=d' } });
    const scaled = await t.patch(`${DIALS}/d/scale`, { spec: { replicas: 7 } }, 'application/merge-patch+json');
    expect(scaled.body.spec).toEqual({ replicas: 7 });
    expect((await t.get(`${DIALS}/d`)).body).toMatchObject({ spec: { turns: 7 }, status: { turns: 1 }, metadata: { generation: 2 } });
    // The table of a version without columns: NAME and AGE.
    const table = (await t.get(DIALS, { accept: TABLE })).body;
    expect(table.columnDefinitions.map((c: Wire) => c.name)).toEqual(['Name', 'Age']);
  });

  it('keeps a CRD whose objects are held by finalizers Terminating, refusing creates, until they are gone', async () => {
    const crd = widgets();
    crd.metadata.name = 'levers.example.com';
    crd.spec.names = { plural: 'levers', kind: 'Lever' };
    delete crd.spec.versions[0].selectableFields;
    expect((await t.post(CRDS, crd)).status).toBe(201);
    const LEVERS = '/apis/example.com/v1/namespaces/default/levers';
    const lever = { apiVersion: 'example.com/v1', kind: 'Lever', metadata: { name: 'held', finalizers: ['example.com/hold'] }, spec: {} };
    expect((await t.post(LEVERS, lever)).status).toBe(201);

    expect((await t.del(`${CRDS}/levers.example.com`)).status).toBe(200);
    const terminating = (await t.get(`${CRDS}/levers.example.com`)).body;
    expect(terminating.status.conditions).toContainEqual(expect.objectContaining({ type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending' }));
    expect((await t.get(`${LEVERS}/held`)).body.metadata.deletionTimestamp).toBeDefined();
    const refused = await t.post(LEVERS, { ...lever, metadata: { name: 'late' } });
    expect(refused.status).toBe(405);
    expect(refused.body).toMatchObject({
      reason: 'MethodNotAllowed',
      message: 'create not allowed while custom resource definition is terminating',
      details: { group: 'example.com', kind: 'levers' },
    });

    expect((await t.patch(`${LEVERS}/held`, { metadata: { finalizers: null } }, 'application/merge-patch+json')).status).toBe(200);
    expect((await t.get(`${CRDS}/levers.example.com`)).status).toBe(404);
    expect((await t.get(LEVERS)).status).toBe(404);
  });

  it('reaches another server sharing only the store once its revision check is due (the cloud function instances)', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const clock = new ManualClock();
    const a = await serveApi(store, { clock, crdTtlMs: 1000 });
    const b = await serveApi(store, { clock, crdTtlMs: 1000 });
    try {
      expect((await b.get(WIDGETS)).status).toBe(404);
      expect((await a.post(CRDS, widgets())).status).toBe(201);
      expect((await a.get(WIDGETS)).status).toBe(200);
      // b trusts what it read for its TTL, then one read of the CRDs' revision tells it to list them.
      expect((await b.get(WIDGETS)).status).toBe(404);
      clock.advance(1000);
      expect((await b.post(WIDGETS, widget('shared'))).status).toBe(201);
      expect((await a.get(`${WIDGETS}/shared`)).body.spec).toEqual({ replicas: 1 });
      const crd = (await b.get(`${CRDS}/widgets.example.com`)).body;
      expect(crd.status.conditions.map((c: Wire) => [c.type, c.status])).toEqual([
        ['NamesAccepted', 'True'],
        ['Established', 'True'],
      ]);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
