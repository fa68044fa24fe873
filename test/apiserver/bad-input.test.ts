/**
 * Every kind of bad input gets the Status Kubernetes would send (kind Status,
 * status Failure, reason, code, details.causes[].field) and changes nothing:
 * the collection and its resourceVersion read the same afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '#lib/apiserver/limits';
import { configMap, CONFIGMAPS, deployment, DEPLOYMENTS, pod, PODS, startApi, type Reply, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
  // Something to compare against: one object in each collection the tests write to.
  expect((await t.post(PODS, pod('existing'))).status).toBe(201);
  expect((await t.post(DEPLOYMENTS, deployment('existing'))).status).toBe(201);
  expect((await t.post(CONFIGMAPS, configMap('existing', { a: '1' }))).status).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

/** The collection as a client sees it: items and the list's resourceVersion. */
async function snapshot(path: string): Promise<Wire> {
  const list = await t.get(path);
  expect(list.status).toBe(200);
  return { resourceVersion: list.body.metadata.resourceVersion, items: list.body.items };
}

/** Runs `act`, asserting that `path`'s collection is unchanged afterwards. */
async function unchanged(path: string, act: () => Promise<Reply>): Promise<Reply> {
  const before = await snapshot(path);
  const reply = await act();
  expect(await snapshot(path)).toEqual(before);
  return reply;
}

function expectStatus(reply: Reply, code: number, reason: string): Wire {
  expect(reply.status).toBe(code);
  expect(reply.headers.get('content-type')).toContain('application/json');
  expect(reply.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code });
  expect(typeof reply.body.message).toBe('string');
  return reply.body;
}

function fields(status: Wire): string[] {
  return (status.details?.causes ?? []).map((c: { field: string }) => c.field);
}

describe('bad request bodies', () => {
  it('rejects a body that is not JSON with 400 BadRequest', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, '{"apiVersion": "v1", "kind": "Pod", '));
    expectStatus(r, 400, 'BadRequest');
  });

  it('rejects YAML that does not parse with 400 BadRequest', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n', { contentType: 'application/yaml' }));
    expectStatus(r, 400, 'BadRequest');
  });

  it('accepts the same object as YAML', async () => {
    const yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-yaml\nspec:\n  containers:\n  - name: nginx\n    image: nginx\n';
    const r = await t.post(PODS, yaml, { contentType: 'application/yaml' });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toBe('from-yaml');
    expect((await t.del(`${PODS}/from-yaml`)).status).toBe(200);
  });

  it('rejects an empty body with 400', async () => {
    const r = await unchanged(PODS, () => t.req('POST', PODS, { body: '', contentType: 'application/json' }));
    expectStatus(r, 400, 'BadRequest');
  });

  it('rejects a JSON value that is not an object with 400', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, '[1,2]'));
    expectStatus(r, 400, 'BadRequest');
  });

  it('rejects a wrong apiVersion with 400, naming both versions', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, { ...pod('wrong-version'), apiVersion: 'apps/v1' }));
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toBe('the API version in the data (apps/v1) does not match the expected API version (v1)');
  });

  it('rejects a wrong kind with 400', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, { ...pod('wrong-kind'), kind: 'Service' }));
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toContain('Pod');
  });

  it("takes a missing kind and apiVersion from the URL, as Kubernetes' decoder does", async () => {
    const { kind: _kind, apiVersion: _v, ...bare } = pod('no-kind');
    const r = await t.post(PODS, bare);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'no-kind' } });
  });

  it('rejects a field of the wrong type with 400', async () => {
    const bad = pod('wrong-type');
    bad.spec.containers = 'nginx';
    const r = await unchanged(PODS, () => t.post(PODS, bad));
    expectStatus(r, 400, 'BadRequest');
  });

  it('checks a struct the same wherever it appears: a selector requirement without a key, in a namespaceSelector as in a selector', async () => {
    const bad = pod('selector-without-key');
    const term = { topologyKey: 'zone', namespaceSelector: { matchExpressions: [{ operator: 'Exists' }] } };
    bad.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
    const r = await unchanged(PODS, () => t.post(PODS, bad));
    expect(expectStatus(r, 400, 'BadRequest').message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal object into Go struct field LabelSelectorRequirement.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution.namespaceSelector.matchExpressions.key of type string',
    );
  });

  it('refuses a null list item in any field the Go types declare, as the TypeScript types promise', async () => {
    const bad = pod('null-gate');
    bad.spec.schedulingGates = [null];
    const r = await unchanged(PODS, () => t.post(PODS, bad));
    expect(expectStatus(r, 400, 'BadRequest').message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal null into Go struct field PodSpec.spec.schedulingGates of type v1.PodSchedulingGate',
    );
  });

  it('rejects a body over 3 MiB with 413 RequestEntityTooLarge', async () => {
    const big = configMap('too-big', { blob: 'x'.repeat(MAX_BODY_BYTES + 10) });
    const r = await unchanged(CONFIGMAPS, () => t.post(CONFIGMAPS, big));
    const s = expectStatus(r, 413, 'RequestEntityTooLarge');
    expect(s.message).toBe(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
  });

  it('rejects an unsupported patch content type with 415', async () => {
    const r = await unchanged(PODS, () => t.patch(`${PODS}/existing`, { metadata: { labels: { a: 'b' } } }, 'text/plain'));
    expectStatus(r, 415, 'UnsupportedMediaType');
  });
});

describe('unknown fields', () => {
  it('refuses them with fieldValidation=Strict: 400 with a strict decoding error', async () => {
    const bad = pod('strict');
    bad.spec.bogus = true;
    bad.spec.containers[0].imageName = 'x';
    const r = await unchanged(PODS, () => t.post(`${PODS}?fieldValidation=Strict`, bad));
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imageName", unknown field "spec.bogus"',
    );
  });

  it('accepts them by default, with a Warning header naming each', async () => {
    const lax = pod('lax');
    lax.spec.bogus = true;
    const r = await t.post(PODS, lax);
    expect(r.status).toBe(201);
    expect(r.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
    expect((await t.get(`${PODS}/lax`)).status).toBe(200);
  });

  it('accepts them silently with fieldValidation=Ignore', async () => {
    const quiet = pod('quiet');
    quiet.spec.bogus = true;
    const r = await t.post(`${PODS}?fieldValidation=Ignore`, quiet);
    expect(r.status).toBe(201);
    expect(r.headers.get('warning')).toBeNull();
  });

  it('rejects an unknown fieldValidation value with 400', async () => {
    const r = await unchanged(PODS, () => t.post(`${PODS}?fieldValidation=Loud`, pod('loud')));
    expectStatus(r, 400, 'BadRequest');
  });
});

describe('invalid objects: 422 Invalid with the field of each cause', () => {
  it.each([
    ['Upper_Case', 'uppercase and underscore'],
    ['-leading-dash', 'leading dash'],
    ['trailing-dot.', 'trailing dot'],
    ['a'.repeat(254), 'longer than 253 characters'],
  ])('rejects the pod name %j (%s)', async (name) => {
    const r = await unchanged(PODS, () => t.post(PODS, pod(name)));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toContain('metadata.name');
    expect(s.details).toMatchObject({ name, kind: 'Pod' });
    expect(s.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    expect(s.message).toMatch(new RegExp(`^Pod "${name}" is invalid: metadata.name: Invalid value: "${name}": `));
  });

  it('rejects a namespace name that is not a DNS-1123 label (dots are not allowed)', async () => {
    const r = await unchanged('/api/v1/namespaces', () => t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'has.dot' } }));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['metadata.name']);
    // kube 1.35 words a valid subdomain that is no label this way.
    expect(s.message).toBe('Namespace "has.dot" is invalid: metadata.name: Invalid value: "has.dot": must not contain dots');
  });

  it('rejects an object with neither name nor generateName', async () => {
    const nameless = pod('x');
    delete nameless.metadata.name;
    const r = await unchanged(PODS, () => t.post(PODS, nameless));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['metadata.name']);
    expect(s.details.causes[0].reason).toBe('FieldValueRequired');
  });

  it('rejects a pod without containers: spec.containers: Required value', async () => {
    const bad = pod('no-containers');
    bad.spec.containers = [];
    const r = await unchanged(PODS, () => t.post(PODS, bad));
    const s = expectStatus(r, 422, 'Invalid');
    expect(s.message).toBe('Pod "no-containers" is invalid: spec.containers: Required value');
    expect(s.details).toEqual({
      name: 'no-containers',
      kind: 'Pod',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }],
    });
  });

  it('rejects a container without an image: spec.containers[0].image', async () => {
    const bad = pod('no-image');
    delete bad.spec.containers[0].image;
    const r = await unchanged(PODS, () => t.post(PODS, bad));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['spec.containers[0].image']);
    expect(s.message).toBe('Pod "no-image" is invalid: spec.containers[0].image: Required value');
  });

  it('names the template path for a Deployment container without an image', async () => {
    const bad = deployment('no-image');
    delete bad.spec.template.spec.containers[0].image;
    const r = await unchanged(DEPLOYMENTS, () => t.post(DEPLOYMENTS, bad));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['spec.template.spec.containers[0].image']);
    expect(s.details).toMatchObject({ name: 'no-image', group: 'apps', kind: 'Deployment' });
    expect(s.message).toBe('Deployment.apps "no-image" is invalid: spec.template.spec.containers[0].image: Required value');
  });

  it('rejects a Deployment whose selector does not match its template labels', async () => {
    const bad = deployment('mismatch');
    bad.spec.template.metadata.labels = { app: 'other' };
    const r = await unchanged(DEPLOYMENTS, () => t.post(DEPLOYMENTS, bad));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['spec.template.metadata.labels']);
    expect(s.details.causes[0].message).toContain('`selector` does not match template `labels`');
  });

  it('rejects negative replicas', async () => {
    const r = await unchanged(DEPLOYMENTS, () => t.post(DEPLOYMENTS, deployment('negative', -1)));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['spec.replicas']);
    expect(s.details.causes[0].message).toBe('Invalid value: -1: must be greater than or equal to 0');
  });

  it('reports every invalid field at once', async () => {
    const bad = pod('Two_Errors');
    delete bad.spec.containers[0].image;
    const r = await unchanged(PODS, () => t.post(PODS, bad));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s).sort()).toEqual(['metadata.name', 'spec.containers[0].image']);
    expect(s.message).toMatch(/^Pod "Two_Errors" is invalid: \[.*, .*\]$/);
  });

  it('rejects an invalid update the same way and keeps the stored object', async () => {
    const current = (await t.get(`${DEPLOYMENTS}/existing`)).body;
    current.spec.replicas = -3;
    const r = await unchanged(DEPLOYMENTS, () => t.put(`${DEPLOYMENTS}/existing`, current));
    const s = expectStatus(r, 422, 'Invalid');
    expect(fields(s)).toEqual(['spec.replicas']);
  });

  it('rejects an invalid patch and keeps the stored object', async () => {
    const r = await unchanged(DEPLOYMENTS, () => t.patch(`${DEPLOYMENTS}/existing`, { spec: { replicas: -2 } }, 'application/merge-patch+json'));
    expect(fields(expectStatus(r, 422, 'Invalid'))).toEqual(['spec.replicas']);
  });
});

describe('conflicts and missing things', () => {
  it('refuses an object in a namespace that does not exist: 404 namespaces "x" not found', async () => {
    const r = await t.post('/api/v1/namespaces/nowhere/pods', pod('lost'));
    const s = expectStatus(r, 404, 'NotFound');
    expect(s.message).toBe('namespaces "nowhere" not found');
    expect(s.details).toEqual({ name: 'nowhere', kind: 'namespaces' });
    expect((await t.get('/api/v1/pods')).body.items.map((p: Wire) => p.metadata.name)).not.toContain('lost');
  });

  it('refuses to create an existing name: 409 AlreadyExists', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, pod('existing')));
    const s = expectStatus(r, 409, 'AlreadyExists');
    expect(s.message).toBe('pods "existing" already exists');
    expect(s.details).toEqual({ name: 'existing', kind: 'pods' });
  });

  it('names the group for a Deployment that exists already', async () => {
    const r = await unchanged(DEPLOYMENTS, () => t.post(DEPLOYMENTS, deployment('existing')));
    const s = expectStatus(r, 409, 'AlreadyExists');
    expect(s.message).toBe('deployments.apps "existing" already exists');
    expect(s.details).toEqual({ name: 'existing', group: 'apps', kind: 'deployments' });
  });

  it('refuses an update with a stale resourceVersion: 409 Conflict', async () => {
    const before = (await t.get(`${CONFIGMAPS}/existing`)).body;
    expect((await t.put(`${CONFIGMAPS}/existing`, { ...before, metadata: { ...before.metadata, labels: { touched: 'yes' } } })).status).toBe(200);
    const stale = { ...before, data: { a: '2' } };
    const r = await unchanged(CONFIGMAPS, () => t.put(`${CONFIGMAPS}/existing`, stale));
    const s = expectStatus(r, 409, 'Conflict');
    expect(s.message).toBe(
      'Operation cannot be fulfilled on configmaps "existing": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(s.details).toEqual({ name: 'existing', kind: 'configmaps' });
  });

  it('refuses a patch that carries a stale resourceVersion: 409 Conflict', async () => {
    const r = await unchanged(CONFIGMAPS, () =>
      t.patch(`${CONFIGMAPS}/existing`, { metadata: { resourceVersion: '999999' }, data: { a: '3' } }, 'application/merge-patch+json'),
    );
    expectStatus(r, 409, 'Conflict');
  });

  it('answers 404 NotFound for a missing object', async () => {
    const s = expectStatus(await t.get(`${PODS}/nope`), 404, 'NotFound');
    expect(s).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
  });

  it('answers 404 for updates, patches and deletes of a missing object', async () => {
    await unchanged(PODS, async () => {
      expectStatus(await t.put(`${PODS}/nope`, pod('nope')), 404, 'NotFound');
      expectStatus(await t.patch(`${PODS}/nope`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json'), 404, 'NotFound');
      return expectStatus(await t.del(`${PODS}/nope`), 404, 'NotFound') && t.get(PODS);
    });
  });

  it.each([
    '/api/v1/namespaces/default/widgets',
    '/apis/apps/v1/namespaces/default/widgets/x',
    '/apis/nosuch.example.com/v1/things',
    '/api/v2/pods',
    '/api/v1/namespaces/default/pods/existing/nosuchsub',
    '/api/v1/namespaces/default/pods/existing/status/extra',
    '/api/v1/namespaces/default/nodes',
    '/nope',
  ])('answers 404 NotFound for the unknown path %s', async (path) => {
    const s = expectStatus(await t.get(path), 404, 'NotFound');
    expect(s.message).toBe('the server could not find the requested resource');
  });

  it('answers 405 for a method a collection does not allow', async () => {
    expectStatus(await t.put(PODS, pod('x')), 405, 'MethodNotAllowed');
  });

  it('refuses a PUT whose body names another object with 400', async () => {
    const r = await unchanged(PODS, () => t.put(`${PODS}/existing`, pod('other')));
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toBe('the name of the object (other) does not match the name on the URL (existing)');
  });

  it('refuses a body whose namespace differs from the URL with 400', async () => {
    const r = await unchanged(PODS, () => t.post(PODS, pod('elsewhere', { namespace: 'kube-system' })));
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
  });
});

describe('bad list options', () => {
  it.each(['app in (a', 'a=b=c', '!', 'Bad Key=x', 'a=' + 'v'.repeat(64)])('rejects the label selector %j with 400', async (sel) => {
    const r = await t.get(`${PODS}?labelSelector=${encodeURIComponent(sel)}`);
    expectStatus(r, 400, 'BadRequest');
  });

  it('rejects a field selector without an operator with 400', async () => {
    const r = await t.get(`${PODS}?fieldSelector=${encodeURIComponent('metadata.name')}`);
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toBe("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  });

  it('rejects a field selector on a field the kind does not support: 400 field label not supported', async () => {
    const r = await t.get(`${PODS}?fieldSelector=${encodeURIComponent('spec.image=nginx')}`);
    const s = expectStatus(r, 400, 'BadRequest');
    expect(s.message).toBe('field label not supported: spec.image');
  });

  it('rejects a field selector pods support on a kind that does not', async () => {
    const r = await t.get(`${CONFIGMAPS}?fieldSelector=${encodeURIComponent('spec.nodeName=n1')}`);
    expect(expectStatus(r, 400, 'BadRequest').message).toBe('field label not supported: spec.nodeName');
  });

  it('rejects the same selectors on a watch before streaming anything', async () => {
    const r = await t.get(`${PODS}?watch=true&fieldSelector=${encodeURIComponent('spec.image=nginx')}`);
    expectStatus(r, 400, 'BadRequest');
  });

  it('rejects a non-numeric limit with 400', async () => {
    expectStatus(await t.get(`${PODS}?limit=ten`), 400, 'BadRequest');
  });

  it('rejects a continue token that does not decode with 400', async () => {
    expectStatus(await t.get(`${PODS}?limit=1&continue=garbage`), 400, 'BadRequest');
  });

  it('rejects an unknown dryRun value with 400 and writes nothing', async () => {
    const r = await unchanged(PODS, () => t.post(`${PODS}?dryRun=Some`, pod('dry')));
    expectStatus(r, 400, 'BadRequest');
  });

  it('rejects a bad propagationPolicy with 422 against DeleteOptions and deletes nothing', async () => {
    const r = await unchanged(PODS, () => t.del(`${PODS}/existing`, { propagationPolicy: 'Sideways' }));
    const s = expectStatus(r, 422, 'Invalid');
    expect(s.message).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"',
    );
    expect(s.details).toMatchObject({
      group: 'meta.k8s.io',
      kind: 'DeleteOptions',
      causes: [{ reason: 'FieldValueNotSupported', field: 'propagationPolicy' }],
    });
  });
});
