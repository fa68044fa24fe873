/**
 * Names of CustomResourceDefinitions as kube's naming controller accepts
 * them: unique within a group only (a CRD may serve `deployments` in its own
 * group beside apps'), and a name another CRD of the group holds reported in
 * NamesAccepted with kube's reason and message, the CRD not served until the
 * conflict is gone.
 */
import { describe, expect, it } from 'vitest';
import { deployment, DEPLOYMENTS, type Wire } from '../apiserver/harness.js';
import { apiPerFile, CRDS, widgetCRD } from './fixtures.js';

const t = apiPerFile();

function crdNamed(plural: string, names: Wire): Wire {
  const crd: Wire = widgetCRD();
  crd.metadata.name = `${plural}.example.com`;
  crd.spec.names = { plural, ...names };
  delete crd.status;
  return crd;
}

async function conditions(name: string): Promise<string[][]> {
  const crd = (await t.get(`${CRDS}/${name}`)).body;
  return crd.status.conditions.map((c: Wire) => [c.type, c.status, c.reason, c.message]);
}

const ACCEPTED = [
  ['NamesAccepted', 'True', 'NoConflicts', 'no conflicts found'],
  ['Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted'],
];

describe('CRD names', () => {
  it("serves a CRD whose plural and kind a built-in kind of another group has, each at its group's paths", async () => {
    expect((await t.post(CRDS, crdNamed('deployments', { kind: 'Deployment', shortNames: ['deploy'] }))).status).toBe(201);
    expect(await conditions('deployments.example.com')).toEqual(ACCEPTED);
    const CUSTOM = '/apis/example.com/v1/namespaces/default/deployments';
    const custom = await t.post(CUSTOM, { apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2 } });
    expect(custom.status).toBe(201);
    expect((await t.post(DEPLOYMENTS, deployment('d', 1))).status).toBe(201);
    expect((await t.get(`${CUSTOM}/d`)).body).toMatchObject({ apiVersion: 'example.com/v1', spec: { replicas: 2 } });
    expect((await t.get(`${DEPLOYMENTS}/d`)).body).toMatchObject({ apiVersion: 'apps/v1', spec: { replicas: 1 } });
    expect((await t.get(CUSTOM)).body.items).toHaveLength(1);
    expect((await t.get(DEPLOYMENTS)).body.items).toHaveLength(1);
    expect((await t.del(`${CRDS}/deployments.example.com`)).status).toBe(200);
    expect((await t.get(`${DEPLOYMENTS}/d`)).status).toBe(200);
  });

  it('refuses names another CRD of the group holds, with kube reasons, and serves the CRD once the conflict is fixed', async () => {
    expect((await t.post(CRDS, crdNamed('widgets', { kind: 'Widget', shortNames: ['wd'] }))).status).toBe(201);
    expect((await t.post(CRDS, crdNamed('gizmos', { kind: 'Gizmo', shortNames: ['wd', 'gz', 'widgets'] }))).status).toBe(201);
    expect(await conditions('gizmos.example.com')).toEqual([
      ['NamesAccepted', 'False', 'ShortNamesConflict', '["wd" is already in use, "widgets" is already in use]'],
      ['Established', 'False', 'NotAccepted', 'not all names are accepted'],
    ]);
    expect((await t.get('/apis/example.com/v1/namespaces/default/gizmos')).status).toBe(404);
    expect((await t.get('/apis/example.com/v1')).body.resources.map((r: Wire) => r.name)).toEqual(['widgets']);

    expect((await t.post(CRDS, crdNamed('sprockets', { kind: 'Widget', listKind: 'SprocketList', singular: 'sprocket' }))).status).toBe(201);
    expect((await conditions('sprockets.example.com'))[0]).toEqual(['NamesAccepted', 'False', 'KindConflict', '"Widget" is already in use']);
    expect((await t.post(CRDS, crdNamed('cogs', { kind: 'Cog', listKind: 'WidgetList', singular: 'widget' }))).status).toBe(201);
    // Every conflicting name is refused; the condition names the last checked (kube's order: plural, singular, short names, kind, list kind).
    expect((await conditions('cogs.example.com'))[0]).toEqual(['NamesAccepted', 'False', 'ListKindConflict', '"WidgetList" is already in use']);
    const cogs = (await t.get(`${CRDS}/cogs.example.com`)).body;
    expect(cogs.status.acceptedNames).toEqual({ plural: 'cogs', kind: 'Cog' });

    const gizmos = (await t.get(`${CRDS}/gizmos.example.com`)).body;
    gizmos.spec.names.shortNames = ['gz'];
    expect((await t.put(`${CRDS}/gizmos.example.com`, gizmos)).status).toBe(200);
    expect(await conditions('gizmos.example.com')).toEqual(ACCEPTED);
    expect((await t.get('/apis/example.com/v1/namespaces/default/gizmos')).status).toBe(200);

    // The holder going frees its names: the CRDs refused for them are served on the next refresh.
    expect((await t.del(`${CRDS}/widgets.example.com`)).status).toBe(200);
    expect(await conditions('sprockets.example.com')).toEqual(ACCEPTED);
    expect(await conditions('cogs.example.com')).toEqual(ACCEPTED);
    expect((await t.get('/apis/example.com/v1/namespaces/default/sprockets')).status).toBe(200);
    expect((await t.get('/apis/example.com/v1/namespaces/default/cogs')).status).toBe(200);
  });
});
