/**
 * `kubectl debug` end to end, with the real kubectl v1.35 against a cluster
 * whose agent runs real containers (docker) or host processes (process):
 * the ephemeral container is added through pods/ephemeralcontainers, started
 * once by the agent, reported in status.ephemeralContainerStatuses, its
 * output served by `kubectl logs -c`, and `kubectl debug -i` attaches to it
 * (pods/attach) with piped input; an invalid one gets kube's message. The
 * pod's own containers are untouched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '#lib/api/core/v1/pod';
import { kubectlPath } from '../helpers/kubectl.js';
import { kubeconfigFor, run, type RunResult } from '../kubectl/harness.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, containerStatus, type P, podObject, waitGone, waitPod } from './harness.js';
import { PODS } from '#lib/kinds/resources';

const docker = await dockerForTests();

/** A cluster with one agent of `runtime`, a kubeconfig for it, and kubectl with its own HOME and cache. */
async function debugCluster(runtime: 'docker' | 'process', node: string) {
  const c = await agentCluster({ runtime, nodeNames: [node] });
  const dir = mkdtempSync(join(tmpdir(), 'kumo-debug-'));
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigFor(c.url));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, KUBECTL_KUBERC: 'false' };
  const bin = await kubectlPath();
  return {
    c,
    kubectl: (args: string[], stdin = ''): Promise<RunResult> => run(bin, ['--cache-dir', join(dir, 'cache'), ...args], env, stdin, 30_000),
    async dispose() {
      const pods = (await c.client.list<P>(PODS, 'default')).items;
      await Promise.all(pods.map((p) => c.client.delete(PODS, 'default', p.metadata.name!, { gracePeriodSeconds: 1 }).catch(() => undefined)));
      await Promise.all(pods.map((p) => waitGone(c.client, p.metadata.name!).catch(() => undefined)));
      await c.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ephemeralStatus(p: P, name: string) {
  return p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
}

/** What a debug session must leave alone: the app container's instance, its restarts, the pod's phase. */
function appFingerprint(p: P) {
  const s = containerStatus(p, 'app');
  return { phase: p.status?.phase, containerID: s?.containerID, restartCount: s?.restartCount, containers: p.spec?.containers };
}

async function startTarget(d: Awaited<ReturnType<typeof debugCluster>>, app: Container): Promise<P> {
  await d.c.client.create(PODS, 'default', podObject('web', { terminationGracePeriodSeconds: 1, containers: [app] }));
  return waitPod(d.c.client, 'web', (x) => containerStatus(x, 'app')?.state?.running !== undefined, 'app running');
}

/** The cases both runtimes share: a command's output in logs and status, and an interactive session with piped input. */
function sharedCases(d: () => Awaited<ReturnType<typeof debugCluster>>, image: string, before: () => P): void {
  it('runs `kubectl debug POD --image -c dbg -- CMD` once: logs show its output, status shows it terminated', async () => {
    const r = await d().kubectl(['debug', 'web', `--image=${image}`, '-c', 'dbg', '--', 'sh', '-c', 'echo hi']);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const p = await waitPod(d().c.client, 'web', (x) => ephemeralStatus(x, 'dbg')?.state?.terminated !== undefined, 'dbg terminated');
    expect(ephemeralStatus(p, 'dbg')).toMatchObject({
      name: 'dbg',
      ready: false,
      restartCount: 0,
      image,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(ephemeralStatus(p, 'dbg')?.started).toBeUndefined();
    expect(await d().kubectl(['logs', 'web', '-c', 'dbg'])).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(appFingerprint(p)).toEqual(appFingerprint(before()));
  });

  it('attaches `kubectl debug -i` to the new container: piped input runs there, its output comes back', async () => {
    const r = await d().kubectl(['debug', '-i', 'web', `--image=${image}`, '-c', 'dbg-i', '--', 'sh'], 'echo from-debug; exit\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from-debug\n');
    const p = await waitPod(d().c.client, 'web', (x) => ephemeralStatus(x, 'dbg-i')?.state?.terminated !== undefined, 'dbg-i terminated');
    expect(ephemeralStatus(p, 'dbg-i')?.state?.terminated).toMatchObject({ exitCode: 0 });
    // Never restarted, whatever the pod's restartPolicy (Always).
    expect(ephemeralStatus(p, 'dbg-i')?.restartCount).toBe(0);
    expect(appFingerprint(p)).toEqual(appFingerprint(before()));
  });

  it('refuses an invalid debug container with kube-apiserver’s message, and adds nothing', async () => {
    const stored = await d().c.client.get<P>(PODS, 'default', 'web');
    const taken = await d().kubectl(['debug', 'web', `--image=${image}`, '-c', 'app', '--', 'true']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^The Pod "web" is invalid: spec\.ephemeralContainers\[\d+\]\.name: Duplicate value: "app"$/m);
    const target = await d().kubectl(['debug', 'web', `--image=${image}`, '-c', 'dbg-x', '--target=nope', '--', 'true']);
    expect(target.code).toBe(1);
    expect(target.stderr).toMatch(/^The Pod "web" is invalid: spec\.ephemeralContainers\[\d+\]\.targetContainerName: Not found: "nope"$/m);
    expect((await d().c.client.get<P>(PODS, 'default', 'web')).spec?.ephemeralContainers).toEqual(stored.spec?.ephemeralContainers);
  });
}

describe.skipIf(!docker)('kubectl debug on the docker runtime', () => {
  const node = uniqueNode('debug');
  let d: Awaited<ReturnType<typeof debugCluster>>;
  let before: P;

  beforeAll(async () => {
    await ensureTestImage();
    d = await debugCluster('docker', node);
    before = await startTarget(d, { name: 'app', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exec sleep 3600'] });
  });

  afterAll(async () => {
    await d?.dispose();
    await removeNodeContainers(node);
  });

  sharedCases(
    () => d,
    TEST_IMAGE,
    () => before,
  );

  it('shares the target container’s processes with --target, and gives -it a terminal', async () => {
    const targeted = await d.kubectl(['debug', '-i', 'web', `--image=${TEST_IMAGE}`, '-c', 'dbg-target', '--target=app', '--', 'sh'], 'ps -o pid,args; exit\n');
    expect(targeted.code, targeted.stderr).toBe(0);
    // PID 1 of the debug container's namespace is the target's own process.
    expect(targeted.stdout).toMatch(/^\s*1 sleep 3600$/m);
    const tty = await d.kubectl(['debug', '-it', 'web', `--image=${TEST_IMAGE}`, '-c', 'dbg-tty', '--', 'sh'], 'tty; exit\n');
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/^\/dev\/pts\/\d+\r?$/m);
  });
});

describe('kubectl debug on the process runtime', () => {
  const node = uniqueNode('pdebug');
  let d: Awaited<ReturnType<typeof debugCluster>>;
  let before: P;

  beforeAll(async () => {
    d = await debugCluster('process', node);
    before = await startTarget(d, { name: 'app', image: 'none', command: ['sh', '-c', 'exec sleep 3600'] });
  });

  afterAll(async () => {
    await d?.dispose();
  });

  sharedCases(
    () => d,
    'none',
    () => before,
  );

  it('reports a debug container it cannot run (no command: there are no images) as waiting, with the reason', async () => {
    const r = await d.kubectl(['debug', 'web', '--image=busybox:1.36', '-c', 'no-cmd']);
    expect(r.code, r.stderr).toBe(0);
    const p = await waitPod(d.c.client, 'web', (x) => ephemeralStatus(x, 'no-cmd')?.state?.waiting?.reason === 'CreateContainerConfigError', 'no-cmd waiting');
    expect(ephemeralStatus(p, 'no-cmd')?.state?.waiting?.message).toMatch(/cannot run image "busybox:1.36" without a command/);
    expect(appFingerprint(p)).toEqual(appFingerprint(before));
  });
});
