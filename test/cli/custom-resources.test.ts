/**
 * `kumo get`, `describe` and `delete` on custom resources, resolved through
 * the server's discovery (plural, short name, kind, `plural.version.group`),
 * printed as kubectl prints them; `get all` includes custom kinds in the
 * `all` category and no others, with kumo and with kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliCluster, type CliCluster, sideBySide } from './harness.js';

let c: CliCluster;

function crd(plural: string, kind: string, extra: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.example.com}
spec:
  group: example.com
  names: {plural: ${plural}, kind: ${kind}${extra}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns: [{name: Size, type: integer, jsonPath: .spec.size}]
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
`;
}

beforeAll(async () => {
  c = await startCliCluster();
  const manifests = [
    crd('widgets', 'Widget', ', shortNames: [wd], categories: [all]'),
    crd('gadgets', 'Gadget', ''),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n',
  ].join('---\n');
  expect((await c.kubectl(['apply', '-f', '-'], { stdin: manifests })).code).toBe(0);
  expect((await c.kubectl(['wait', '--for=condition=Established', 'crd/widgets.example.com', 'crd/gadgets.example.com', '--timeout=10s'])).code).toBe(0);
  const objects = [
    'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, labels: {tier: front}}\nspec: {size: 3}\n',
    'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 1}\n',
  ].join('---\n');
  expect((await c.kubectl(['apply', '-f', '-'], { stdin: objects })).code).toBe(0);
});

afterAll(async () => {
  await c?.dispose();
});

describe('kumo on custom resources', () => {
  it('gets them by plural, short name, kind and qualified name, as kubectl prints them', async () => {
    for (const args of [
      ['get', 'widgets'],
      ['get', 'wd', 'w1'],
      ['get', 'widget.example.com', '-o', 'name'],
      ['get', 'widgets.v1.example.com', 'w1', '-o', 'wide'],
    ]) {
      const { kumo, kubectl } = await sideBySide(c, args);
      expect(kumo).toEqual(kubectl);
      expect(kumo.code).toBe(0);
    }
    const table = await c.kumo(['get', 'wd']);
    expect(table.stdout).toMatch(/^NAME +SIZE\nw1 +3\n$/);
    const missing = await c.kumo(['get', 'sprockets']);
    expect(missing).toMatchObject({ code: 1, stderr: 'error: the server doesn\'t have a resource type "sprockets"\n' });
  });

  it('describes them with the generic describer', async () => {
    const { kumo, kubectl } = await sideBySide(c, ['describe', 'wd', 'w1']);
    expect(kumo).toEqual(kubectl);
    const out = kumo;
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Name:\s+w1$/m);
    expect(out.stdout).toMatch(/^API Version:\s+example.com\/v1$/m);
    expect(out.stdout).toMatch(/^Kind:\s+Widget$/m);
    expect(out.stdout).toMatch(/^ {2}Size:\s+3$/m);
  });

  it('includes custom kinds of the all category in `get all`, and no others, as kubectl does', async () => {
    const { kumo, kubectl } = await sideBySide(c, ['get', 'all', '-o', 'name']);
    expect(kumo).toEqual(kubectl);
    expect(kumo.stdout).toContain('widget.example.com/w1\n');
    expect(kumo.stdout).not.toContain('gadget');
    expect(kumo.stdout).not.toContain('configmap');
  });

  it('deletes them by short name', async () => {
    expect(await c.kumo(['delete', 'wd', 'w1'])).toMatchObject({ code: 0, stdout: 'widget.example.com "w1" deleted from default namespace\n' });
    expect((await c.kumo(['get', 'widgets'])).stderr).toBe('No resources found in default namespace.\n');
  });
});
