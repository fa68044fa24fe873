/**
 * The data directory of `kumo up` is its user's alone: the directory 0700
 * (tightened when it existed with the umask's 0755), state.db with its WAL
 * and shared-memory files, tokens, keys and the agents' state files 0600.
 * No Secret value reaches a file in it in the clear: state.db holds Secrets
 * sealed, and the process runtime keeps a container's env (resolved from a
 * secretKeyRef) sealed in its state file, opened again when a restarted
 * agent adopts the process.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PODS, SECRETS } from '#lib/kinds/resources';
import { LocalCluster } from '#lib/local/cluster';
import { uniqueNode } from '../agent/docker.js';
import { FAST_AGENT, podObject, waitPod } from '../agent/harness.js';
import { silentLogger } from '#lib/log/logger';

const root = mkdtempSync(join(tmpdir(), 'kumo-datadir-'));

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every regular file under `dir`, relative to it. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('the data directory', () => {
  it("is its user's alone, and keeps no Secret value in the clear after a process-runtime pod used one", async () => {
    const dataDir = join(root, 'data');
    // Made by an older kumo (or by hand) with the umask's modes.
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'agent-token'), 'an-older-token\n', { mode: 0o644 });
    const node = uniqueNode('private');
    const cluster = new LocalCluster({
      dataDir,
      port: 0,
      logger: silentLogger,
      runtime: 'process',
      nodeNames: [node],
      proxy: false,
      agent: FAST_AGENT,
      resyncIntervalMs: 2_000,
    });
    await cluster.start();
    const value = `s3cr3t-${randomBytes(8).toString('hex')}`;
    try {
      await cluster.client.create(SECRETS, 'default', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db' },
        data: { password: Buffer.from(value).toString('base64') },
      });
      const env = [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }];
      await cluster.client.create(
        PODS,
        'default',
        podObject('uses-secret', { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'none', command: ['sleep', '100000'], env }] }),
      );
      await waitPod(cluster.client, 'uses-secret', (p) => p.status?.phase === 'Running', 'Running');
      const printenv = async () => {
        let out = '';
        const code = await cluster.agents
          .get(node)!
          .exec('default', 'uses-secret', 'app', ['printenv', 'PASSWORD'], { stdin: false, tty: false }, { stdout: (b) => (out += Buffer.from(b).toString()) });
        return { code, out };
      };
      expect(await printenv()).toEqual({ code: 0, out: `${value}\n` });
      // A restarted agent adopts the process and opens its sealed env again.
      await cluster.stopAgent(node);
      await cluster.startAgent(node, 'process');
      await waitPod(cluster.client, 'uses-secret', (p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.restartCount === 0, 'adopted');
      expect(await printenv()).toEqual({ code: 0, out: `${value}\n` });

      const all = files(dataDir);
      expect(all).toEqual(
        expect.arrayContaining([
          'state.db',
          'state.db-wal',
          'state.db-shm',
          'admin-token',
          'agent-token',
          'secrets-encryption-key',
          'tls/ca.key',
          'tls/server.key',
        ]),
      );
      const stateFiles = all.filter((f) => f.endsWith('/state.json'));
      expect(stateFiles.length).toBeGreaterThanOrEqual(2); // the sandbox and the app container
      const leaks = all.filter((f) => {
        const text = readFileSync(join(dataDir, f));
        return text.includes(value) || text.includes(Buffer.from(value).toString('base64'));
      });
      expect(leaks).toEqual([]);

      expect(mode(dataDir)).toBe('700');
      const secretFiles = [
        'state.db',
        'state.db-wal',
        'state.db-shm',
        'admin-token',
        'agent-token',
        'secrets-encryption-key',
        'tls/ca.key',
        'tls/server.key',
        'kumo.pid',
        ...stateFiles,
      ];
      expect(Object.fromEntries(secretFiles.map((f) => [f, mode(join(dataDir, f))]))).toEqual(Object.fromEntries(secretFiles.map((f) => [f, '600'])));
      expect(readFileSync(join(dataDir, 'agent-token'), 'utf8')).toBe('an-older-token\n');
    } finally {
      await cluster.stop();
    }
  });
});
