/**
 * `kumo up` as users run it: the binary serves on a free port, writes its
 * context into the kubeconfig KUBECONFIG names, answers the other verbs,
 * and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KUMO_BIN, ensureBuilt, run } from './harness.js';

describe('kumo up', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'kumo-up-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a cluster the other verbs reach through the kubeconfig it writes', async () => {
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir };
    const child = spawn(process.execPath, [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, 'data')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kumo up did not get ready: ${out}`)), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('kumo: ready.')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`kumo up exited: ${out}`)));
      });
      const config = parse(readFileSync(join(dir, 'kubeconfig'), 'utf8')) as { 'current-context': string; clusters: { cluster: { server: string } }[] };
      expect(config['current-context']).toBe('kumo-local');
      expect(out).toContain(`kumo: API server listening on ${config.clusters[0]!.cluster.server}\n`);

      const ns = await run(process.execPath, [KUMO_BIN, 'get', 'ns', '-o', 'name'], { env });
      expect(ns).toEqual({ code: 0, stdout: 'namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n', stderr: '' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(/kumo: SIGTERM received, shutting down\nkumo: stopped\n$/);
  });
});
