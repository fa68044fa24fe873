/**
 * `kumo up --admission-config`: the same PodSecurityConfiguration (or
 * AdmissionConfiguration) file kube-apiserver reads sets the cluster's Pod
 * Security defaults; a bad file is one line on stderr and nothing starts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUMO_BIN, ensureBuilt, run } from './harness.js';

describe('kumo up --admission-config', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'kumo-up-admission-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad configuration in one line, starting nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: strict\n');
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir };
    const r = await run(process.execPath, [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, 'bad-data'), '--runtime', 'fake', '--admission-config', file], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: --admission-config ${file}: invalid PodSecurityConfiguration: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted\n`);
    expect(r.stdout).not.toContain('API server listening');
  });

  it('enforces the configured default level on every namespace', async () => {
    const file = join(dir, 'admission.yaml');
    writeFileSync(
      file,
      `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline}
`,
    );
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir };
    const child = spawn(process.execPath, [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, 'data'), '--runtime', 'fake', '--nodes', '1', '--admission-config', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`kumo up did not get ready: ${out}`)), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('kumo: ready.')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const pod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'root' }, spec: { hostPID: true, containers: [{ name: 'c', image: 'busybox:1' }] } });
      const r = await run(process.execPath, [KUMO_BIN, 'apply', '-f', '-'], { env, stdin: pod });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('pods "root" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
