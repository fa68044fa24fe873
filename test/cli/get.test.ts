/**
 * `kumo get` prints what kubectl prints for the same cluster: tables (wide,
 * all namespaces, labels, several kinds), YAML/JSON/name output, and the
 * same errors.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PODS } from '#lib/kinds/resources';
import { ADMIN } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport, type Transport } from '#lib/client/transport';
import { listTable } from '#lib/cli/fetch';
import { KUMO_BIN, ROOT, ensureBuilt, startCliCluster, type CliCluster, sideBySide } from './harness.js';

describe('kumo get', () => {
  let c: CliCluster;
  beforeAll(async () => {
    await ensureBuilt();
    c = await startCliCluster();
    const res = await c.kumo(['apply', '-f', join(ROOT, 'examples')]);
    expect(res.code).toBe(0);
    const labelled = c.file(
      'labelled.yaml',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: labelled\n  namespace: kube-public\n  labels:\n    app: web\n    tier: front\nspec:\n  containers:\n  - name: a\n    image: busybox\n',
    );
    expect((await c.kumo(['apply', '-f', labelled])).code).toBe(0);
  });
  afterAll(async () => c?.dispose());

  it('prints the pods table', async () => {
    const res = await c.kumo(['get', 'pods']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME {5}READY {3}STATUS {4}RESTARTS {3}AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ['nginx', '0/1', 'Pending', '0'],
      ['webap1', '0/1', 'Pending', '0'],
    ]);
  });

  // The same cluster state through both binaries; each pair of runs is retried until the ages agree.
  const sameAsKubectl: string[][] = [
    ['get', 'pods'],
    ['get', 'pods', '-o', 'wide'],
    ['get', 'all'],
    ['get', 'deploy,pods'],
    ['get', 'pod/nginx', 'deployment.apps/web-deploy'],
    ['get', 'pods', '-A', '--show-labels'],
    ['get', 'pods', '-A', '-L', 'app,tier'],
    ['get', 'pods', '-n', 'kube-public', '-l', 'app=web'],
    ['get', 'pods', '--field-selector', 'metadata.name=webap1'],
    ['get', 'ns'],
    ['get', 'deploy', 'web-deploy', '-o', 'yaml'],
    ['get', 'pods', '-o', 'json'],
    ['get', 'pods', 'nginx', 'webap1', '-o', 'yaml'],
    ['get', 'all', '-o', 'name'],
    ['get', 'pods', '-l', 'app=nothing'],
    ['get', 'pods', '-l', 'app=nothing', '-o', 'yaml'],
    ['get', 'nodes'],
    ['get', 'pods', 'nope'],
    ['get', 'pods', 'nope', 'nginx'],
    ['get', 'pods', 'nope', '-o', 'json'],
    ['get', 'foos'],
    ['get', 'pods', '-o', 'wide', '--no-headers'],
  ];
  for (const args of sameAsKubectl) {
    it(`prints what kubectl prints for \`${args.join(' ')}\``, async () => {
      const { kumo, kubectl } = await sideBySide(c, args);
      expect(kumo).toEqual(kubectl);
    });
  }

  it('prints the deployment as YAML with kubectl-style key order and quoting', async () => {
    const res = await c.kumoBin(['get', 'deploy', 'web-deploy', '-o', 'yaml']);
    expect(res.code).toBe(0);
    expect(res.stdout.startsWith('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n')).toBe(true);
    expect(res.stdout).toMatch(/\n {2}creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\n/);
    const obj = parse(res.stdout) as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    expect(obj.spec.replicas).toBe(3);
    expect(obj.spec.template.spec.containers[0]!.image).toBe('nginx:1.16');
  });

  it('says which namespace is empty, on stderr', async () => {
    const res = await c.kumo(['get', 'pods', '-n', 'kube-system']);
    expect(res).toEqual({ code: 0, stdout: '', stderr: 'No resources found in kube-system namespace.\n' });
  });

  it('reports a Status error on one line with exit code 1', async () => {
    expect(await c.kumo(['get', 'pods', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n' });
    expect(await c.kumo(['get', 'foos'])).toEqual({ code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "foos"\n' });
  });

  it('follows list pages', async () => {
    const res = await c.kumo(['get', 'pods', '-A', '--chunk-size', '1', '-o', 'name']);
    expect(res).toEqual({ code: 0, stdout: 'pod/nginx\npod/webap1\npod/labelled\n', stderr: '' });
  });

  it('computes the table itself from a server that answers plain objects', async () => {
    const inner = new InProcessTransport(c.cluster.api, ADMIN);
    const plain: Transport = {
      request: (req) => inner.request({ ...req, accept: 'application/json' }),
      stream: (req) => inner.stream(req),
      bytes: (req) => inner.bytes(req),
    };
    const fromServer = await listTable(new KubeClient(inner), PODS, 'default');
    const computed = await listTable(new KubeClient(plain), PODS, 'default');
    expect(computed.columnDefinitions).toEqual(fromServer.columnDefinitions);
    expect(computed.rows!.map((r) => r.cells.slice(0, 4))).toEqual(fromServer.rows!.map((r) => r.cells.slice(0, 4)));
  });

  it('-w prints the list, then a row for each change, aligned with the header', async () => {
    const child = spawn(process.execPath, [KUMO_BIN, 'get', 'pods', '-w'], { env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => out.includes(text) && (resolve(), true);
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`no "${text}" in: ${out}`)), 15_000);
        child.stdout.on('data', () => check() && clearTimeout(timer));
      });
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    try {
      await waitFor('webap1');
      await c.cluster.client.create(PODS, 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'new' },
        spec: { containers: [{ name: 'a', image: 'busybox' }] },
      });
      await waitFor('new ');
    } finally {
      child.kill('SIGTERM');
    }
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME {5}READY {3}STATUS {4}RESTARTS {3}AGE$/);
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['NAME', 'nginx', 'webap1', 'new']);
    // Widths carry over from the first table, so a shorter name still lines up.
    expect(lines[3]!.indexOf('Pending')).toBe(lines[0]!.indexOf('STATUS'));
  });
});
