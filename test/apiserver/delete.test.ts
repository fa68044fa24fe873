/**
 * Deletion as Kubernetes does it: graceful pod deletion, finalizers holding
 * objects, propagation policies, preconditions, and namespaces that
 * terminate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configMap, CONFIGMAPS, deployment, DEPLOYMENTS, pod, PODS, startApi, type TestApi } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

describe('graceful pod deletion', () => {
  it('marks a pod bound to a node with deletionTimestamp and the default 30 s grace, and keeps it', async () => {
    const created = (await t.post(PODS, pod('bound', { nodeName: 'n1' }))).body;
    const before = Date.now();
    const r = await t.del(`${PODS}/bound`, { propagationPolicy: 'Background' });
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('Pod');
    expect(r.body.metadata.deletionGracePeriodSeconds).toBe(30);
    const deadline = Date.parse(r.body.metadata.deletionTimestamp);
    expect(deadline).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 29_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 31_000);
    expect(r.body.metadata.generation).toBe(created.metadata.generation + 1);
    const stored = await t.get(`${PODS}/bound`);
    expect(stored.status).toBe(200);
    expect(stored.body.metadata.deletionTimestamp).toBe(r.body.metadata.deletionTimestamp);
  });

  it("uses the pod's terminationGracePeriodSeconds, and a later delete may shorten the grace but not extend it", async () => {
    const p = pod('short-grace', { nodeName: 'n1' });
    p.spec.terminationGracePeriodSeconds = 10;
    await t.post(PODS, p);
    const first = await t.del(`${PODS}/short-grace`);
    expect(first.body.metadata.deletionGracePeriodSeconds).toBe(10);
    const longer = await t.del(`${PODS}/short-grace?gracePeriodSeconds=60`);
    expect(longer.status).toBe(200);
    expect(longer.body.metadata.deletionGracePeriodSeconds).toBe(10);
    expect(longer.body.metadata.deletionTimestamp).toBe(first.body.metadata.deletionTimestamp);
    const shorter = await t.del(`${PODS}/short-grace?gracePeriodSeconds=5`);
    expect(shorter.body.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(Date.parse(shorter.body.metadata.deletionTimestamp)).toBeLessThan(Date.parse(first.body.metadata.deletionTimestamp));
  });

  it('removes a bound pod at once with gracePeriodSeconds=0 (what the agent sends once containers stopped)', async () => {
    await t.post(PODS, pod('force', { nodeName: 'n1' }));
    expect((await t.del(`${PODS}/force`)).status).toBe(200);
    const r = await t.del(`${PODS}/force`, { gracePeriodSeconds: 0 });
    expect(r.status).toBe(200);
    expect((await t.get(`${PODS}/force`)).status).toBe(404);
  });

  it('removes an unbound pod at once', async () => {
    await t.post(PODS, pod('unbound'));
    const r = await t.del(`${PODS}/unbound`);
    expect(r.status).toBe(200);
    expect(r.body.metadata.name).toBe('unbound');
    expect((await t.get(`${PODS}/unbound`)).status).toBe(404);
  });

  it('refuses a negative grace period with 400 and deletes nothing', async () => {
    await t.post(PODS, pod('negative-grace'));
    const r = await t.del(`${PODS}/negative-grace?gracePeriodSeconds=-1`);
    expect(r.status).toBe(400);
    expect((await t.get(`${PODS}/negative-grace`)).status).toBe(200);
  });

  it('deletes nothing with dryRun=All', async () => {
    await t.post(PODS, pod('dry-delete'));
    const r = await t.del(`${PODS}/dry-delete?dryRun=All`);
    expect(r.status).toBe(200);
    expect((await t.get(`${PODS}/dry-delete`)).status).toBe(200);
  });
});

describe('finalizers', () => {
  it('keep a deleted object until the last one is removed', async () => {
    const cm = configMap('held');
    cm.metadata.finalizers = ['example.com/hold', 'example.com/second'];
    await t.post(CONFIGMAPS, cm);
    const r = await t.del(`${CONFIGMAPS}/held`);
    expect(r.status).toBe(200);
    expect(r.body.metadata.deletionTimestamp).toBeDefined();
    expect(r.body.metadata.finalizers).toEqual(['example.com/hold', 'example.com/second']);
    expect((await t.get(`${CONFIGMAPS}/held`)).status).toBe(200);

    const one = await t.patch(`${CONFIGMAPS}/held`, [{ op: 'remove', path: '/metadata/finalizers/0' }], 'application/json-patch+json');
    expect(one.status).toBe(200);
    expect((await t.get(`${CONFIGMAPS}/held`)).body.metadata.finalizers).toEqual(['example.com/second']);

    const last = await t.patch(`${CONFIGMAPS}/held`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    expect(last.status).toBe(200);
    expect((await t.get(`${CONFIGMAPS}/held`)).status).toBe(404);
  });

  it('may not be added to an object that is being deleted', async () => {
    const cm = configMap('no-new-finalizers');
    cm.metadata.finalizers = ['example.com/hold'];
    await t.post(CONFIGMAPS, cm);
    await t.del(`${CONFIGMAPS}/no-new-finalizers`);
    const r = await t.patch(
      `${CONFIGMAPS}/no-new-finalizers`,
      { metadata: { finalizers: ['example.com/hold', 'example.com/late'] } },
      'application/merge-patch+json',
    );
    expect(r.status).toBe(422);
    expect(r.body.details.causes[0].field).toBe('metadata.finalizers');
  });
});

describe('propagation policies', () => {
  it('Foreground adds the foregroundDeletion finalizer and keeps the owner', async () => {
    await t.post(DEPLOYMENTS, deployment('fg'));
    const r = await t.del(`${DEPLOYMENTS}/fg`, { propagationPolicy: 'Foreground' });
    expect(r.status).toBe(200);
    expect(r.body.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(r.body.metadata.deletionTimestamp).toBeDefined();
    expect((await t.get(`${DEPLOYMENTS}/fg`)).status).toBe(200);
  });

  it('Orphan adds the orphan finalizer, also through the query parameter', async () => {
    await t.post(DEPLOYMENTS, deployment('orphan'));
    const r = await t.del(`${DEPLOYMENTS}/orphan?propagationPolicy=Orphan`);
    expect(r.status).toBe(200);
    expect(r.body.metadata.finalizers).toEqual(['orphan']);
  });

  it('orphanDependents=true means Orphan', async () => {
    await t.post(DEPLOYMENTS, deployment('orphan-legacy'));
    const r = await t.del(`${DEPLOYMENTS}/orphan-legacy`, { orphanDependents: true });
    expect(r.body.metadata.finalizers).toEqual(['orphan']);
  });

  it('Background deletes at once', async () => {
    await t.post(DEPLOYMENTS, deployment('bg'));
    const r = await t.del(`${DEPLOYMENTS}/bg`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    expect(r.status).toBe(200);
    expect((await t.get(`${DEPLOYMENTS}/bg`)).status).toBe(404);
  });
});

describe('preconditions', () => {
  it('refuses a delete whose uid precondition does not match with 409 and deletes nothing', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('pre-uid'))).body;
    const r = await t.del(`${CONFIGMAPS}/pre-uid`, { preconditions: { uid: 'not-the-uid' } });
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('Conflict');
    expect(r.body.message).toBe(
      `Operation cannot be fulfilled on configmaps "pre-uid": Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${created.metadata.uid}`,
    );
    expect((await t.get(`${CONFIGMAPS}/pre-uid`)).status).toBe(200);
    expect((await t.del(`${CONFIGMAPS}/pre-uid`, { preconditions: { uid: created.metadata.uid } })).status).toBe(200);
  });

  it('refuses a delete whose resourceVersion precondition is stale', async () => {
    const created = (await t.post(CONFIGMAPS, configMap('pre-rv'))).body;
    await t.patch(`${CONFIGMAPS}/pre-rv`, { data: { x: 'y' } }, 'application/merge-patch+json');
    const r = await t.del(`${CONFIGMAPS}/pre-rv`, { preconditions: { resourceVersion: created.metadata.resourceVersion } });
    expect(r.status).toBe(409);
    expect((await t.get(`${CONFIGMAPS}/pre-rv`)).status).toBe(200);
  });
});

describe('namespace deletion', () => {
  it('puts the namespace in Terminating, and creating in it is 403 Forbidden', async () => {
    expect((await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } })).status).toBe(201);
    expect((await t.post('/api/v1/namespaces/doomed/configmaps', configMap('inside'))).status).toBe(201);

    const r = await t.del('/api/v1/namespaces/doomed');
    expect(r.status).toBe(200);
    expect(r.body.status.phase).toBe('Terminating');
    expect(r.body.metadata.deletionTimestamp).toBeDefined();
    expect(r.body.spec.finalizers).toEqual(['kubernetes']);
    expect((await t.get('/api/v1/namespaces/doomed')).body.status.phase).toBe('Terminating');

    const refused = await t.post('/api/v1/namespaces/doomed/configmaps', configMap('late'));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403 });
    expect(refused.body.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    expect(refused.body.details).toEqual({
      name: 'late',
      kind: 'configmaps',
      causes: [{ reason: 'NamespaceTerminating', message: 'namespace doomed is being terminated', field: 'metadata.namespace' }],
    });
    expect((await t.get('/api/v1/namespaces/doomed/configmaps/late')).status).toBe(404);
    // Existing content can still be read and changed.
    expect((await t.patch('/api/v1/namespaces/doomed/configmaps/inside', { data: { a: 'b' } }, 'application/merge-patch+json')).status).toBe(200);
  });

  it.each(['default', 'kube-system', 'kube-public', 'kube-node-lease'])(
    'refuses to delete the system namespace %s with 403, as NamespaceLifecycle does',
    async (name) => {
      for (const q of ['', '?dryRun=All']) {
        const r = await t.del(`/api/v1/namespaces/${name}${q}`);
        expect(r.status).toBe(403);
        expect(r.body).toMatchObject({
          reason: 'Forbidden',
          message: `namespaces "${name}" is forbidden: this namespace may not be deleted`,
          details: { name, kind: 'namespaces' },
        });
      }
      const ns = (await t.get(`/api/v1/namespaces/${name}`)).body;
      expect(ns.status.phase).toBe('Active');
      expect(ns.metadata.deletionTimestamp).toBeUndefined();
    },
  );

  it('goes once its finalizers are cleared through /finalize', async () => {
    await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'finalized' } });
    await t.del('/api/v1/namespaces/finalized');
    const current = (await t.get('/api/v1/namespaces/finalized')).body;
    const r = await t.put('/api/v1/namespaces/finalized/finalize', { ...current, spec: { finalizers: [] } });
    expect(r.status).toBe(200);
    expect((await t.get('/api/v1/namespaces/finalized')).status).toBe(404);
  });

  it('labels every namespace with its name', async () => {
    const r = await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'labelled' } });
    expect(r.body.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'labelled' });
    expect(r.body.status).toEqual({ phase: 'Active' });
  });
});
