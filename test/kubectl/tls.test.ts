/**
 * `kumo up`'s default front door: HTTPS with a self-signed CA written into
 * the kubeconfig and a bearer token, so kubectl, helm, the kumo CLI and
 * @kubernetes/client-node authenticate as they do against the cloud
 * (kubectl sends tokens only over TLS; client-node refuses plain HTTP).
 */
import { spawn } from 'node:child_process';
import { get } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LocalCluster } from '#lib/local/cluster';
import { helmPath, kubectlPath } from '../helpers/kubectl.js';
import { ensureBuilt, KUMO_BIN, run } from '../cli/harness.js';
import { kubeconfigFor, type RunResult } from './harness.js';
import { silentLogger } from '#lib/log/logger';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-tls-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function kubectl(kubeconfig: string, args: string[]): Promise<RunResult> {
  const bin = await kubectlPath();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--cache-dir', join(dir, 'cache'), ...args], { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // kubectl prompts for credentials on a 401 without any: answer with end of input.
    child.stdin.end();
  });
}

describe('TLS and tokens in local mode', () => {
  it('serves kubectl over HTTPS with the CA and token, and refuses requests without them', async () => {
    const dataDir = join(dir, 'data');
    const cluster = new LocalCluster({ dataDir, port: 0, logger: silentLogger, fakeNodes: { names: ['node-1'], startDelayMs: 50 } });
    await cluster.start();
    try {
      expect(cluster.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const good = join(dir, 'good');
      writeFileSync(good, kubeconfigFor(cluster.url, { caData: cluster.caData!, token: cluster.adminToken! }));
      const ok = await kubectl(good, ['get', 'nodes', '-o', 'name']);
      expect(ok).toMatchObject({ code: 0, stdout: 'node/node-1\n' });
      expect(await kubectl(good, ['create', 'configmap', 'over-tls', '--from-literal=a=b'])).toMatchObject({ code: 0, stdout: 'configmap/over-tls created\n' });

      // Without a token the server answers 401 (kubectl then asks for a username, as it does against Kubernetes).
      const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        get(`${cluster.url}/api/v1/namespaces/default/pods`, { ca: Buffer.from(cluster.caData!, 'base64') }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
      expect(status.code).toBe(401);
      expect(JSON.parse(status.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
      const noToken = join(dir, 'no-token');
      writeFileSync(noToken, kubeconfigFor(cluster.url, { caData: cluster.caData! }));
      const anonymous = await kubectl(noToken, ['get', 'pods']);
      expect(anonymous.code).toBe(1);
      expect(anonymous.stdout).toContain('Please enter Username');

      const wrongToken = join(dir, 'wrong-token');
      writeFileSync(wrongToken, kubeconfigFor(cluster.url, { caData: cluster.caData!, token: 'not-the-token' }));
      const refused = await kubectl(wrongToken, ['get', 'pods']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('error: You must be logged in to the server (Unauthorized)');

      const noCA = join(dir, 'no-ca');
      writeFileSync(noCA, kubeconfigFor(cluster.url, { token: cluster.adminToken! }));
      const untrusted = await kubectl(noCA, ['get', 'pods']);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toContain('x509: certificate signed by unknown authority');
    } finally {
      await cluster.stop();
    }

    // A restart on the same data directory keeps the CA and the token: the kubeconfig still works.
    const again = new LocalCluster({ dataDir, port: 0, logger: silentLogger, controllers: false });
    await again.start();
    try {
      const cfg = join(dir, 'again');
      const first = parse(readFileSync(join(dir, 'good'), 'utf8')) as {
        clusters: { cluster: { 'certificate-authority-data': string } }[];
        users: { user: { token: string } }[];
      };
      writeFileSync(cfg, kubeconfigFor(again.url, { caData: first.clusters[0]!.cluster['certificate-authority-data'], token: first.users[0]!.user.token }));
      expect(await kubectl(cfg, ['get', 'cm', 'over-tls', '-o', 'name'])).toMatchObject({ code: 0, stdout: 'configmap/over-tls\n' });
    } finally {
      await again.stop();
    }
  });

  it('kumo up serves HTTPS by default, with a kubeconfig kubectl, helm, the kumo CLI and client-node use as is', async () => {
    await ensureBuilt();
    const kubeconfig = join(dir, 'up-kubeconfig');
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig };
    const child = spawn(process.execPath, [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, 'up-data'), '--runtime', 'fake', '--nodes', '2'], { env });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`kumo up did not get ready:\n${out}`)), 20_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('kumo: ready.')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`kumo up exited ${code}:\n${out}`)));
      });
      const cfg = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
      expect(cfg.clusters[0]!.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cfg.clusters[0]!.cluster['certificate-authority-data']).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(cfg.users[0]!.user.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      // The kubeconfig holds a token: only its owner may read it.
      expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);

      expect(await kubectl(kubeconfig, ['get', 'nodes', '-o', 'name'])).toMatchObject({ code: 0, stdout: 'node/node-1\nnode/node-2\n' });
      expect(await run(process.execPath, [KUMO_BIN, 'get', 'nodes', '-o', 'name'], { env })).toEqual({
        code: 0,
        stdout: 'node/node-1\nnode/node-2\n',
        stderr: '',
      });
      const helm = await run(await helmPath(), ['list', '-n', 'default', '--short'], {
        env: { ...env, HELM_CACHE_HOME: join(dir, 'helm-cache'), HELM_CONFIG_HOME: join(dir, 'helm-config') },
      });
      expect(helm).toEqual({ code: 0, stdout: '', stderr: '' });

      // @kubernetes/client-node refuses plain HTTP without skipTLSVerify; it takes this kubeconfig as written.
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      expect(kc.getCurrentContext()).toBe('kumo-local');
      const namespaces = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
      expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'kumo-system']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
