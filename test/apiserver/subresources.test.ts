/**
 * Subresources: pods/binding (what the scheduler writes), the autoscaling/v1
 * Scale view of workloads (what `kubectl scale` reads and writes), and
 * pods/status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, DEPLOYMENTS, pod, PODS, startApi, type TestApi } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

function binding(name: string, node: string) {
  return { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } };
}

describe('pods/binding', () => {
  it('binds a pod to a node once and answers 201 with a Success Status', async () => {
    await t.post(PODS, pod('to-bind'));
    const r = await t.post(`${PODS}/to-bind/binding`, binding('to-bind', 'n1'));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const bound = (await t.get(`${PODS}/to-bind`)).body;
    expect(bound.spec.nodeName).toBe('n1');
    expect(bound.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
  });

  it('refuses a second binding with 409 Conflict and keeps the first node', async () => {
    await t.post(PODS, pod('bind-twice'));
    expect((await t.post(`${PODS}/bind-twice/binding`, binding('bind-twice', 'n1'))).status).toBe(201);
    const r = await t.post(`${PODS}/bind-twice/binding`, binding('bind-twice', 'n2'));
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Operation cannot be fulfilled on pods/binding "bind-twice": pod bind-twice is already assigned to node "n1"',
      details: { name: 'bind-twice', kind: 'pods/binding' },
    });
    expect((await t.get(`${PODS}/bind-twice`)).body.spec.nodeName).toBe('n1');
  });

  it('lets exactly one of two racing bindings win', async () => {
    await t.post(PODS, pod('raced'));
    const [a, b] = await Promise.all([t.post(`${PODS}/raced/binding`, binding('raced', 'n1')), t.post(`${PODS}/raced/binding`, binding('raced', 'n2'))]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const winner = a.status === 201 ? 'n1' : 'n2';
    expect((await t.get(`${PODS}/raced`)).body.spec.nodeName).toBe(winner);
  });

  it('refuses to bind a pod that is being deleted', async () => {
    const p = pod('bind-deleted');
    p.metadata.finalizers = ['example.com/hold'];
    await t.post(PODS, p);
    await t.del(`${PODS}/bind-deleted`);
    const r = await t.post(`${PODS}/bind-deleted/binding`, binding('bind-deleted', 'n1'));
    expect(r.status).toBe(409);
    expect(r.body.message).toBe(
      'Operation cannot be fulfilled on pods/binding "bind-deleted": pod bind-deleted is being deleted, cannot be assigned to a host',
    );
  });

  it('refuses a binding without a target with 422, and one for a missing pod with 404', async () => {
    await t.post(PODS, pod('no-target'));
    const r = await t.post(`${PODS}/no-target/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'no-target' }, target: {} });
    expect(r.status).toBe(422);
    expect(r.body.details.causes[0].field).toBe('target.name');
    expect((await t.get(`${PODS}/no-target`)).body.spec.nodeName).toBeUndefined();
    expect((await t.post(`${PODS}/ghost/binding`, binding('ghost', 'n1'))).status).toBe(404);
  });

  it('does not let a main-resource update set or change nodeName once bound', async () => {
    await t.post(PODS, pod('bound-immutable'));
    await t.post(`${PODS}/bound-immutable/binding`, binding('bound-immutable', 'n1'));
    const r = await t.patch(`${PODS}/bound-immutable`, { spec: { nodeName: 'n2' } }, 'application/merge-patch+json');
    expect(r.status).toBe(422);
    expect((await t.get(`${PODS}/bound-immutable`)).body.spec.nodeName).toBe('n1');
  });
});

describe('scale', () => {
  it('reads a Deployment as an autoscaling/v1 Scale', async () => {
    const d = (await t.post(DEPLOYMENTS, deployment('web'))).body;
    const r = await t.get(`${DEPLOYMENTS}/web/scale`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: d.metadata.uid,
        resourceVersion: d.metadata.resourceVersion,
        creationTimestamp: d.metadata.creationTimestamp,
      },
      spec: { replicas: 3 },
      status: { replicas: 0, selector: 'app=web' },
    });
  });

  it('scales with a merge patch (kubectl scale) and bumps the generation', async () => {
    await t.post(DEPLOYMENTS, deployment('patch-scale'));
    const r = await t.patch(`${DEPLOYMENTS}/patch-scale/scale`, { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('Scale');
    expect(r.body.spec.replicas).toBe(5);
    const d = (await t.get(`${DEPLOYMENTS}/patch-scale`)).body;
    expect(d.spec.replicas).toBe(5);
    expect(d.metadata.generation).toBe(2);
    expect(r.body.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
  });

  it('scales with a PUT carrying the current resourceVersion, and refuses a stale one with 409', async () => {
    await t.post(DEPLOYMENTS, deployment('put-scale'));
    const scale = (await t.get(`${DEPLOYMENTS}/put-scale/scale`)).body;
    const r = await t.put(`${DEPLOYMENTS}/put-scale/scale`, { ...scale, spec: { replicas: 1 } });
    expect(r.status).toBe(200);
    expect(r.body.spec.replicas).toBe(1);
    const stale = await t.put(`${DEPLOYMENTS}/put-scale/scale`, { ...scale, spec: { replicas: 7 } });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect((await t.get(`${DEPLOYMENTS}/put-scale`)).body.spec.replicas).toBe(1);
  });

  it('refuses negative replicas with 422 and changes nothing', async () => {
    await t.post(DEPLOYMENTS, deployment('negative-scale'));
    const r = await t.patch(`${DEPLOYMENTS}/negative-scale/scale`, { spec: { replicas: -1 } }, 'application/merge-patch+json');
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Scale.autoscaling "negative-scale" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(r.body.details.causes[0].field).toBe('spec.replicas');
    expect((await t.get(`${DEPLOYMENTS}/negative-scale`)).body.spec.replicas).toBe(3);
  });

  it('answers 404 for the scale of a missing Deployment', async () => {
    const r = await t.get(`${DEPLOYMENTS}/missing/scale`);
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('deployments.apps "missing" not found');
  });
});

describe('pods/status', () => {
  it('reads and writes the status while the spec stays as stored', async () => {
    const created = (await t.post(PODS, pod('status-rw'))).body;
    const r = await t.patch(`${PODS}/status-rw/status`, { status: { phase: 'Running', podIP: '10.1.2.3' } }, 'application/merge-patch+json');
    expect(r.status).toBe(200);
    expect(r.body.status).toMatchObject({ phase: 'Running', podIP: '10.1.2.3' });
    const got = await t.get(`${PODS}/status-rw/status`);
    expect(got.body.status.podIP).toBe('10.1.2.3');
    expect(got.body.spec).toEqual(created.spec);
  });
});
