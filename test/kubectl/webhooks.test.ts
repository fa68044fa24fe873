/**
 * Admission webhooks with the real kubectl against a real HTTPS webhook
 * (test/helpers/webhook-server.ts): registered by url and by a Service
 * without selector whose EndpointSlice points at it; a denial, a mutation and
 * a warning as kubectl shows them; failurePolicy on a timeout and on a
 * garbage answer; dry runs; UPDATE and DELETE with the old object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';
import { kubectlSuite } from './harness.js';

const k = kubectlSuite();
let hooks: WebhookServer;

beforeAll(async () => {
  hooks = await startWebhookServer(['hook.webhooks.svc']);
});

afterAll(async () => {
  await hooks?.close();
});

interface HookSpec {
  name: string;
  path: string;
  via?: 'url' | 'service';
  resources?: string;
  operations?: string;
  failurePolicy?: string;
  timeoutSeconds?: number;
  sideEffects?: string;
  extra?: string;
}

function webhook(h: HookSpec): string {
  const client = h.via === 'service' ? `    service: {namespace: webhooks, name: hook, path: "${h.path}"}` : `    url: "${hooks.url(h.path)}"`;
  return `- name: ${h.name}
  clientConfig:
${client}
    caBundle: ${hooks.caBundle}
  rules:
  - {operations: [${h.operations ?? 'CREATE'}], apiGroups: [""], apiVersions: [v1], resources: [${h.resources ?? 'configmaps'}]}
  namespaceSelector: {matchLabels: {webhooks: "on"}}
  failurePolicy: ${h.failurePolicy ?? 'Fail'}
  timeoutSeconds: ${h.timeoutSeconds ?? 5}
  sideEffects: ${h.sideEffects ?? 'None'}
  admissionReviewVersions: [v1]
${h.extra ?? ''}`;
}

function configuration(kind: 'Mutating' | 'Validating', name: string, ...specs: HookSpec[]): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}WebhookConfiguration
metadata:
  name: ${name}
webhooks:
${specs.map(webhook).join('')}`;
}

function configMap(name: string, ns: string, labels = ''): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${labels ? `  labels: {${labels}}\n` : ''}data: {a: "1"}\n`;
}

async function namespace(name: string): Promise<void> {
  await k.ok(['create', 'namespace', name]);
  await k.ok(['label', 'namespace', name, 'webhooks=on']);
}

describe('admission webhooks', () => {
  it('refuses with the webhook denial, matching only the namespaces its selector names', async () => {
    await namespace('deny');
    await k.ok(['create', '-f', '-'], configuration('Validating', 'deny', { name: 'deny.example.com', path: '/deny' }));
    expect(await k.refused(['create', '-f', '-'], configMap('bad-one', 'deny'))).toBe(
      'Error from server: error when creating "STDIN": admission webhook "deny.example.com" denied the request: objects named bad-* are not allowed',
    );
    expect(await k.kubectl(['get', 'configmap', 'bad-one', '-n', 'deny'])).toMatchObject({ code: 1 });
    await k.ok(['create', '-f', '-'], configMap('good-one', 'deny'));
    // The namespace without the label is not matched.
    await k.ok(['create', 'namespace', 'unlabelled']);
    await k.ok(['create', '-f', '-'], configMap('bad-elsewhere', 'unlabelled'));

    const review = hooks.reviews.get('/deny')!.at(-1)!.request as Record<string, unknown>;
    expect(review).toMatchObject({
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      name: 'good-one',
      namespace: 'deny',
      operation: 'CREATE',
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    });
    expect((review.userInfo as { username: string }).username).not.toBe('');
    await k.ok(['delete', 'validatingwebhookconfiguration', 'deny']);
  });

  it('applies a mutating webhook reached through a Service without selector and its EndpointSlice', async () => {
    await namespace('webhooks');
    await k.ok(
      ['create', '-f', '-'],
      `apiVersion: v1
kind: Service
metadata: {name: hook, namespace: webhooks}
spec:
  ports: [{name: https, port: 443, targetPort: ${hooks.port}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: hook-1
  namespace: webhooks
  labels: {kubernetes.io/service-name: hook}
addressType: IPv4
ports: [{name: https, port: ${hooks.port}, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`,
    );
    await k.ok(['create', '-f', '-'], configuration('Mutating', 'label', { name: 'label.example.com', path: '/label', via: 'service' }));
    await k.ok(['create', '-f', '-'], configMap('mutated', 'webhooks'));
    expect(JSON.parse(await k.ok(['get', 'configmap', 'mutated', '-n', 'webhooks', '-o', 'json'])).metadata.labels).toEqual({
      'webhook.example.com/mutated': 'yes',
    });
    // A Service with no endpoint is a call failure, under failurePolicy Fail.
    await k.ok(['delete', 'endpointslice', 'hook-1', '-n', 'webhooks']);
    expect(await k.refused(['create', '-f', '-'], configMap('unreachable', 'webhooks'))).toContain(
      `Internal error occurred: failed calling webhook "label.example.com": failed to call webhook: Post "https://hook.webhooks.svc:443/label?timeout=5s": no endpoints available for service "hook"`,
    );
    await k.ok(['delete', 'mutatingwebhookconfiguration', 'label']);
  });

  it('passes a webhook warning to kubectl and sends dry runs to side-effect-free webhooks', async () => {
    await namespace('warn');
    await k.ok(['create', '-f', '-'], configuration('Validating', 'warn', { name: 'warn.example.com', path: '/warn', sideEffects: 'NoneOnDryRun' }));
    const r = await k.kubectl(['create', '-f', '-', '--dry-run=server'], { stdin: configMap('warned', 'warn') });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: be careful');
    expect((hooks.reviews.get('/warn')!.at(-1)!.request as { dryRun: boolean }).dryRun).toBe(true);
    expect(await k.kubectl(['get', 'configmap', 'warned', '-n', 'warn'])).toMatchObject({ code: 1 });
    await k.ok(['delete', 'validatingwebhookconfiguration', 'warn']);
  });

  it('follows failurePolicy on a timeout and on a garbage answer, naming the webhook', async () => {
    await namespace('failing');
    await k.ok(
      ['create', '-f', '-'],
      configuration(
        'Validating',
        'ignored',
        { name: 'slow-ignored.example.com', path: '/slow', timeoutSeconds: 1, failurePolicy: 'Ignore' },
        { name: 'garbage-ignored.example.com', path: '/garbage', failurePolicy: 'Ignore' },
      ),
    );
    await k.ok(['create', '-f', '-'], configMap('ignored', 'failing'));
    await k.ok(['create', '-f', '-'], configuration('Validating', 'slow', { name: 'slow.example.com', path: '/slow', timeoutSeconds: 1 }));
    expect(await k.refused(['create', '-f', '-'], configMap('timed-out', 'failing'))).toBe(
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "${hooks.url('/slow')}?timeout=1s": context deadline exceeded`,
    );
    await k.ok(['delete', 'validatingwebhookconfiguration', 'slow']);
    await k.ok(['create', '-f', '-'], configuration('Validating', 'garbage', { name: 'garbage.example.com', path: '/garbage' }));
    expect(await k.refused(['create', '-f', '-'], configMap('garbled', 'failing'))).toContain(
      'Internal error occurred: failed calling webhook "garbage.example.com": failed to call webhook: couldn\'t get version/kind; json parse error:',
    );
    expect(await k.kubectl(['get', 'configmap', 'timed-out', '-n', 'failing'])).toMatchObject({ code: 1 });
    expect(await k.kubectl(['get', 'configmap', 'garbled', '-n', 'failing'])).toMatchObject({ code: 1 });
    // The configurations themselves are never sent to webhooks: the broken one can be removed.
    await k.ok(['delete', 'validatingwebhookconfiguration', 'garbage', 'ignored']);
  });

  it('sends UPDATE and DELETE with the old object, and matchConditions choose what is sent', async () => {
    await namespace('changes');
    await k.ok(['create', '-f', '-'], configMap('bad-kept', 'changes', 'keep: "yes"'));
    await k.ok(
      ['create', '-f', '-'],
      configuration('Validating', 'changes', {
        name: 'changes.example.com',
        path: '/deny',
        operations: 'UPDATE, DELETE',
        extra: `  matchConditions:
  - name: kept-only
    expression: "request.operation == 'DELETE' ? has(oldObject.metadata.labels) : has(object.metadata.labels)"
`,
      }),
    );
    expect(await k.refused(['label', 'configmap', 'bad-kept', '-n', 'changes', 'more=1'])).toContain(
      'admission webhook "changes.example.com" denied the request: objects named bad-* are not allowed',
    );
    const update = hooks.reviews.get('/deny')!.at(-1)!.request as { operation: string; oldObject: { metadata: { labels: object } } };
    expect(update.operation).toBe('UPDATE');
    expect(update.oldObject.metadata.labels).toEqual({ keep: 'yes' });
    expect(await k.refused(['delete', 'configmap', 'bad-kept', '-n', 'changes'])).toContain('admission webhook "changes.example.com" denied the request');
    const del = hooks.reviews.get('/deny')!.at(-1)!.request as { operation: string; object: unknown; options: { kind: string } };
    expect(del).toMatchObject({ operation: 'DELETE', object: null, options: { kind: 'DeleteOptions' } });
    // Without labels the matchCondition is false: the webhook is not called.
    const calls = hooks.reviews.get('/deny')!.length;
    await k.ok(['create', '-f', '-'], configMap('bad-free', 'changes'));
    await k.ok(['delete', 'configmap', 'bad-free', '-n', 'changes']);
    expect(hooks.reviews.get('/deny')!.length).toBe(calls);
    await k.ok(['delete', 'validatingwebhookconfiguration', 'changes']);
  });
});
