/**
 * CustomResourceDefinitions with the real kubectl: cert-manager's vendored
 * Certificate CRD applied and served (its printer columns in `kubectl get`,
 * its short name, `kubectl explain` from its schema), a small CRD with a
 * default, a CEL rule and the scale subresource, a CRD with several
 * versions, and deletion of a CRD deleting its objects.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite();
const { ok, refused } = k;

const CERTIFICATE_CRD = readFileSync(new URL('../apiextensions/fixtures/certificates.cert-manager.io.yaml', import.meta.url), 'utf8');

const GADGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the gadget should be.
            x-kubernetes-validations:
            - {rule: "self.replicas <= 5", message: "a gadget runs at most 5 replicas"}
            properties:
              size: {type: string, default: medium, description: How big the gadget is.}
              replicas: {type: integer, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;

/** Foo in v1alpha1 (not served), v1beta1 (deprecated, with its own warning), v1 (storage) and v2 (a column of its own). */
const FOO_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: foos.example.com
spec:
  group: example.com
  names: {plural: foos, kind: Foo}
  scope: Namespaced
  versions:
${['v1alpha1', 'v1beta1', 'v1', 'v2']
  .map(
    (v) => `  - name: ${v}
    served: ${v !== 'v1alpha1'}
    storage: ${v === 'v1'}
${v === 'v1beta1' ? '    deprecated: true\n    deprecationWarning: example.com/v1beta1 Foo is deprecated; use example.com/v2\n' : ''}\
${v === 'v2' ? '    additionalPrinterColumns: [{name: Size, type: integer, jsonPath: .spec.size}]\n' : ''}\
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}`,
  )
  .join('\n')}
`;

function certificate(name: string): string {
  return `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: ${name}
spec:
  secretName: ${name}-tls
  dnsNames: [${name}.example.com]
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
`;
}

describe('CustomResourceDefinitions with kubectl', () => {
  it("applies cert-manager's Certificate CRD and serves its objects with its printer columns", async () => {
    expect(await ok(['apply', '-f', '-'], CERTIFICATE_CRD)).toBe('customresourcedefinition.apiextensions.k8s.io/certificates.cert-manager.io created\n');
    await ok(['wait', '--for=condition=Established', 'crd/certificates.cert-manager.io', '--timeout=10s']);
    const crds = rows(await ok(['get', 'crd']));
    expect(crds[0]).toEqual(['NAME', 'CREATED AT']);
    expect(crds[1]).toEqual(['certificates.cert-manager.io', expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)]);

    expect(await ok(['apply', '-f', '-'], certificate('web'))).toBe('certificate.cert-manager.io/web created\n');
    const table = (await ok(['get', 'cert'])).split('\n');
    expect(table[0]).toMatch(/^NAME +READY +SECRET +AGE$/);
    // No status yet: READY's JSONPath finds nothing, a null cell kubectl prints blank, as kube serves it.
    expect(table[1]).toMatch(/^web {12}web-tls +\d+s$/);
    expect(rows(await ok(['get', 'certificates.cert-manager.io', '-o', 'wide']))[0]).toEqual([
      'NAME',
      'READY',
      'SECRET',
      'ISSUER',
      'STATUS',
      'EXPIRATION',
      'AGE',
    ]);
    expect(await ok(['get', 'certificate', 'web', '-o', 'jsonpath={.spec.issuerRef.name}'])).toBe('letsencrypt');
    expect(await ok(['explain', 'certificate.spec.secretName'])).toContain('Name of the Secret resource that will be automatically created and');
  });

  it('defaults a field, refuses a CEL rule with its message, and scales through /scale', async () => {
    await ok(['apply', '-f', '-'], GADGET_CRD);
    await ok(['wait', '--for=condition=Established', 'crd/gadgets.example.com', '--timeout=10s']);
    await ok(['create', '-f', '-'], 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {replicas: 2}\n');
    expect(rows(await ok(['get', 'gd']))).toEqual([
      ['NAME', 'SIZE', 'REPLICAS'],
      ['g1', 'medium', '2'],
    ]);
    expect(await refused(['create', '-f', '-'], 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g2}\nspec: {replicas: 9}\n')).toBe(
      'The Gadget "g2" is invalid: spec: Invalid value: a gadget runs at most 5 replicas',
    );
    expect(await k.kubectl(['get', 'gadget', 'g2'])).toMatchObject({ code: 1 });
    expect(await ok(['scale', 'gadget', 'g1', '--replicas=4'])).toBe('gadget.example.com/g1 scaled\n');
    expect(await ok(['get', 'gadget', 'g1', '-o', 'jsonpath={.spec.replicas}'])).toBe('4');
  });

  it('deletes the objects with their CRD, and serves a recreated CRD afresh', async () => {
    expect(await ok(['apply', '--server-side', '-f', '-'], certificate('api'))).toBe('certificate.cert-manager.io/api serverside-applied\n');
    await ok(['patch', 'certificate', 'api', '--type=json', '-p', '[{"op":"replace","path":"/spec/secretName","value":"api-v2"}]']);
    expect(await ok(['get', 'certificate', 'api', '-o', 'jsonpath={.spec.secretName}'])).toBe('api-v2');
    expect(await ok(['delete', 'crd', 'certificates.cert-manager.io'])).toBe(
      'customresourcedefinition.apiextensions.k8s.io "certificates.cert-manager.io" deleted\n',
    );
    expect(await refused(['get', 'certificates.cert-manager.io'])).toContain(`the server doesn't have a resource type "certificates"`);
    await ok(['apply', '-f', '-'], CERTIFICATE_CRD);
    await ok(['wait', '--for=condition=Established', 'crd/certificates.cert-manager.io', '--timeout=10s']);
    expect(await ok(['get', 'certificates.cert-manager.io', '-A'])).toBe('');
  });

  it("serves each version of a CRD by its qualified name, the preferred one by default, and prints a deprecated version's warning", async () => {
    await ok(['apply', '-f', '-'], FOO_CRD);
    await ok(['wait', '--for=condition=Established', 'crd/foos.example.com', '--timeout=10s']);
    expect(await ok(['create', '-f', '-'], 'apiVersion: example.com/v1\nkind: Foo\nmetadata: {name: f}\nspec: {size: 3}\n')).toBe(
      'foo.example.com/f created\n',
    );
    expect(await ok(['get', 'foos.v1.example.com', 'f', '-o', 'jsonpath={.apiVersion}'])).toBe('example.com/v1');
    expect(await ok(['get', 'foos.v2.example.com', 'f', '-o', 'jsonpath={.apiVersion} {.spec.size}'])).toBe('example.com/v2 3');
    // The preferred version (v2, kube's highest priority) serves the bare name; v2 declares a column v1 does not.
    expect(rows(await ok(['get', 'foos']))).toEqual([
      ['NAME', 'SIZE'],
      ['f', '3'],
    ]);
    expect(rows(await ok(['get', 'foos.v1.example.com']))[0]).toEqual(['NAME', 'AGE']);
    const deprecated = await k.kubectl(['get', 'foos.v1beta1.example.com', 'f', '-o', 'name']);
    expect(deprecated).toMatchObject({ code: 0, stdout: 'foo.example.com/f\n' });
    expect(deprecated.stderr).toBe('Warning: example.com/v1beta1 Foo is deprecated; use example.com/v2\n');
    expect(await refused(['get', 'foos.v1alpha1.example.com'])).toContain(`the server doesn't have a resource type "foos"`);
  });

  it('keeps `kubectl get deployments` on apps while a CRD serves deployments.example.com', async () => {
    const crd = FOO_CRD.replaceAll('foos', 'deployments').replace('kind: Foo', 'kind: Deployment');
    await ok(['apply', '-f', '-'], crd);
    await ok(['wait', '--for=condition=Established', 'crd/deployments.example.com', '--timeout=10s']);
    await ok(['create', 'deployment', 'web', '--image=kumo-test/busybox:1']);
    await ok(['create', '-f', '-'], 'apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: custom}\nspec: {size: 1}\n');
    expect(await ok(['get', 'deployments', '-o', 'name'])).toBe('deployment.apps/web\n');
    expect(await ok(['get', 'deployments.example.com', '-o', 'name'])).toBe('deployment.example.com/custom\n');
    await ok(['delete', 'crd', 'deployments.example.com']);
    expect(await ok(['get', 'deployments', '-o', 'name'])).toBe('deployment.apps/web\n');
  });

  it('installs a helm chart that ships a CRD in crds/ and an object of it in templates/', async () => {
    k.file('chart/Chart.yaml', 'apiVersion: v2\nname: certs\nversion: 0.1.0\n');
    k.file('chart/crds/certificates.yaml', CERTIFICATE_CRD);
    const chart = k.file('chart/templates/certificate.yaml', certificate('{{ .Release.Name }}')).replace(/\/templates\/certificate\.yaml$/, '');
    // The first test's CRD is still there: helm skips a CRD that exists, as it documents; drop it to see helm create it.
    await ok(['delete', 'crd', 'certificates.cert-manager.io']);
    const r = await k.helm(['install', 'billing', chart, '--wait', '--timeout', '60s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await ok(['get', 'certificate', 'billing', '-o', 'jsonpath={.spec.secretName}'])).toBe('billing-tls');
    expect((await k.helm(['uninstall', 'billing'])).code).toBe(0);
    expect(await ok(['get', 'certificates', '-A'])).toBe('');
  });
});
