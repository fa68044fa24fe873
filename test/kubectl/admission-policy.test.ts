/**
 * ValidatingAdmissionPolicy with the real kubectl: a policy with params,
 * variables and a messageExpression refuses as kube does (nothing stored),
 * Warn shows kubectl a warning, a missing param follows
 * parameterNotFoundAction, and failurePolicy decides an expression error.
 */
import { describe, expect, it } from 'vitest';
import { kubectlSuite } from './harness.js';

const k = kubectlSuite();

function configMap(name: string, ns: string, data: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {${data}}\n`;
}

const POLICY = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: size-limit
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {operations: [CREATE, UPDATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}
    objectSelector: {matchExpressions: [{key: limits, operator: DoesNotExist}]}
  variables:
  - name: size
    expression: "has(object.data) ? size(object.data) : 0"
  validations:
  - expression: "variables.size <= int(params.data.max)"
    messageExpression: "'a ConfigMap may hold at most ' + params.data.max + ' keys, not ' + string(variables.size)"
  - expression: "request.userInfo.username != ''"
`;

function binding(name: string, actions: string, ns: string, extra = ''): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: ${name}
spec:
  policyName: size-limit
  validationActions: [${actions}]
  paramRef: {name: limits, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${ns}}}
${extra}`;
}

describe('ValidatingAdmissionPolicy', () => {
  it('denies with its message, evaluated with params and variables, and stores nothing', async () => {
    await k.ok(['create', 'namespace', 'vap']);
    await k.ok(['label', 'namespace', 'vap', 'kubernetes.io/metadata.name=vap', '--overwrite']);
    await k.ok(['create', '-f', '-'], `${configMap('limits', 'vap', 'max: "2"').replace('metadata: {', 'metadata: {labels: {limits: "yes"}, ')}`);
    await k.ok(['create', '-f', '-'], POLICY);
    await k.ok(['create', '-f', '-'], binding('size-limit-deny', 'Deny', 'vap'));
    const err = await k.refused(['create', '-f', '-'], configMap('big', 'vap', 'a: "1", b: "2", c: "3"'));
    // kubectl prints a 422 with kube's causes (no field) as it does for kube-apiserver's.
    expect(err).toBe(
      `The configmaps "big" is invalid: : ValidatingAdmissionPolicy 'size-limit' with binding 'size-limit-deny' denied request: a ConfigMap may hold at most 2 keys, not 3`,
    );
    expect(await k.kubectl(['get', 'configmap', 'big', '-n', 'vap'])).toMatchObject({ code: 1 });
    await k.ok(['create', '-f', '-'], configMap('small', 'vap', 'a: "1"'));
    // An update is checked too.
    expect(await k.refused(['patch', 'configmap', 'small', '-n', 'vap', '-p', '{"data":{"b":"2","c":"3"}}'])).toContain(
      'a ConfigMap may hold at most 2 keys, not 3',
    );
  });

  it('warns through kubectl under Warn, and a missing param denies under parameterNotFoundAction Deny', async () => {
    await k.ok(['create', 'namespace', 'vap-warn']);
    await k.ok(['create', '-f', '-'], `${configMap('limits', 'vap-warn', 'max: "1"').replace('metadata: {', 'metadata: {labels: {limits: "yes"}, ')}`);
    await k.ok(['create', '-f', '-'], binding('size-limit-warn', 'Warn', 'vap-warn'));
    const r = await k.kubectl(['create', '-f', '-'], { stdin: configMap('warned', 'vap-warn', 'a: "1", b: "2"') });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `Warning: Validation failed for ValidatingAdmissionPolicy 'size-limit' with binding 'size-limit-warn': a ConfigMap may hold at most 1 keys, not 2`,
    );

    await k.ok(['create', 'namespace', 'vap-none']);
    await k.ok(['create', '-f', '-'], binding('size-limit-none', 'Deny', 'vap-none'));
    expect(await k.refused(['create', '-f', '-'], configMap('any', 'vap-none', 'a: "1"'))).toContain(
      "ValidatingAdmissionPolicy 'size-limit' with binding 'size-limit-none' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
    );
  });

  it('follows failurePolicy when an expression fails to evaluate', async () => {
    await k.ok(['create', 'namespace', 'vap-fail']);
    const policy = (name: string, failurePolicy: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  failurePolicy: ${failurePolicy}
  matchConstraints:
    resourceRules:
    - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [secrets]}
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: vap-fail}}
  validations:
  - expression: "object.data.missing == 'x'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ${name}}
spec: {policyName: ${name}, validationActions: [Deny]}
`;
    await k.ok(['label', 'namespace', 'vap-fail', 'kubernetes.io/metadata.name=vap-fail', '--overwrite']);
    await k.ok(['create', '-f', '-'], policy('lenient', 'Ignore'));
    await k.ok(['create', 'secret', 'generic', 'first', '-n', 'vap-fail', '--from-literal=a=1']);
    await k.ok(['create', '-f', '-'], policy('strict', 'Fail'));
    expect(await k.refused(['create', 'secret', 'generic', 'second', '-n', 'vap-fail', '--from-literal=a=1'])).toContain(
      "ValidatingAdmissionPolicy 'strict' with binding 'strict' denied request: expression 'object.data.missing == 'x'' resulted in error: No such key: missing",
    );
  });
});
