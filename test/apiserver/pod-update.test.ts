/**
 * What defaulting and admission give a pod, and what a replace of the pod
 * from its own manifest keeps (kube's Priority and DefaultTolerationSeconds
 * admission run on updates too), over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pod, PODS, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi({ admission: { defaultTolerationSeconds: 120 } });
});

afterAll(async () => {
  await t?.close();
});

const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 },
];

describe('pod defaults and admission on update', () => {
  it('defaults a volume that names no source to emptyDir, in pods and templates', async () => {
    const manifest = { ...pod('scratch'), spec: { ...pod('scratch').spec, volumes: [{ name: 'scratch' }] } };
    const r = await t.post(PODS, manifest);
    expect(r.status).toBe(201);
    expect(r.body.spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'scratch' },
      spec: { selector: { matchLabels: { app: 's' } }, template: { metadata: { labels: { app: 's' } }, spec: { ...manifest.spec } } },
    };
    const created = await t.post('/apis/apps/v1/namespaces/default/deployments', d);
    expect(created.status).toBe(201);
    expect(created.body.spec.template.spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
  });

  it('sets priority, preemption and the default tolerations on create, and keeps them when the manifest is sent again', async () => {
    const manifest: Wire = { ...pod('replaced', { nodeName: 'node-1' }) };
    const created = (await t.post(PODS, manifest)).body;
    expect(created.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority', tolerations: DEFAULT_TOLERATIONS });

    const changed = { ...manifest, spec: { ...manifest.spec, containers: [{ name: 'nginx', image: 'nginx:1.28' }] } };
    const r = await t.put(`${PODS}/replaced`, changed);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority', tolerations: DEFAULT_TOLERATIONS });
    expect(r.body.spec.containers[0].image).toBe('nginx:1.28');
  });

  it('keeps a toleration a pod tolerates with already, and refuses removing one', async () => {
    const manifest: Wire = { ...pod('tolerant', { nodeName: 'node-1' }) };
    manifest.spec.tolerations = [{ operator: 'Exists' }];
    const created = (await t.post(PODS, manifest)).body;
    // An empty key with every effect covers both node conditions: nothing is added.
    expect(created.spec.tolerations).toEqual([{ operator: 'Exists' }]);

    const r = await t.put(`${PODS}/tolerant`, { ...created, spec: { ...created.spec, tolerations: [] } });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Pod "tolerant" is invalid: spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
    expect((await t.get(`${PODS}/tolerant`)).body.spec.tolerations).toEqual([{ operator: 'Exists' }]);
  });
});
