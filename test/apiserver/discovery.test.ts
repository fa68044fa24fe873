/**
 * What clients discover before anything else: the API groups and resources
 * (aggregated v2 and legacy forms), /version, and the OpenAPI v3 documents
 * kubectl needs for apply validation and explain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi, type Wire } from './harness.js';

const AGGREGATED =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

describe('discovery', () => {
  it('answers aggregated discovery with its exact content type, with short names, categories and subresources', async () => {
    const core = await t.get('/api', { accept: AGGREGATED });
    expect(core.headers.get('content-type')).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(core.body.kind).toBe('APIGroupDiscoveryList');
    const v1 = core.body.items[0].versions[0];
    const pods = v1.resources.find((r: Wire) => r.resource === 'pods');
    expect(pods).toMatchObject({
      responseKind: { group: '', version: 'v1', kind: 'Pod' },
      scope: 'Namespaced',
      singularResource: 'pod',
      shortNames: ['po'],
      categories: ['all'],
    });
    expect(pods.subresources.map((s: Wire) => s.subresource)).toEqual(expect.arrayContaining(['status', 'binding', 'log', 'exec', 'eviction']));
    const apis = await t.get('/apis', { accept: AGGREGATED });
    const apps = apis.body.items.find((g: Wire) => g.metadata.name === 'apps');
    const deployments = apps.versions[0].resources.find((r: Wire) => r.resource === 'deployments');
    expect(deployments.subresources.find((s: Wire) => s.subresource === 'scale')).toEqual({
      subresource: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: ['get', 'patch', 'update'],
    });
  });

  it('answers the legacy forms to plain JSON clients', async () => {
    expect((await t.get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await t.get('/apis')).body;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: Wire) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'coordination.k8s.io']));
    const v1 = (await t.get('/api/v1')).body;
    expect(v1).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    expect(v1.resources.map((r: Wire) => r.name)).toEqual(
      expect.arrayContaining(['pods', 'pods/log', 'pods/exec', 'pods/binding', 'pods/eviction', 'pods/status', 'services', 'nodes']),
    );
    expect((await t.get('/apis/apps/v1')).body.resources.find((r: Wire) => r.name === 'deployments/scale')).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
    expect((await t.get('/apis/nope/v1')).status).toBe(404);
    expect((await t.get('/version')).body).toMatchObject({ major: '1', minor: '35' });
  });
});

describe('OpenAPI v3', () => {
  it('indexes one document per group/version, addressed by a content hash', async () => {
    const index = (await t.get('/openapi/v3')).body;
    expect(Object.keys(index.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/coordination.k8s.io/v1']));
    expect(index.paths['apis/apps/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    const again = (await t.get('/openapi/v3')).body;
    expect(again.paths['apis/apps/v1'].serverRelativeURL).toBe(index.paths['apis/apps/v1'].serverRelativeURL);
  });

  it('gives kubectl apply the patch operation with its GVK and fieldValidation parameter', async () => {
    const doc = (await t.get('/openapi/v3/apis/apps/v1')).body;
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(patch.parameters.map((p: Wire) => p.name)).toContain('fieldValidation');
    expect(Object.keys(patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
  });

  it('describes kinds with the Kubernetes types, their documentation, merge keys and what kumo requires', async () => {
    const doc = (await t.get('/openapi/v3/api/v1')).body;
    const pod = doc.components.schemas['io.k8s.api.core.v1.Pod'];
    expect(pod['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    expect(pod.properties.spec).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }],
      description: expect.stringContaining('Specification of the desired behavior of the pod.'),
    });
    const containers = doc.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers).toMatchObject({
      type: 'array',
      items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
    });
    const container = doc.components.schemas['io.k8s.api.core.v1.Container'];
    expect(container.required).toEqual(['name']);
    expect(container.properties.image).toMatchObject({ type: 'string', description: expect.stringContaining('Container image name.') });
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.labels).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
    // A struct requires the same fields in every document, whichever path reaches it first.
    const requirement = 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement';
    expect(doc.components.schemas[requirement].required).toEqual(['key', 'operator']);
    expect((await t.get('/openapi/v3/apis/apps/v1')).body.components.schemas[requirement].required).toEqual(['key', 'operator']);
    // Every $ref resolves inside the document.
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[\w.-]+/g) ?? [];
    for (const ref of new Set(refs)) expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
  });

  it('answers /openapi/v2 with an (empty) protobuf document and 404s for unknown documents', async () => {
    const v2 = await t.get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(v2.status).toBe(200);
    expect(v2.headers.get('content-type')).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect((await t.get('/openapi/v3/apis/nope/v1')).status).toBe(404);
  });
});
