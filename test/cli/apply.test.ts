/**
 * `kumo apply`: creates, then reports unchanged, then patches what changed
 * (visible through the API), interoperates with kubectl's client-side apply
 * on the same objects, and refuses bad manifests with one line on stderr
 * without changing anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENTS, PODS } from '#lib/kinds/resources';
import { ROOT, ensureBuilt, startCliCluster, type CliCluster } from './harness.js';

const EXAMPLES = join(ROOT, 'examples');
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Every object's name and resourceVersion: equal snapshots mean nothing was written. */
async function snapshot(c: CliCluster): Promise<string[]> {
  const out: string[] = [];
  for (const rt of [PODS, DEPLOYMENTS]) {
    const list = await c.cluster.client.list(rt, undefined);
    for (const o of list.items) out.push(`${rt.resource}/${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`);
  }
  return out.sort();
}

describe('kumo apply', () => {
  let c: CliCluster;
  beforeAll(async () => {
    await ensureBuilt();
    c = await startCliCluster();
  });
  afterAll(async () => c?.dispose());

  it('creates the seed manifests of examples/, then reports them unchanged (real binary)', async () => {
    const first = await c.kumoBin(['apply', '-f', EXAMPLES]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('deployment.apps/web-deploy created\npod/nginx created\npod/webap1 created\n');

    const pod = await c.cluster.client.get(PODS, 'default', 'nginx');
    expect((pod.spec as { containers: { image: string }[] }).containers[0]!.image).toBe('nginx:latest');
    const probePod = await c.cluster.client.get(PODS, 'default', 'webap1');
    expect((probePod.spec as { containers: { livenessProbe: { httpGet: { path: string } } }[] }).containers[0]!.livenessProbe.httpGet.path).toBe('/healthz');
    const deploy = await c.cluster.client.get(DEPLOYMENTS, 'default', 'web-deploy');
    expect((deploy.spec as { replicas: number }).replicas).toBe(3);
    // The annotation is kubectl's: the manifest as JSON with its namespace and empty annotations.
    expect(pod.metadata.annotations?.[LAST_APPLIED]).toBe(
      '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"nginx","namespace":"default"},"spec":{"containers":[{"image":"nginx:latest","name":"nginx"}]}}\n',
    );

    const before = await snapshot(c);
    const again = await c.kumoBin(['apply', '-f', EXAMPLES]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toBe('deployment.apps/web-deploy unchanged\npod/nginx unchanged\npod/webap1 unchanged\n');
    expect(await snapshot(c)).toEqual(before);
  });

  it('patches a changed manifest: configured, and the change is visible through the API', async () => {
    const manifest = readFileSync(join(EXAMPLES, 'deployment.yaml'), 'utf8').replace('replicas: 3', 'replicas: 2').replace('nginx:1.16', 'nginx:1.17');
    const res = await c.kumo(['apply', '-f', c.file('deploy-v2.yaml', manifest)]);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy configured\n', stderr: '' });
    const d = await c.cluster.client.get(DEPLOYMENTS, 'default', 'web-deploy');
    const spec = d.spec as { replicas: number; template: { spec: { containers: { image: string }[] } } };
    expect(spec.replicas).toBe(2);
    expect(spec.template.spec.containers[0]!.image).toBe('nginx:1.17');
  });

  it('removes what a manifest no longer has (labels, containers, env) and keeps server defaults', async () => {
    const base = readFileSync(join(EXAMPLES, 'deployment.yaml'), 'utf8');
    const rich = base
      .replace('name: web-deploy\n', 'name: web-deploy\n  labels:\n    tier: front\n')
      .replace(
        'image: nginx:1.16',
        'image: nginx:1.16\n          env:\n            - name: A\n              value: "1"\n        - name: side\n          image: busybox',
      );
    expect((await c.kumo(['apply', '-f', c.file('rich.yaml', rich)])).stdout).toBe('deployment.apps/web-deploy configured\n');
    let d = await c.cluster.client.get(DEPLOYMENTS, 'default', 'web-deploy');
    type Spec = { template: { spec: { containers: { name: string; env?: unknown[]; imagePullPolicy?: string }[] } } };
    expect((d.spec as Spec).template.spec.containers.map((x) => x.name)).toEqual(['nginx', 'side']);
    expect(d.metadata.labels).toEqual({ tier: 'front' });

    expect((await c.kumo(['apply', '-f', join(EXAMPLES, 'deployment.yaml')])).stdout).toBe('deployment.apps/web-deploy configured\n');
    d = await c.cluster.client.get(DEPLOYMENTS, 'default', 'web-deploy');
    const containers = (d.spec as Spec).template.spec.containers;
    expect(containers.map((x) => x.name)).toEqual(['nginx']);
    expect(containers[0]!.env).toBeUndefined();
    expect(containers[0]!.imagePullPolicy).toBe('IfNotPresent');
    expect(d.metadata.labels ?? {}).toEqual({});
  });

  it('takes turns with kubectl apply on the same objects', async () => {
    const k = await c.kubectl(['apply', '-f', EXAMPLES]);
    expect(k).toMatchObject({ code: 0, stdout: 'deployment.apps/web-deploy unchanged\npod/nginx unchanged\npod/webap1 unchanged\n' });

    const edited = c.file(
      'nginx-edit.yaml',
      readFileSync(join(EXAMPLES, 'pod.yaml'), 'utf8').replace('name: nginx\nspec', 'name: nginx\n  labels:\n    app: edge\nspec'),
    );
    expect((await c.kubectl(['apply', '-f', edited])).stdout).toBe('pod/nginx configured\n');
    expect((await c.kumo(['apply', '-f', edited])).stdout).toBe('pod/nginx unchanged\n');
    // kumo removes the label kubectl added, using kubectl's last-applied annotation.
    expect((await c.kumo(['apply', '-f', join(EXAMPLES, 'pod.yaml')])).stdout).toBe('pod/nginx configured\n');
    expect((await c.cluster.client.get(PODS, 'default', 'nginx')).metadata.labels ?? {}).toEqual({});
    expect((await c.kubectl(['apply', '-f', join(EXAMPLES, 'pod.yaml')])).stdout).toBe('pod/nginx unchanged\n');
  });

  it('--dry-run=server reports what would happen and writes nothing', async () => {
    const before = await snapshot(c);
    const changed = c.file('dry.yaml', readFileSync(join(EXAMPLES, 'deployment.yaml'), 'utf8').replace('replicas: 3', 'replicas: 7'));
    const res = await c.kumo(['apply', '-f', changed, '--dry-run=server']);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps/web-deploy configured (server dry run)\n', stderr: '' });
    const created = c.file('dry-new.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: dry\nspec:\n  containers:\n  - name: a\n    image: busybox\n');
    expect((await c.kumo(['apply', '-f', created, '--dry-run=server'])).stdout).toBe('pod/dry created (server dry run)\n');
    expect(await snapshot(c)).toEqual(before);
  });

  it('reads JSON from stdin and flattens List kinds', async () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'from-list-a' }, spec: { containers: [{ name: 'a', image: 'busybox' }] } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'from-list-b' }, spec: { containers: [{ name: 'b', image: 'busybox' }] } },
      ],
    };
    const res = await c.kumo(['apply', '-f', '-'], { stdin: JSON.stringify(list) });
    expect(res).toEqual({ code: 0, stdout: 'pod/from-list-a created\npod/from-list-b created\n', stderr: '' });
    expect(await c.cluster.client.find(PODS, 'default', 'from-list-b')).toBeDefined();
  });

  it('puts objects without a namespace into -n, and refuses a manifest naming another one', async () => {
    const plain = c.file('ns-pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: ns-pod\nspec:\n  containers:\n  - name: a\n    image: busybox\n');
    expect(await c.kumo(['apply', '-n', 'kube-public', '-f', plain])).toEqual({ code: 0, stdout: 'pod/ns-pod created\n', stderr: '' });
    expect(await c.cluster.client.find(PODS, 'kube-public', 'ns-pod')).toBeDefined();
    const pinned = c.file('ns-pinned.yaml', readFileSync(plain, 'utf8').replace('name: ns-pod', 'name: ns-pinned\n  namespace: kube-system'));
    expect(await c.kumo(['apply', '-n', 'kube-public', '-f', pinned])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: the namespace from the provided object "kube-system" does not match the namespace "kube-public". You must pass \'--namespace=kube-system\' to perform this operation.\n',
    });
    expect(await c.cluster.client.find(PODS, 'kube-system', 'ns-pinned')).toBeUndefined();
  });

  describe('bad manifests: one line on stderr, exit code 1, nothing changed', () => {
    const pod = (meta: string, spec = '  containers:\n  - name: a\n    image: nginx\n') => `apiVersion: v1\nkind: Pod\nmetadata:\n${meta}spec:\n${spec}`;
    const deployment = (replicas: number, templateApp: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad-deploy\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: ${templateApp}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx\n`;
    const cases: [string, string, RegExp][] = [
      [
        'invalid YAML',
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n',
        /^error: error parsing .*bad-invalid-yaml\.yaml: error converting YAML to JSON: yaml: line \d+: .+\n$/,
      ],
      [
        'a wrong apiVersion',
        pod('  name: x\n').replace('apiVersion: v1', 'apiVersion: v2'),
        /^error: resource mapping not found for name: "x" namespace: "" from ".*": no matches for kind "Pod" in version "v2"\n$/,
      ],
      [
        'an unknown kind',
        pod('  name: x\n').replace('kind: Pod', 'kind: Pud'),
        /^error: resource mapping not found for name: "x" namespace: "" from ".*": no matches for kind "Pud" in version "v1"\n$/,
      ],
      [
        'an invalid name',
        pod('  name: Bad_Name\n'),
        /^The Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of .*\n$/,
      ],
      ['no containers', pod('  name: empty\n', '  containers: []\n'), /^The Pod "empty" is invalid: spec\.containers: Required value\n$/],
      [
        'a selector not matching the template labels',
        deployment(1, 'other'),
        /^The Deployment "bad-deploy" is invalid: spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`\n$/,
      ],
      [
        'negative replicas',
        deployment(-1, 'web'),
        /^The Deployment "bad-deploy" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0\n$/,
      ],
      [
        'an unknown field',
        pod('  name: x\n', '  containers:\n  - name: a\n    image: nginx\n    bogus: 1\n'),
        /^Error from server \(BadRequest\): error when creating ".*": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec\.containers\[0\]\.bogus"\n$/,
      ],
    ];
    for (const [what, text, expected] of cases) {
      it(`refuses ${what}`, async () => {
        const before = await snapshot(c);
        const file = c.file(
          `bad-${what
            .toLowerCase()
            .replace(/\W+/g, '-')
            .replace(/^an?-|-$/g, '')}.yaml`,
          text,
        );
        const res = await c.kumo(['apply', '-f', file]);
        expect(res.code).toBe(1);
        expect(res.stdout).toBe('');
        expect(res.stderr).toMatch(expected);
        expect(res.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
        expect(await snapshot(c)).toEqual(before);
      });
    }

    it('refuses negative replicas on an existing deployment (the patch fails, the object keeps its spec)', async () => {
      const file = c.file('neg-existing.yaml', readFileSync(join(EXAMPLES, 'deployment.yaml'), 'utf8').replace('replicas: 3', 'replicas: -1'));
      const before = await snapshot(c);
      const res = await c.kumo(['apply', '-f', file]);
      expect(res).toMatchObject({ code: 1, stdout: '' });
      expect(res.stderr).toBe('The Deployment "web-deploy" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n');
      expect(await snapshot(c)).toEqual(before);
    });

    it('applies nothing from a directory with one file that does not parse', async () => {
      const before = await snapshot(c);
      c.file('mixed/a.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: mixed-a\nspec:\n  containers:\n  - name: a\n    image: nginx\n');
      c.file('mixed/b.yaml', 'kind: [\n');
      const res = await c.kumo(['apply', '-f', join(c.dir, 'mixed')]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^error: error parsing .*b\.yaml: /);
      expect(await snapshot(c)).toEqual(before);
    });

    it('prints a bad object error like kubectl does for the same file', async () => {
      const file = c.file('bad-name-kubectl.yaml', pod('  name: Bad_Name\n'));
      const [kumo, kubectl] = await Promise.all([c.kumo(['apply', '-f', file]), c.kubectl(['apply', '-f', file])]);
      expect(kumo).toEqual(kubectl);
    });
  });
});
