/**
 * pods/ephemeralcontainers, as kube-apiserver serves it: discovery, the
 * strategic merge patch `kubectl debug` sends, PUT and the other patch
 * types, kube's validation (add only, unique names, no ports, probes,
 * resources or lifecycle, a target that exists) with its field paths and
 * messages, and that nothing but spec.ephemeralContainers ever changes
 * through it (nor changes it any other way).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENTS, deployment, PODS, pod, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

const SMP = 'application/strategic-merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const MERGE = 'application/merge-patch+json';

/** The patch kubectl v1.35 `debug --image=busybox:1.36 -c dbg --target=nginx -- sh` computes (CreateTwoWayMergePatch). */
function debugPatch(name = 'dbg', extra: Record<string, unknown> = {}): Wire {
  return {
    spec: {
      ephemeralContainers: [
        {
          name,
          image: 'busybox:1.36',
          command: ['sh'],
          resources: {},
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
          stdin: true,
          targetContainerName: 'nginx',
          ...extra,
        },
      ],
    },
  };
}

async function createPod(name: string): Promise<Wire> {
  const p = pod(name, { labels: { app: 'web' } });
  p.spec.containers.push({ name: 'sidecar', image: 'busybox:1.36' });
  p.spec.initContainers = [{ name: 'setup', image: 'busybox:1.36' }];
  p.spec.volumes = [{ name: 'data', emptyDir: {} }];
  const r = await t.post(PODS, p);
  expect(r.status).toBe(201);
  return r.body;
}

/** Everything but spec.ephemeralContainers and the write's bookkeeping (resourceVersion, generation, managedFields: asserted apart). */
function rest(p: Wire): Wire {
  const { ephemeralContainers: _ec, ...spec } = p.spec;
  const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...metadata } = p.metadata;
  return { ...p, metadata, spec };
}

function invalid(r: { status: number; body: Wire }, name: string, causes: { field: string; reason: string; message: string }[]): void {
  expect(r.status, JSON.stringify(r.body)).toBe(422);
  expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, details: { name, kind: 'Pod' } });
  expect(r.body.details.causes).toEqual(causes);
}

describe('pods/ephemeralcontainers', () => {
  it('is listed in discovery as kube lists it: the Pod kind, get, patch and update', async () => {
    const v1 = (await t.get('/api/v1')).body;
    expect(v1.resources.find((r: Wire) => r.name === 'pods/ephemeralcontainers')).toEqual({
      name: 'pods/ephemeralcontainers',
      singularName: '',
      namespaced: true,
      kind: 'Pod',
      verbs: ['get', 'patch', 'update'],
    });
    expect(v1.resources.find((r: Wire) => r.name === 'pods/attach')).toMatchObject({ kind: 'PodAttachOptions', verbs: ['create', 'get'] });
    const aggregated = (await t.get('/api', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body;
    const pods = aggregated.items[0].versions[0].resources.find((r: Wire) => r.resource === 'pods');
    expect(pods.subresources.find((s: Wire) => s.subresource === 'ephemeralcontainers')).toEqual({
      subresource: 'ephemeralcontainers',
      responseKind: { group: '', version: 'v1', kind: 'Pod' },
      verbs: ['get', 'patch', 'update'],
    });
  });

  it("adds a debug container with kubectl debug's strategic merge patch, defaulted, and changes nothing else", async () => {
    const before = await createPod('smp');
    const r = await t.patch(`${PODS}/smp/ephemeralcontainers`, debugPatch(), SMP);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.kind).toBe('Pod');
    expect(r.body.spec.ephemeralContainers).toEqual([
      {
        name: 'dbg',
        image: 'busybox:1.36',
        command: ['sh'],
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        stdin: true,
        targetContainerName: 'nginx',
      },
    ]);
    expect(rest(r.body)).toEqual(rest(before));
    expect(r.body.metadata.generation).toBe(before.metadata.generation + 1);
    // The write's manager owns the debug container, recorded against the subresource, as kube records it.
    const entry = r.body.metadata.managedFields.find((m: Wire) => m.subresource === 'ephemeralcontainers');
    expect(entry).toMatchObject({ operation: 'Update', apiVersion: 'v1' });
    expect(Object.keys(entry.fieldsV1)).toEqual(['f:spec']);
    expect(Object.keys(entry.fieldsV1['f:spec'])).toEqual(['f:ephemeralContainers']);
    expect(entry.fieldsV1['f:spec']['f:ephemeralContainers']['k:{"name":"dbg"}']).toMatchObject({ 'f:image': {}, 'f:targetContainerName': {} });
    // GET on the subresource is the whole pod, as stored.
    const got = await t.get(`${PODS}/smp/ephemeralcontainers`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual((await t.get(`${PODS}/smp`)).body);
    // A second one merges by name, as kubectl sends it (with $setElementOrder), keeping the first.
    const second = await t.patch(
      `${PODS}/smp/ephemeralcontainers`,
      {
        spec: { '$setElementOrder/ephemeralContainers': [{ name: 'dbg' }, { name: 'dbg2' }], ephemeralContainers: [{ name: 'dbg2', image: 'busybox:latest' }] },
      },
      SMP,
    );
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.spec.ephemeralContainers.map((c: Wire) => [c.name, c.imagePullPolicy])).toEqual([
      ['dbg', 'IfNotPresent'],
      ['dbg2', 'Always'],
    ]);
  });

  it('takes spec.ephemeralContainers alone from a PUT or a merge patch: labels, images and status stay as stored', async () => {
    const before = await createPod('put');
    const body = structuredClone(before);
    body.metadata.labels = { app: 'changed' };
    body.spec.containers[0].image = 'nginx:9';
    body.status = { phase: 'Succeeded' };
    body.spec.ephemeralContainers = [{ name: 'dbg', image: 'busybox:1.36' }];
    const r = await t.put(`${PODS}/put/ephemeralcontainers`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.spec.ephemeralContainers.map((c: Wire) => c.name)).toEqual(['dbg']);
    expect(rest(r.body)).toEqual(rest(before));
    // A stale resourceVersion is a conflict, as for any update.
    const stale = await t.put(`${PODS}/put/ephemeralcontainers`, {
      ...body,
      spec: { ...body.spec, ephemeralContainers: [...body.spec.ephemeralContainers, { name: 'late', image: 'busybox:1.36' }] },
    });
    expect(stale.status).toBe(409);
    const merged = await t.patch(
      `${PODS}/put/ephemeralcontainers`,
      { metadata: { labels: { app: 'x' } }, spec: { ephemeralContainers: [...r.body.spec.ephemeralContainers, { name: 'dbg2', image: 'busybox:1.36' }] } },
      MERGE,
    );
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(merged.body.metadata.labels).toEqual({ app: 'web' });
    expect(merged.body.spec.ephemeralContainers.map((c: Wire) => c.name)).toEqual(['dbg', 'dbg2']);
  });

  it('refuses what an ephemeral container may not be or set (422 with field paths), and stores nothing', async () => {
    const before = await createPod('bad');
    const r = await t.patch(
      `${PODS}/bad/ephemeralcontainers`,
      {
        spec: {
          ephemeralContainers: [
            {
              name: 'sidecar',
              image: 'busybox:1.36',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: '1' } },
              livenessProbe: { exec: { command: ['true'] } },
              lifecycle: { preStop: { exec: { command: ['true'] } } },
              targetContainerName: 'nope',
              volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'x' }],
            },
            { name: 'Bad_Name' },
          ],
        },
      },
      SMP,
    );
    const ec = 'spec.ephemeralContainers';
    invalid(r, 'bad', [
      { reason: 'FieldValueDuplicate', field: `${ec}[0].name`, message: 'Duplicate value: "sidecar"' },
      { reason: 'FieldValueNotFound', field: `${ec}[0].targetContainerName`, message: 'Not found: "nope"' },
      { reason: 'FieldValueForbidden', field: `${ec}[0].ports`, message: 'Forbidden: cannot be set for an Ephemeral Container' },
      { reason: 'FieldValueForbidden', field: `${ec}[0].resources`, message: 'Forbidden: cannot be set for an Ephemeral Container' },
      { reason: 'FieldValueForbidden', field: `${ec}[0].livenessProbe`, message: 'Forbidden: cannot be set for an Ephemeral Container' },
      { reason: 'FieldValueForbidden', field: `${ec}[0].lifecycle`, message: 'Forbidden: cannot be set for an Ephemeral Container' },
      { reason: 'FieldValueForbidden', field: `${ec}[0].volumeMounts[0].subPath`, message: 'Forbidden: cannot be set for an Ephemeral Container' },
      {
        reason: 'FieldValueInvalid',
        field: `${ec}[1].name`,
        message:
          "Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      },
      { reason: 'FieldValueRequired', field: `${ec}[1].image`, message: 'Required value' },
    ]);
    expect(r.body.message).toMatch(/^Pod "bad" is invalid: \[spec\.ephemeralContainers\[0\]\.name: Duplicate value: "sidecar", /);
    const after = (await t.get(`${PODS}/bad`)).body;
    expect(after.spec.ephemeralContainers).toBeUndefined();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('lets ephemeral containers be added, never removed or changed', async () => {
    await createPod('keep');
    const added = await t.patch(`${PODS}/keep/ephemeralcontainers`, debugPatch(), SMP);
    expect(added.status).toBe(200);
    const removed = await t.patch(`${PODS}/keep/ephemeralcontainers`, [{ op: 'remove', path: '/spec/ephemeralContainers/0' }], JSON_PATCH);
    invalid(removed, 'keep', [
      { reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers "dbg" may not be removed\n' },
    ]);
    const changed = await t.patch(
      `${PODS}/keep/ephemeralcontainers`,
      [{ op: 'replace', path: '/spec/ephemeralContainers/0/image', value: 'busybox:2' }],
      JSON_PATCH,
    );
    invalid(changed, 'keep', [
      { reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers "dbg" may not be changed\n' },
    ]);
    const after = (await t.get(`${PODS}/keep`)).body;
    expect(after.spec.ephemeralContainers).toEqual(added.body.spec.ephemeralContainers);
    expect(after.metadata.resourceVersion).toBe(added.body.metadata.resourceVersion);
  });

  it('refuses ephemeral containers anywhere else: on create, in a pod update or patch, in a pod template', async () => {
    const withEc = pod('on-create');
    withEc.spec.ephemeralContainers = [{ name: 'dbg', image: 'busybox:1.36' }];
    const created = await t.post(PODS, withEc);
    invalid(created, 'on-create', [{ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create' }]);
    expect((await t.get(`${PODS}/on-create`)).status).toBe(404);

    const stored = await createPod('plain');
    const patched = await t.patch(`${PODS}/plain`, debugPatch(), SMP);
    expect(patched.status).toBe(422);
    expect(patched.body.details.causes).toEqual([
      expect.objectContaining({
        reason: 'FieldValueForbidden',
        field: 'spec',
        message: expect.stringMatching(/^Forbidden: pod updates may not change fields other than/),
      }),
    ]);
    const put = await t.put(`${PODS}/plain`, { ...stored, spec: { ...stored.spec, ephemeralContainers: [{ name: 'dbg', image: 'busybox:1.36' }] } });
    expect(put.status).toBe(422);
    expect((await t.get(`${PODS}/plain`)).body.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);

    const d = deployment('templated');
    d.spec.template.spec.ephemeralContainers = [{ name: 'dbg', image: 'busybox:1.36' }];
    const r = await t.post(DEPLOYMENTS, d);
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'spec.template.spec.ephemeralContainers',
        message: 'Forbidden: ephemeral containers not allowed in pod template',
      },
    ]);
  });

  it("answers a missing pod's subresource with the pod's NotFound (details name it), and refuses apply", async () => {
    const r = await t.patch(`${PODS}/ghost/ephemeralcontainers`, debugPatch(), SMP);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ reason: 'NotFound', message: 'pods "ghost" not found', details: { name: 'ghost', kind: 'pods' } });
    await createPod('applied');
    const applied = await t.patch(
      `${PODS}/applied/ephemeralcontainers?fieldManager=me`,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'applied' }, ...debugPatch() },
      'application/apply-patch+yaml',
    );
    expect(applied.status).toBe(415);
  });

  it('answers attach without a connection upgrade with 400 Upgrade request required', async () => {
    await createPod('attach-plain');
    const r = await t.post(`${PODS}/attach-plain/attach?container=nginx&stdout=true`, undefined);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^Upgrade request required: attach needs a WebSocket or SPDY connection upgrade/);
  });
});
