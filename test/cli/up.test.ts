/**
 * `kumo up` as users run it: the binary serves HTTPS on a free port, writes
 * its context (server, CA, token) into the kubeconfig KUBECONFIG names,
 * answers the other verbs, and stops cleanly on SIGTERM; `--insecure-http`
 * serves plain HTTP on loopback only, refusing web pages; simulated nodes
 * report the ephemeral-storage they are given.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KUMO_BIN, ensureBuilt, run, startKumoUp } from './harness.js';
import { sleep } from '#lib/util/sleep';

interface Kubeconfig {
  'current-context': string;
  clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { user: { token?: string } }[];
}

describe('kumo up', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'kumo-up-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a cluster the other verbs reach through the kubeconfig it writes', async () => {
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir };
    const up = await startKumoUp(['--port', '0', '--data-dir', join(dir, 'data')], env);
    try {
      const config = parse(readFileSync(join(dir, 'kubeconfig'), 'utf8')) as Kubeconfig;
      expect(config['current-context']).toBe('kumo-local');
      const server = config.clusters[0]!.cluster.server;
      expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(config.clusters[0]!.cluster['certificate-authority-data']).toBeTruthy();
      expect(config.users[0]!.user.token).toBeTruthy();
      expect(up.output()).toContain(`kumo: API server listening on ${server}\n`);

      // kumo-system holds the token records (kumo token create works on kumo up too: docs/rbac.md).
      const ns = await run(process.execPath, [KUMO_BIN, 'get', 'ns', '-o', 'name'], { env });
      expect(ns).toEqual({
        code: 0,
        stdout: 'namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\nnamespace/kumo-system\n',
        stderr: '',
      });
    } finally {
      expect(await up.stop()).toBe(0);
    }
    expect(up.output()).toMatch(/kumo: SIGTERM received, shutting down.*\n(kumo: stopping pods, each within its termination grace period\n)?kumo: stopped\n$/);
  });

  it('serves plain HTTP on loopback with --insecure-http, and refuses what a web page sends', async () => {
    const env = { ...process.env, KUBECONFIG: join(dir, 'insecure-kubeconfig'), HOME: dir };
    const up = await startKumoUp(['--insecure-http', '--port', '0', '--data-dir', join(dir, 'insecure'), '--runtime', 'fake', '--nodes', '1'], env);
    try {
      const config = parse(readFileSync(join(dir, 'insecure-kubeconfig'), 'utf8')) as Kubeconfig;
      const server = config.clusters[0]!.cluster.server;
      expect(server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(config.clusters[0]!.cluster['certificate-authority-data']).toBeUndefined();
      expect(config.users[0]!.user).toEqual({});
      expect(up.output()).toContain(`kumo: API server listening on ${server} (plain HTTP without authentication: loopback only, no requests from web pages)\n`);
      expect(await run(process.execPath, [KUMO_BIN, 'get', 'ns', 'default', '-o', 'name'], { env })).toEqual({
        code: 0,
        stdout: 'namespace/default\n',
        stderr: '',
      });

      // What a page on another site can send without a CORS preflight: a text/plain POST.
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pwned' }, spec: { containers: [{ name: 'c', image: 'x', command: ['true'] }] } };
      const res = await fetch(`${server}/api/v1/namespaces/default/pods`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
        body: JSON.stringify(pod),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
      const get = await run(process.execPath, [KUMO_BIN, 'get', 'pod', 'pwned'], { env });
      expect(get).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "pwned" not found\n' });
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });

  it('refuses plain HTTP on an address other machines reach, in one line, creating nothing', async () => {
    const data = join(dir, 'refused');
    const env = { ...process.env, KUBECONFIG: join(dir, 'refused-kubeconfig'), HOME: dir };
    expect(await run(process.execPath, [KUMO_BIN, 'up', '--insecure-http', '--address', '0.0.0.0', '--data-dir', data], { env })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --insecure-http serves without authentication, so only on a loopback address: 0.0.0.0 is not one (use 127.0.0.1, ::1 or localhost)\n',
    });
    expect(await run(process.execPath, [KUMO_BIN, 'up', '--insecure-http', '--tls', '--data-dir', data], { env })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --tls and --insecure-http contradict each other (HTTPS is the default)\n',
    });
    expect(existsSync(data)).toBe(false);
    expect(existsSync(join(dir, 'refused-kubeconfig'))).toBe(false);
  });

  it('keeps everything written across a restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kumo-restart-'));
    const env = { ...process.env, KUBECONFIG: join(home, 'kubeconfig'), HOME: home };
    const args = ['--port', '0', '--data-dir', join(home, 'data'), '--runtime', 'fake', '--nodes', '2'];
    try {
      const first = await startKumoUp(args, env);
      let before: { uid: string; rv: number; pods: string[] };
      try {
        expect((await run(process.execPath, [KUMO_BIN, 'apply', '-f', 'examples/deployment.yaml'], { env })).stdout).toBe(
          'deployment.apps/web-deploy created\n',
        );
        const deadline = Date.now() + 20_000;
        for (;;) {
          const got = await run(process.execPath, [KUMO_BIN, 'get', 'deploy', 'web-deploy', '-o', 'json'], { env });
          if (got.code === 0 && (JSON.parse(got.stdout) as { status?: { readyReplicas?: number } }).status?.readyReplicas === 3) break;
          if (Date.now() > deadline) throw new Error(`web-deploy not ready: ${got.stdout} ${got.stderr}`);
          await sleep(200);
        }
        const d = JSON.parse((await run(process.execPath, [KUMO_BIN, 'get', 'deploy', 'web-deploy', '-o', 'json'], { env })).stdout) as {
          metadata: { uid: string; resourceVersion: string };
        };
        const pods = (await run(process.execPath, [KUMO_BIN, 'get', 'pods', '-o', 'name'], { env })).stdout.trim().split('\n').sort();
        before = { uid: d.metadata.uid, rv: Number(d.metadata.resourceVersion), pods };
        expect(pods).toHaveLength(3);
      } finally {
        expect(await first.stop()).toBe(0);
      }
      // --tls, once needed for HTTPS, is still accepted and changes nothing: the kubeconfig written first still works.
      const second = await startKumoUp([...args, '--tls'], env);
      try {
        const d = JSON.parse((await run(process.execPath, [KUMO_BIN, 'get', 'deploy', 'web-deploy', '-o', 'json'], { env })).stdout) as {
          metadata: { uid: string; resourceVersion: string };
        };
        expect(d.metadata.uid).toBe(before.uid);
        expect(Number(d.metadata.resourceVersion)).toBeGreaterThanOrEqual(before.rv);
        const pods = (await run(process.execPath, [KUMO_BIN, 'get', 'pods', '-o', 'name'], { env })).stdout.trim().split('\n').sort();
        expect(pods).toEqual(before.pods);
        // New writes continue the revision sequence rather than reusing it.
        const manifest = readFileSync('examples/deployment.yaml', 'utf8').replace('replicas: 3', 'replicas: 2');
        expect((await run(process.execPath, [KUMO_BIN, 'apply', '-f', '-'], { env, stdin: manifest })).stdout).toBe('deployment.apps/web-deploy configured\n');
        const after = JSON.parse((await run(process.execPath, [KUMO_BIN, 'get', 'deploy', 'web-deploy', '-o', 'json'], { env })).stdout) as {
          metadata: { resourceVersion: string };
          spec: { replicas: number };
        };
        expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(before.rv);
        expect(after.spec.replicas).toBe(2);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses a bad --admission-config in one line, starting nothing', async () => {
    const file = join(dir, 'bad-admission.yaml');
    writeFileSync(file, 'apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: strict\n');
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig-bad'), HOME: dir };
    const r = await run(
      process.execPath,
      [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, 'bad-data'), '--runtime', 'fake', '--admission-config', file],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: --admission-config ${file}: invalid PodSecurityConfiguration: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted\n`,
    );
    expect(r.stdout).not.toContain('API server listening');
  });

  it("enforces --admission-config's default Pod Security level (kube-apiserver's AdmissionConfiguration file) on every namespace", async () => {
    const file = join(dir, 'admission.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: apiserver.config.k8s.io/v1',
        'kind: AdmissionConfiguration',
        'plugins:',
        '- name: PodSecurity',
        '  configuration:',
        '    defaults: {enforce: baseline}',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig-psa'), HOME: dir };
    const up = await startKumoUp(['--port', '0', '--data-dir', join(dir, 'psa-data'), '--runtime', 'fake', '--nodes', '1', '--admission-config', file], env);
    try {
      const pod = JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'root' },
        spec: { hostPID: true, containers: [{ name: 'c', image: 'busybox:1' }] },
      });
      const r = await run(process.execPath, [KUMO_BIN, 'apply', '-f', '-'], { env, stdin: pod });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('pods "root" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)');
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });

  it('gives simulated nodes the ephemeral-storage --ephemeral-storage says, and refuses one that is not a quantity in one line', async () => {
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig-disk'), HOME: dir };
    const data = join(dir, 'disk-data');
    expect(await run(process.execPath, [KUMO_BIN, 'up', '--runtime', 'fake', '--ephemeral-storage', '12Q', '--data-dir', data], { env })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: invalid --ephemeral-storage: 12Q (a non-negative quantity such as 100Gi)\n',
    });
    expect(existsSync(data)).toBe(false);
    const up = await startKumoUp(['--port', '0', '--data-dir', data, '--runtime', 'fake', '--nodes', '1', '--ephemeral-storage', '20Gi'], env);
    try {
      const r = await run(process.execPath, [KUMO_BIN, 'get', 'node', 'node-1', '-o', 'json'], { env });
      expect(JSON.parse(r.stdout).status.allocatable).toEqual({
        cpu: '4',
        'ephemeral-storage': '20Gi',
        'hugepages-1Gi': '0',
        'hugepages-2Mi': '0',
        memory: '16Gi',
        pods: '110',
      });
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });
});
