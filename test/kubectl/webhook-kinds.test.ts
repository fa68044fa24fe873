/**
 * The admissionregistration.k8s.io/v1 kinds with the real kubectl: kube's
 * defaults, its validation messages (nothing stored on a refusal) and
 * kubectl's columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubectlCluster, rows, startKubectlCluster } from './harness.js';

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster({ fakeNodes: { names: [], startDelayMs: 0 } });
});

afterAll(async () => {
  await k?.dispose();
});

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await k.kubectl(args, stdin !== undefined ? { stdin } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function refused(args: string[], stdin?: string): Promise<string> {
  const r = await k.kubectl(args, stdin !== undefined ? { stdin } : {});
  expect(r.code).not.toBe(0);
  return r.stderr.trim();
}

/** kubectl create -f - of a manifest. */
const create = (manifest: string) => ok(['create', '-f', '-'], manifest);

const validating = (name: string, hook: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: ${name}
webhooks:
${hook}`;

describe('webhook configurations', () => {
  it('are defaulted as kube defaults them and listed with NAME WEBHOOKS AGE', async () => {
    await create(`apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: defaults
webhooks:
- name: one.example.com
  clientConfig:
    service: {namespace: default, name: hook}
  rules:
  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  sideEffects: None
  admissionReviewVersions: [v1]
- name: two.example.com
  clientConfig: {url: "https://hook.example.com/mutate"}
  sideEffects: NoneOnDryRun
  admissionReviewVersions: [v1]
`);
    const hook = JSON.parse(await ok(['get', 'mutatingwebhookconfiguration', 'defaults', '-o', 'json'])).webhooks[0];
    expect(hook).toMatchObject({
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      namespaceSelector: {},
      objectSelector: {},
      timeoutSeconds: 10,
      reinvocationPolicy: 'Never',
      clientConfig: { service: { port: 443 } },
      rules: [{ scope: '*' }],
    });
    const table = rows(await ok(['get', 'mutatingwebhookconfigurations']));
    expect(table[0]).toEqual(['NAME', 'WEBHOOKS', 'AGE']);
    expect(table[1]!.slice(0, 2)).toEqual(['defaults', '2']);
  });

  it('refuses what kube refuses, with its messages, and stores nothing', async () => {
    const err = await refused(
      ['create', '-f', '-'],
      validating(
        'bad',
        `- name: short
  clientConfig: {url: "http://hook.example.com/x?y=1"}
  rules:
  - {operations: [PATCH], apiGroups: [""], apiVersions: [v1], resources: ["*", pods]}
  timeoutSeconds: 31
  matchConditions:
  - {name: bad-cel, expression: "object.metadata.name +"}
`,
      ),
    );
    expect(err).toContain('The ValidatingWebhookConfiguration "bad" is invalid:');
    expect(err).toContain('webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots');
    expect(err).toContain('webhooks[0].rules[0].operations[0]: Unsupported value: "PATCH": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"');
    expect(err).toContain(
      `webhooks[0].rules[0].resources: Invalid value: ["*","pods"]: if '*' is present, must not specify other resources without subresources`,
    );
    expect(err).toContain('webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun');
    expect(err).toContain('webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds');
    expect(err).toContain(`webhooks[0].clientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`);
    expect(err).toContain('webhooks[0].clientConfig.url: Invalid value: "y=1": query parameters are not permitted in the URL');
    expect(err).toContain('webhooks[0].matchConditions[0].expression: Invalid value: "object.metadata.name +": compilation failed');
    expect(err).toContain('webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1');
    expect(await k.kubectl(['get', 'validatingwebhookconfiguration', 'bad'])).toMatchObject({ code: 1 });
  });

  it('serves ValidatingAdmissionPolicy and its binding with their columns and checks', async () => {
    await create(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicas
spec:
  matchConstraints:
    resourceRules:
    - {operations: [CREATE, UPDATE], apiGroups: [apps], apiVersions: [v1], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <= 5"
`);
    expect(rows(await ok(['get', 'validatingadmissionpolicies']))).toEqual([
      ['NAME', 'VALIDATIONS', 'PARAMKIND', 'AGE'],
      ['replicas', '1', '<unset>', expect.any(String)],
    ]);
    expect(JSON.parse(await ok(['get', 'validatingadmissionpolicy', 'replicas', '-o', 'json'])).spec).toMatchObject({
      failurePolicy: 'Fail',
      matchConstraints: { matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {} },
    });
    const err = await refused(
      ['create', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: both
spec:
  policyName: replicas
  validationActions: [Deny, Warn]
`,
    );
    expect(err).toContain(
      'spec.validationActions: Invalid value: ["Deny","Warn"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
    );
    await create(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicas
spec:
  policyName: replicas
  validationActions: [Deny]
`);
    expect(rows(await ok(['get', 'validatingadmissionpolicybindings']))).toEqual([
      ['NAME', 'POLICYNAME', 'PARAMREF', 'AGE'],
      ['replicas', 'replicas', '<unset>', expect.any(String)],
    ]);
  });
});
