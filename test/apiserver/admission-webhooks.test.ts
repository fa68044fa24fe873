/**
 * The webhook dispatchers' logic, against the real HTTPS test webhook where a
 * call is made: kube's rule matching, a dry run refused for a webhook with
 * side effects, and IfNeeded reinvocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import type { AdmissionAttributes } from '#lib/apiserver/admission/attributes';
import { ruleMatches } from '#lib/apiserver/admission/matching';
import { dispatchMutating, dispatchValidating, type DispatchContext, type Hook } from '#lib/apiserver/admission/webhooks';
import { StatusError } from '#lib/api/errors';
import { CONFIGMAPS, NAMESPACES, PODS } from '#lib/kinds/resources';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

let server: WebhookServer;

beforeAll(async () => {
  server = await startWebhookServer();
});

afterAll(async () => {
  await server?.close();
});

const cm: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } };

function attrs(extra: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  return {
    operation: 'CREATE',
    rt: CONFIGMAPS,
    name: 'c',
    namespace: 'default',
    object: cm,
    user: { name: 'alice', groups: ['system:authenticated'] },
    dryRun: false,
    ...extra,
  };
}

function ctx(): DispatchContext {
  return {
    warnings: [],
    namespaceLabels: async () => ({}),
    resolve: async () => {
      throw new Error('no services here');
    },
  };
}

function hook(name: string, path: string, extra: Record<string, unknown> = {}): Hook {
  return {
    configuration: name,
    webhook: {
      name,
      clientConfig: { url: server.url(path), caBundle: server.caBundle },
      rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: '*' }],
      failurePolicy: 'Fail',
      sideEffects: 'None',
      timeoutSeconds: 5,
      admissionReviewVersions: ['v1'],
      ...extra,
    },
  };
}

describe('rule matching', () => {
  const rule = (resources: string[], scope = '*') => ({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources, scope });
  it('reads *, */*, subresources and scope as kube does', () => {
    const status = attrs({ rt: PODS, subresource: 'status' });
    expect(ruleMatches(rule(['*']), attrs(), 'Equivalent')).toBe(true);
    expect(ruleMatches(rule(['*']), status, 'Equivalent')).toBe(false);
    expect(ruleMatches(rule(['*/*']), status, 'Equivalent')).toBe(true);
    expect(ruleMatches(rule(['pods/status']), status, 'Equivalent')).toBe(true);
    expect(ruleMatches(rule(['pods']), status, 'Equivalent')).toBe(false);
    expect(ruleMatches(rule(['configmaps'], 'Cluster'), attrs(), 'Equivalent')).toBe(false);
    const ns = attrs({ rt: NAMESPACES, name: 'x', namespace: '' });
    expect(ruleMatches(rule(['namespaces'], 'Namespaced'), ns, 'Equivalent')).toBe(false);
    expect(ruleMatches(rule(['namespaces'], 'Cluster'), ns, 'Equivalent')).toBe(true);
    expect(ruleMatches({ ...rule(['configmaps']), operations: ['UPDATE'] }, attrs(), 'Equivalent')).toBe(false);
    expect(ruleMatches({ ...rule(['configmaps']), apiVersions: ['v2'] }, attrs(), 'Exact')).toBe(false);
  });
});

describe('the dispatchers', () => {
  it('refuse a dry run that a matching webhook with side effects would see, without calling it', async () => {
    const calls = server.reviews.get('/warn')?.length ?? 0;
    const err = await dispatchValidating([hook('effects.example.com', '/warn', { sideEffects: 'Some' })], attrs({ dryRun: true }), ctx()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).toStatus()).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'admission webhook "effects.example.com" does not support dry run',
    });
    expect(server.reviews.get('/warn')?.length ?? 0).toBe(calls);
  });

  it('reinvoke an IfNeeded webhook once when a later one changed the object', async () => {
    const before = server.reviews.get('/warn')?.length ?? 0;
    const c = ctx();
    const out = await dispatchMutating(
      [hook('a-first.example.com', '/warn', { reinvocationPolicy: 'IfNeeded' }), hook('b-label.example.com', '/label', { reinvocationPolicy: 'Never' })],
      attrs(),
      c,
    );
    expect(out?.metadata.labels).toEqual({ 'webhook.example.com/mutated': 'yes' });
    expect((server.reviews.get('/warn')?.length ?? 0) - before).toBe(2);
    expect(c.warnings).toEqual(['be careful', 'be careful']);
  });
});
