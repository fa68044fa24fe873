/**
 * The REST semantics of the generic storage, through HTTP: what the server
 * owns in metadata, generation, status/spec separation, generateName, dry
 * runs, unconditional and conditional writes, the three patch types,
 * pagination, selectors and deletecollection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configMap, CONFIGMAPS, deployment, DEPLOYMENTS, pod, PODS, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function names(list: Wire): string[] {
  return list.items.map((i: Wire) => i.metadata.name);
}

describe('create', () => {
  it('sets uid, creationTimestamp, generation and resourceVersion itself, ignoring what the client sent', async () => {
    const p = pod('server-owned');
    p.metadata.uid = 'client-uid';
    p.metadata.creationTimestamp = '2001-01-01T00:00:00Z';
    p.metadata.generation = 42;
    p.metadata.deletionTimestamp = '2001-01-01T00:00:00Z';
    const r = await t.post(PODS, p);
    expect(r.status).toBe(201);
    const m = r.body.metadata;
    expect(m.uid).toMatch(UUID);
    expect(m.uid).not.toBe('client-uid');
    expect(m.creationTimestamp).toMatch(RFC3339);
    expect(m.creationTimestamp).not.toBe('2001-01-01T00:00:00Z');
    expect(Math.abs(Date.parse(m.creationTimestamp) - Date.now())).toBeLessThan(5_000);
    expect(m.generation).toBe(1);
    expect(m.deletionTimestamp).toBeUndefined();
    expect(m.resourceVersion).toMatch(/^\d+$/);
    expect(m.namespace).toBe('default');
    expect(r.body).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    // What GET returns is what create answered.
    expect((await t.get(`${PODS}/server-owned`)).body).toEqual(r.body);
  });

  it('ignores status on create', async () => {
    const p = pod('status-on-create');
    p.status = { phase: 'Running', podIP: '10.0.0.9' };
    const r = await t.post(PODS, p);
    expect(r.status).toBe(201);
    expect(r.body.status.phase).toBe('Pending');
    expect(r.body.status.podIP).toBeUndefined();
    const d = deployment('status-on-create');
    d.status = { replicas: 99, readyReplicas: 99 };
    const rd = await t.post(DEPLOYMENTS, d);
    expect(rd.status).toBe(201);
    expect(rd.body.status).toEqual({});
  });

  it('generates a name from generateName: the prefix and five characters', async () => {
    const p = pod('ignored');
    delete p.metadata.name;
    p.metadata.generateName = 'web-';
    const a = await t.post(PODS, p);
    const b = await t.post(PODS, p);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(a.body.metadata.generateName).toBe('web-');
    expect(a.body.metadata.name).not.toBe(b.body.metadata.name);
    expect((await t.get(`${PODS}/${a.body.metadata.name}`)).status).toBe(200);
  });

  it('writes nothing with dryRun=All but answers as if it had', async () => {
    const before = await t.get(PODS);
    const r = await t.post(`${PODS}?dryRun=All`, pod('dry-run'));
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toBe('dry-run');
    expect(r.body.metadata.uid).toMatch(UUID);
    expect(r.body.status.phase).toBe('Pending');
    expect((await t.get(`${PODS}/dry-run`)).status).toBe(404);
    const after = await t.get(PODS);
    expect(after.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
  });

  it('still validates a dry run', async () => {
    const bad = pod('Dry_Bad');
    const r = await t.post(`${PODS}?dryRun=All`, bad);
    expect(r.status).toBe(422);
  });
});

describe('update (PUT)', () => {
  it('replaces the object unconditionally when the body has no resourceVersion', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('put-blind', { a: '1' }))).body;
    const r = await t.put(`${CONFIGMAPS}/put-blind`, configMap('put-blind', { b: '2' }));
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ b: '2' });
    expect(r.body.metadata.uid).toBe(created.metadata.uid);
    expect(r.body.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    expect(Number(r.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
  });

  it('treats resourceVersion "0" as no precondition, on PUT, status PUT and patches', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('put-zero', { a: '1' }))).body;
    const r = await t.put(`${CONFIGMAPS}/put-zero`, { ...configMap('put-zero', { a: '2' }), metadata: { name: 'put-zero', resourceVersion: '0' } });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: '2' });
    expect(Number(r.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const merge = await t.patch(`${CONFIGMAPS}/put-zero`, { metadata: { resourceVersion: '0' }, data: { a: '3' } }, 'application/merge-patch+json');
    expect(merge.status).toBe(200);
    expect(merge.body.data).toEqual({ a: '3' });
    const d = (await t.post(DEPLOYMENTS, deployment('put-zero-status', 1))).body;
    const status = await t.put(`${DEPLOYMENTS}/put-zero-status/status`, {
      ...d,
      metadata: { ...d.metadata, resourceVersion: '0' },
      status: { observedGeneration: 1 },
    });
    expect(status.status).toBe(200);
    expect(status.body.status.observedGeneration).toBe(1);
  });

  it('applies an update carrying the current resourceVersion', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('put-cas', { a: '1' }))).body;
    const r = await t.put(`${CONFIGMAPS}/put-cas`, { ...created, data: { a: '2' } });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: '2' });
    // The same body again is now stale.
    const again = await t.put(`${CONFIGMAPS}/put-cas`, { ...created, data: { a: '3' } });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('Conflict');
    expect((await t.get(`${CONFIGMAPS}/put-cas`)).body.data).toEqual({ a: '2' });
  });

  it('does not let a client change uid or creationTimestamp', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('put-meta'))).body;
    const r = await t.put(`${CONFIGMAPS}/put-meta`, { ...created, metadata: { ...created.metadata, creationTimestamp: '2001-01-01T00:00:00Z' } });
    expect(r.status).toBe(200);
    expect(r.body.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    const uid = await t.put(`${CONFIGMAPS}/put-meta`, { ...r.body, metadata: { ...r.body.metadata, uid: 'another' } });
    expect(uid.status).toBe(409);
  });

  it('answers a no-op update with the stored object and no new resourceVersion', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('put-noop', { a: '1' }))).body;
    const r = await t.put(`${CONFIGMAPS}/put-noop`, created);
    expect(r.status).toBe(200);
    expect(r.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it('writes nothing with dryRun=All', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('put-dry', { a: '1' }))).body;
    const r = await t.put(`${CONFIGMAPS}/put-dry?dryRun=All`, { ...created, data: { a: '2' } });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: '2' });
    expect((await t.get(`${CONFIGMAPS}/put-dry`)).body).toEqual(created);
  });
});

describe('generation', () => {
  it('bumps on spec changes only, not on metadata or status changes', async () => {
    const path = `${DEPLOYMENTS}/gen`;
    const created = (await t.post(DEPLOYMENTS, deployment('gen'))).body;
    expect(created.metadata.generation).toBe(1);

    const labelled = await t.patch(path, { metadata: { labels: { tier: 'front' }, annotations: { note: 'x' } } }, 'application/merge-patch+json');
    expect(labelled.status).toBe(200);
    expect(labelled.body.metadata.generation).toBe(1);

    const status = await t.patch(`${path}/status`, { status: { replicas: 3, observedGeneration: 1 } }, 'application/merge-patch+json');
    expect(status.status).toBe(200);
    expect(status.body.metadata.generation).toBe(1);

    const scaled = await t.patch(path, { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(scaled.body.metadata.generation).toBe(2);

    const image = await t.patch(
      path,
      { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.28' }] } } } },
      'application/strategic-merge-patch+json',
    );
    expect(image.body.metadata.generation).toBe(3);
  });
});

describe('status and spec are written separately', () => {
  it('ignores status in a main-resource update', async () => {
    const created = (await t.post(DEPLOYMENTS, deployment('main-ignores-status'))).body;
    const path = `${DEPLOYMENTS}/main-ignores-status`;
    await t.patch(`${path}/status`, { status: { replicas: 1 } }, 'application/merge-patch+json');
    const current = (await t.get(path)).body;
    const r = await t.put(path, { ...current, spec: { ...current.spec, replicas: 4 }, status: { replicas: 77 } });
    expect(r.status).toBe(200);
    expect(r.body.spec.replicas).toBe(4);
    expect(r.body.status).toEqual({ replicas: 1 });
    const patched = await t.patch(path, { status: { replicas: 55 } }, 'application/merge-patch+json');
    expect(patched.body.status).toEqual({ replicas: 1 });
    expect(created.metadata.uid).toBe(r.body.metadata.uid);
  });

  it('ignores spec and metadata changes in a status update', async () => {
    const path = `${DEPLOYMENTS}/status-ignores-spec`;
    const created = (await t.post(DEPLOYMENTS, deployment('status-ignores-spec', 2))).body;
    const r = await t.put(`${path}/status`, {
      ...created,
      metadata: { ...created.metadata, labels: { sneaky: 'yes' } },
      spec: { ...created.spec, replicas: 9 },
      status: { replicas: 2, readyReplicas: 1 },
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toEqual({ replicas: 2, readyReplicas: 1 });
    expect(r.body.spec.replicas).toBe(2);
    expect(r.body.metadata.generation).toBe(1);
    const stored = (await t.get(path)).body;
    expect(stored.spec.replicas).toBe(2);
    expect(stored.status).toEqual({ replicas: 2, readyReplicas: 1 });
  });

  it('refuses a stale status update with 409', async () => {
    const created = (await t.post(PODS, pod('status-stale'))).body;
    const path = `${PODS}/status-stale`;
    expect((await t.put(`${path}/status`, { ...created, status: { phase: 'Running' } })).status).toBe(200);
    const stale = await t.put(`${path}/status`, { ...created, status: { phase: 'Failed' } });
    expect(stale.status).toBe(409);
    expect((await t.get(path)).body.status.phase).toBe('Running');
  });
});

describe('patch', () => {
  it('applies a JSON merge patch: objects merge, null deletes', async () => {
    await t.post(CONFIGMAPS, configMap('merge', { a: '1', b: '2' }, { keep: 'yes', drop: 'yes' }));
    const r = await t.patch(`${CONFIGMAPS}/merge`, { data: { b: null, c: '3' }, metadata: { labels: { drop: null } } }, 'application/merge-patch+json');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: '1', c: '3' });
    expect(r.body.metadata.labels).toEqual({ keep: 'yes' });
  });

  it('applies a JSON patch (RFC 6902) and refuses a failed test operation with 422', async () => {
    await t.post(CONFIGMAPS, configMap('jsonpatch', { a: '1' }));
    const path = `${CONFIGMAPS}/jsonpatch`;
    const r = await t.patch(
      path,
      [
        { op: 'add', path: '/data/b', value: '2' },
        { op: 'remove', path: '/data/a' },
      ],
      'application/json-patch+json',
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ b: '2' });
    const failed = await t.patch(
      path,
      [
        { op: 'test', path: '/data/b', value: 'nope' },
        { op: 'replace', path: '/data/b', value: '3' },
      ],
      'application/json-patch+json',
    );
    expect(failed.status).toBe(422);
    expect(failed.body.kind).toBe('Status');
    expect((await t.get(path)).body.data).toEqual({ b: '2' });
  });

  it('applies a strategic merge patch: containers merge by name, $setElementOrder orders them', async () => {
    const d = deployment('strategic');
    d.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox', command: ['sleep', '3600'] });
    await t.post(DEPLOYMENTS, d);
    const r = await t.patch(
      `${DEPLOYMENTS}/strategic`,
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }],
              containers: [{ name: 'nginx', image: 'nginx:1.28' }],
            },
          },
        },
      },
      'application/strategic-merge-patch+json',
    );
    expect(r.status).toBe(200);
    const containers = r.body.spec.template.spec.containers;
    expect(containers.map((c: Wire) => c.name)).toEqual(['sidecar', 'nginx']);
    expect(containers[1].image).toBe('nginx:1.28');
    expect(containers[1].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    expect(containers[0].command).toEqual(['sleep', '3600']);
  });

  it('deletes a list element with $patch: delete in a strategic merge patch', async () => {
    const d = deployment('strategic-delete');
    d.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    await t.post(DEPLOYMENTS, d);
    const r = await t.patch(
      `${DEPLOYMENTS}/strategic-delete`,
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      'application/strategic-merge-patch+json',
    );
    expect(r.status).toBe(200);
    expect(r.body.spec.template.spec.containers.map((c: Wire) => c.name)).toEqual(['nginx']);
  });

  it('retries on conflict: concurrent patches all land', async () => {
    await t.post(CONFIGMAPS, configMap('contended'));
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const replies = await Promise.all(keys.map((k) => t.patch(`${CONFIGMAPS}/contended`, { data: { [k]: k } }, 'application/merge-patch+json')));
    expect(replies.map((r) => r.status)).toEqual(keys.map(() => 200));
    expect((await t.get(`${CONFIGMAPS}/contended`)).body.data).toEqual(Object.fromEntries(keys.map((k) => [k, k])));
  });

  it('writes nothing with dryRun=All', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('patch-dry', { a: '1' }))).body;
    const r = await t.patch(`${CONFIGMAPS}/patch-dry?dryRun=All`, { data: { a: '2' } }, 'application/merge-patch+json');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: '2' });
    expect((await t.get(`${CONFIGMAPS}/patch-dry`)).body).toEqual(created);
  });

  it('may not change the name', async () => {
    await t.post(CONFIGMAPS, configMap('rename-me'));
    const r = await t.patch(`${CONFIGMAPS}/rename-me`, { metadata: { name: 'renamed' } }, 'application/merge-patch+json');
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('the name of the object (renamed) does not match the name on the URL (rename-me)');
    expect((await t.get(`${CONFIGMAPS}/renamed`)).status).toBe(404);
    expect((await t.get(`${CONFIGMAPS}/rename-me`)).status).toBe(200);
  });
});

describe('list', () => {
  const NS = '/api/v1/namespaces/paging/configmaps';

  beforeAll(async () => {
    expect((await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging' } })).status).toBe(201);
    for (const n of ['e', 'c', 'a', 'd', 'b']) expect((await t.post(NS, configMap(`cm-${n}`))).status).toBe(201);
  });

  it('returns a List with kind, apiVersion and a resourceVersion, items sorted by name', async () => {
    const r = await t.get(NS);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' });
    expect(r.body.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(r.body.metadata.continue).toBeUndefined();
    expect(names(r.body)).toEqual(['cm-a', 'cm-b', 'cm-c', 'cm-d', 'cm-e']);
  });

  it('pages with limit and continue until no continue is left', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await t.get(`${NS}?limit=2${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...names(r.body));
      token = r.body.metadata.continue;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(['cm-a', 'cm-b', 'cm-c', 'cm-d', 'cm-e']);
  });

  it('lists across namespaces at the cluster path', async () => {
    const r = await t.get('/api/v1/configmaps');
    expect(r.status).toBe(200);
    const paging = r.body.items.filter((i: Wire) => i.metadata.namespace === 'paging');
    expect(paging).toHaveLength(5);
  });
});

describe('label selectors', () => {
  const NS = '/api/v1/namespaces/labels/configmaps';

  beforeAll(async () => {
    expect((await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'labels' } })).status).toBe(201);
    await t.post(NS, configMap('web-prod', {}, { app: 'web', env: 'prod' }));
    await t.post(NS, configMap('web-dev', {}, { app: 'web', env: 'dev' }));
    await t.post(NS, configMap('db-prod', {}, { app: 'db', env: 'prod' }));
    await t.post(NS, configMap('bare', {}));
  });

  it.each([
    ['app=web', ['web-dev', 'web-prod']],
    ['app==web', ['web-dev', 'web-prod']],
    ['app!=web', ['bare', 'db-prod']],
    ['env in (prod,staging)', ['db-prod', 'web-prod']],
    ['env notin (prod)', ['bare', 'web-dev']],
    ['app', ['db-prod', 'web-dev', 'web-prod']],
    ['!app', ['bare']],
    ['app=web,env=prod', ['web-prod']],
    ['app in (web, db),env!=dev', ['db-prod', 'web-prod']],
    ['', ['bare', 'db-prod', 'web-dev', 'web-prod']],
  ])('selects %j', async (selector, expected) => {
    const r = await t.get(`${NS}?labelSelector=${encodeURIComponent(selector)}`);
    expect(r.status).toBe(200);
    expect(names(r.body)).toEqual(expected);
  });
});

describe('field selectors', () => {
  const NS = '/api/v1/namespaces/fields';

  beforeAll(async () => {
    expect((await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fields' } })).status).toBe(201);
    await t.post(`${NS}/pods`, pod('on-n1', { nodeName: 'n1' }));
    await t.post(`${NS}/pods`, pod('on-n2', { nodeName: 'n2' }));
    await t.post(`${NS}/pods`, pod('unbound'));
    const running = (await t.get(`${NS}/pods/on-n1`)).body;
    expect((await t.put(`${NS}/pods/on-n1/status`, { ...running, status: { ...running.status, phase: 'Running' } })).status).toBe(200);
    const event = (name: string, involved: Wire) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: involved,
      reason: 'Test',
      message: name,
      type: 'Normal',
    });
    await t.post(`${NS}/events`, event('ev-pod', { kind: 'Pod', name: 'on-n1', namespace: 'fields', uid: 'u-1' }));
    await t.post(`${NS}/events`, event('ev-deploy', { kind: 'Deployment', name: 'web', namespace: 'fields', uid: 'u-2' }));
  });

  it.each([
    ['pods', 'metadata.name=on-n2', ['on-n2']],
    ['pods', 'metadata.name!=on-n2', ['on-n1', 'unbound']],
    ['pods', 'spec.nodeName=n1', ['on-n1']],
    ['pods', 'spec.nodeName=', ['unbound']],
    ['pods', 'spec.nodeName!=', ['on-n1', 'on-n2']],
    ['pods', 'status.phase=Running', ['on-n1']],
    ['pods', 'status.phase!=Succeeded,status.phase!=Failed,spec.nodeName=n1', ['on-n1']],
    ['pods', 'status.phase==Pending', ['on-n2', 'unbound']],
    ['events', 'involvedObject.name=on-n1,involvedObject.namespace=fields,involvedObject.uid=u-1', ['ev-pod']],
    ['events', 'involvedObject.kind=Deployment', ['ev-deploy']],
    ['events', 'involvedObject.uid=u-9', []],
  ])('on %s selects %j', async (resource, selector, expected) => {
    const r = await t.get(`${NS}/${resource}?fieldSelector=${encodeURIComponent(selector)}`);
    expect(r.status).toBe(200);
    expect(names(r.body)).toEqual(expected);
  });

  it('selects pods by node across namespaces', async () => {
    const r = await t.get(`/api/v1/pods?fieldSelector=${encodeURIComponent('spec.nodeName=n2')}`);
    expect(names(r.body)).toEqual(['on-n2']);
  });
});

describe('deletecollection', () => {
  const NS = '/api/v1/namespaces/sweep/configmaps';

  it('deletes what the selector matches and nothing else', async () => {
    expect((await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sweep' } })).status).toBe(201);
    await t.post(NS, configMap('old-1', {}, { gen: 'old' }));
    await t.post(NS, configMap('old-2', {}, { gen: 'old' }));
    await t.post(NS, configMap('new-1', {}, { gen: 'new' }));
    const r = await t.del(`${NS}?labelSelector=gen%3Dold`);
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('ConfigMapList');
    expect(names(r.body)).toEqual(['old-1', 'old-2']);
    expect(names((await t.get(NS)).body)).toEqual(['new-1']);
  });

  it('writes nothing with dryRun=All', async () => {
    const r = await t.del(`${NS}?dryRun=All`);
    expect(r.status).toBe(200);
    expect(names((await t.get(NS)).body)).toEqual(['new-1']);
  });
});
