/**
 * Admission webhooks and policies in the cloud, from the deployed API bundle
 * on DynamoDB: a `url` webhook reachable from the API function (here the
 * test's HTTPS webhook on loopback) denies and mutates, and a
 * ValidatingAdmissionPolicy denies, as they do locally.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';
import { type ApiModule, type CloudAccount, deployToEmulator, invoke, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();
let api: ApiModule;
let hooks: WebhookServer;

beforeAll(async () => {
  if (!account) return;
  api = await loadBundle<ApiModule>(bundles.api);
  hooks = await startWebhookServer();
});
afterAll(async () => {
  await hooks?.close();
  await account?.dispose();
});

const ADMISSION = '/apis/admissionregistration.k8s.io/v1';
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

function hook(name: string, path: string) {
  return {
    name,
    clientConfig: { url: hooks.url(path), caBundle: hooks.caBundle },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
  };
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1', b: '2' } });

describe.runIf(account)('admission in the cloud API function', () => {
  it('calls url webhooks and evaluates policies', async () => {
    const as = (method: string, path: string, body?: unknown) =>
      invoke(api, method, path, { token: account!.adminToken, ...(body !== undefined ? { body } : {}) });
    const create = async (resource: string, kind: string, name: string, fields: Record<string, unknown>) =>
      expect(
        (await as('POST', `${ADMISSION}/${resource}`, { apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name }, ...fields })).status,
      ).toBe(201);
    await create('validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', 'deny', { webhooks: [hook('deny.example.com', '/deny')] });
    await create('mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', 'label', { webhooks: [hook('label.example.com', '/label')] });

    const denied = await as('POST', CONFIGMAPS, configMap('bad-cloud'));
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe('admission webhook "deny.example.com" denied the request: objects named bad-* are not allowed');
    expect((await as('GET', `${CONFIGMAPS}/bad-cloud`)).status).toBe(404);

    const created = await as('POST', CONFIGMAPS, configMap('good-cloud'));
    expect(created.status).toBe(201);
    expect(created.body.metadata.labels).toEqual({ 'webhook.example.com/mutated': 'yes' });

    await create('validatingadmissionpolicies', 'ValidatingAdmissionPolicy', 'one-key', {
      spec: {
        matchConstraints: { resourceRules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }] },
        validations: [{ expression: 'size(object.data) <= 1', message: 'one key at most', reason: 'Forbidden' }],
      },
    });
    await create('validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding', 'one-key', {
      spec: { policyName: 'one-key', validationActions: ['Deny'] },
    });
    const refused = await as('POST', CONFIGMAPS, configMap('two-keys'));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      reason: 'Forbidden',
      message: `configmaps "two-keys" is forbidden: ValidatingAdmissionPolicy 'one-key' with binding 'one-key' denied request: one key at most`,
    });
  });
});
