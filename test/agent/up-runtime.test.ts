/**
 * `kumo up --runtime`: which agent the local cluster runs, said on startup.
 * `fake --nodes 3` gives three simulated nodes; `process` one real node
 * running host processes; a runtime kumo does not know is refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, KUMO_BIN, run } from '../cli/harness.js';
import { waitFor } from '../helpers/wait.js';

describe('kumo up --runtime', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'kumo-up-rt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function up(name: string, args: string[], check: (env: NodeJS.ProcessEnv, out: () => string) => Promise<void>): Promise<string> {
    const env = { ...process.env, KUBECONFIG: join(dir, `${name}.kubeconfig`), HOME: dir };
    const child = spawn(process.execPath, [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, name), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('kumo: ready.'), { timeoutMs: 30_000, what: `kumo up to be ready: ${out}` });
      await check(env, () => out);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    return out;
  }

  it('runs three simulated nodes with --runtime fake --nodes 3', async () => {
    const out = await up('fake', ['--runtime', 'fake', '--nodes', '3'], async (env) => {
      const nodes = await waitFor(async () => {
        const r = await run(process.execPath, [KUMO_BIN, 'get', 'nodes', '-o', 'name'], { env });
        return r.stdout.split('\n').filter(Boolean).length === 3 ? r : undefined;
      });
      expect(nodes).toEqual({ code: 0, stdout: 'node/node-1\nnode/node-2\nnode/node-3\n', stderr: '' });
    });
    expect(out).toContain('kumo: runtime fake\n');
  });

  it('runs a real node on host processes with --runtime process', async () => {
    const out = await up('process', ['--runtime', 'process'], async (env) => {
      const nodes = await waitFor(async () => {
        const r = await run(process.execPath, [KUMO_BIN, 'get', 'nodes', '-o', 'json'], { env });
        const list = JSON.parse(r.stdout) as {
          items: { metadata: { labels: Record<string, string> }; status: { conditions: { type: string; status: string }[] } }[];
        };
        return list.items.length === 1 && list.items[0]!.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? list : undefined;
      });
      expect(nodes.items[0]!.metadata.labels['kumo.io/runtime']).toBe('process');
    });
    expect(out).toContain('kumo: runtime process\n');
    // Said loudly, before anything runs: pods are host processes with the user's rights.
    expect(out).toContain(`kumo: WARNING: the process runtime runs every pod as a host process with your rights (user ${userInfo().username}):\n`);
    expect(out).toContain('running pods with the process runtime');
  });

  it('refuses a runtime it does not know', async () => {
    const r = await run(process.execPath, [KUMO_BIN, 'up', '--port', '0', '--data-dir', join(dir, 'bad'), '--runtime', 'podman'], {
      env: { ...process.env, HOME: dir },
    });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: invalid --runtime: podman (docker, process or fake)\n' });
  });
});
