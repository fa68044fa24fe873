/**
 * Nothing left behind: Ctrl-C on `kumo up` stops the pods it runs (each
 * within its grace period) before it exits; `--keep-pods` leaves them
 * running, and `kumo down --data-dir` stops them afterwards, for that data
 * directory's cluster only, idempotently, saying what it stopped. Real
 * binaries, real host processes and (when an engine answers) real Docker
 * containers.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '#lib/agent/docker/engine';
import { LABELS } from '#lib/agent/runtime';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, TEST_IMAGE } from '../agent/docker.js';
import { main } from '#lib/cli/main';
import { memoryIO } from '#lib/cli/io';
import { ensureBuilt, KUMO_BIN, type KumoUp, run, type RunResult, startKumoUp } from './harness.js';

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kumo-down-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Site {
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

function site(name: string): Site {
  return { dataDir: join(dir, name), env: { ...process.env, KUBECONFIG: join(dir, `${name}.kubeconfig`), HOME: dir } };
}

/** The kumo CLI in-process (quick, for setting up and polling). */
async function kumo(s: Site, args: string[], stdin = ''): Promise<RunResult> {
  const io = memoryIO(stdin, s.env);
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** `kumo down` as users run it: the binary. */
const down = (s: Site, args = ['--data-dir', s.dataDir]) => run(process.execPath, [KUMO_BIN, 'down', ...args], { env: s.env });

/** Creates a pod running `command` and resolves with its container's id once it runs. */
async function runPod(s: Site, image: string, command: string[]): Promise<string> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sleeper' },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command }] },
  };
  expect(await kumo(s, ['apply', '-f', '-'], JSON.stringify(pod))).toMatchObject({ code: 0, stdout: 'pod/sleeper created\n' });
  return waitFor(
    async () => {
      const got = await kumo(s, ['get', 'pod', 'sleeper', '-o', 'json']);
      const p = JSON.parse(got.stdout) as { status?: { phase?: string; containerStatuses?: { containerID?: string }[] } };
      return p.status?.phase === 'Running' ? p.status.containerStatuses?.[0]?.containerID?.replace(/^\w+:\/\//, '') : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'the pod to run' },
  );
}

/** The pid of the process-runtime wrapper of container `id` (the leader of the process group its command runs in). */
function wrapperPid(s: Site, id: string): number {
  const file = readdirSync(join(s.dataDir, 'agent'), { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith(`containers/${id}/state.json`));
  return (JSON.parse(readFileSync(join(s.dataDir, 'agent', file!), 'utf8')) as { pid: number }).pid;
}

/** Whether any process of the group still runs. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kumo up stops its pods; kumo down stops what was left', () => {
  it('stops host processes on Ctrl-C, keeps them with --keep-pods, and kumo down stops only its own cluster', async () => {
    const a = site('a');
    const b = site('b');
    const ups: KumoUp[] = [];
    try {
      const upA = await startKumoUp(['--runtime', 'process', '--port', '0', '--data-dir', a.dataDir], a.env);
      ups.push(upA);
      const upB = await startKumoUp(['--runtime', 'process', '--keep-pods', '--port', '0', '--data-dir', b.dataDir], b.env);
      ups.push(upB);
      expect(upA.output()).toContain('kumo: WARNING: the process runtime runs every pod as a host process with your rights');
      const pidA = wrapperPid(a, await runPod(a, 'none', ['sleep', '100000']));
      const idB = await runPod(b, 'none', ['sleep', '100000']);
      const pidB = wrapperPid(b, idB);
      expect([groupAlive(pidA), groupAlive(pidB)]).toEqual([true, true]);

      // While a kumo up serves the directory, kumo down leaves it alone.
      expect(await down(a)).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: kumo up (pid ${upA.pid}) is still serving ${a.dataDir}: stop it with Ctrl-C, which stops its pods\n`,
      });

      expect(await upB.stop('SIGINT')).toBe(0);
      expect(upB.output()).toContain(`kumo: stopped; the pods keep running (kumo down --data-dir ${b.dataDir} stops them)\n`);
      expect(groupAlive(pidB)).toBe(true);
      expect(await down(b)).toEqual({
        code: 0,
        stdout: `kumo down: stopped pod default/sleeper container app (process://${idB})\nkumo down: 1 stopped, 2 removed, of the cluster in ${b.dataDir}\n`,
        stderr: '',
      });
      expect(groupAlive(pidB)).toBe(false);
      expect(groupAlive(pidA)).toBe(true);
      expect(await down(b)).toEqual({ code: 0, stdout: `kumo down: nothing left of the cluster in ${b.dataDir}\n`, stderr: '' });

      expect(await upA.stop('SIGINT')).toBe(0);
      expect(upA.output()).toMatch(
        /kumo: SIGINT received, shutting down \(a second Ctrl-C exits at once, leaving the pods running\)\nkumo: stopping pods, each within its termination grace period\n(.*\n)*kumo agent: stopped pod default\/sleeper\n(.*\n)*kumo: stopped\n$/,
      );
      expect(groupAlive(pidA)).toBe(false);
    } finally {
      for (const up of ups) await up.stop('SIGKILL');
      await down(a);
      await down(b);
    }
  }, 90_000);

  it('says in one line that a directory holds no cluster', async () => {
    const missing = site('missing');
    expect(await down(missing)).toEqual({ code: 1, stdout: '', stderr: `error: no kumo cluster in ${missing.dataDir}: no such directory\n` });
    expect(await down(missing, ['--data-dir', dir])).toEqual({ code: 1, stdout: '', stderr: `error: no kumo cluster in ${dir}: it holds no state.db\n` });
    expect(await down(missing, ['all'])).toEqual({ code: 1, stdout: '', stderr: "error: too many arguments for 'down'. Expected 0 arguments but got 1.\n" });
  });
});

const docker = await dockerForTests();

describe.skipIf(!docker)('kumo down with the docker runtime', () => {
  it("stops and removes the containers --keep-pods left, and no other cluster's", async () => {
    await ensureTestImage();
    const engine = new DockerEngine();
    const s = site('docker');
    let up: KumoUp | undefined;
    let other: string | undefined;
    try {
      up = await startKumoUp(['--runtime', 'docker', '--keep-pods', '--port', '0', '--data-dir', s.dataDir], s.env);
      const id = await runPod(s, TEST_IMAGE, ['sleep', '100000']);
      const cluster = (JSON.parse((await kumo(s, ['get', 'ns', 'kube-system', '-o', 'json'])).stdout) as { metadata: { uid: string } }).metadata.uid;
      const node = (await engine.json<{ Config: { Labels: Record<string, string> } }>('GET', `/containers/${id}/json`)).Config.Labels[LABELS.node]!;
      // Another cluster's container on the same node name.
      other = (
        await engine.json<{ Id: string }>('POST', '/containers/create', {
          body: { Image: TEST_IMAGE, Cmd: ['sleep', '100000'], Labels: { [LABELS.cluster]: 'another-cluster', [LABELS.node]: node } },
        })
      ).Id;
      await engine.json('POST', `/containers/${other}/start`);
      const ours = async () =>
        engine.json<{ Id: string; State: string }[]>('GET', '/containers/json', {
          query: { all: true, filters: JSON.stringify({ label: [`${LABELS.cluster}=${cluster}`] }) },
        });

      expect(await up.stop('SIGINT')).toBe(0);
      expect((await ours()).map((c) => c.State)).toEqual(['running', 'running']);
      const res = await down(s);
      expect(res.code).toBe(0);
      expect(res.stdout.split('\n')).toEqual([
        `kumo down: stopped pod default/sleeper container app (docker://${id})`,
        expect.stringMatching(/^kumo down: stopped pod default\/sleeper sandbox \(docker:\/\/[0-9a-f]{64}\)$/),
        `kumo down: 2 stopped, 2 removed, of the cluster in ${s.dataDir}`,
        '',
      ]);
      expect(await ours()).toEqual([]);
      expect((await engine.json<{ State: { Running: boolean } }>('GET', `/containers/${other}/json`)).State.Running).toBe(true);
    } finally {
      await up?.stop('SIGKILL');
      await down(s);
      if (other) await engine.json('DELETE', `/containers/${other}`, { query: { force: true } }).catch(() => undefined);
      engine.close();
    }
  }, 90_000);
});
