/**
 * networking.k8s.io/v1 in the cloud, from the deployed API bundle on
 * DynamoDB: the default IngressClass `kumo` exists from the cold start, an
 * Ingress without a class gets it (DefaultIngressClass admission), a bad one
 * is refused with kube's message, and a NetworkPolicy write carries the
 * warning that nodes do not enforce it yet.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NOT_ENFORCED_WARNING } from '#lib/kinds/networkpolicy';
import { type ApiModule, type CloudAccount, deployToEmulator, invoke, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();

const NET = '/apis/networking.k8s.io/v1';
const backend = { service: { name: 'web', port: { number: 80 } } };

describe.runIf(account)('Ingress, IngressClass and NetworkPolicy from the deployed API bundle, on the emulator', () => {
  let api: ApiModule;
  const as = (method: string, path: string, body?: unknown) =>
    invoke(api, method, path, { token: account!.adminToken, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    api = await loadBundle<ApiModule>(bundles.api);
  });
  afterAll(async () => account?.dispose());

  it('serves the default class, fills it into an Ingress, refuses a bad one and warns of NetworkPolicy', async () => {
    const kumo = await as('GET', `${NET}/ingressclasses/kumo`);
    expect(kumo.status).toBe(200);
    expect(kumo.body.spec).toEqual({ controller: 'kumo.dev/ingress' });
    expect(kumo.body.metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });

    const ing = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { defaultBackend: backend } };
    const created = await as('POST', `${NET}/namespaces/default/ingresses`, ing);
    expect(created.status).toBe(201);
    expect(created.body.spec.ingressClassName).toBe('kumo');

    const bad = { ...ing, metadata: { name: 'bad' }, spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', backend }] } }] } };
    const refused = await as('POST', `${NET}/namespaces/default/ingresses`, bad);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe(
      'Ingress.networking.k8s.io "bad" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    );
    expect((await as('GET', `${NET}/namespaces/default/ingresses/bad`)).status).toBe(404);

    const np = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny' }, spec: { podSelector: {} } };
    const policy = await as('POST', `${NET}/namespaces/default/networkpolicies`, np);
    expect(policy.status).toBe(201);
    expect(policy.body.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.headers.warning).toBe(`299 - ${JSON.stringify(NOT_ENFORCED_WARNING)}`);
  });
});
