/**
 * `kumo agent` as a separate process (the built binary) against a local API
 * server, reached for logs, exec and attach through its own authenticated
 * endpoint: `kumo logs` (with -f), `kumo exec` and `kubectl debug -i` work
 * through it; killing the agent (SIGKILL) and starting it again adopts the
 * running containers, with their restart counts, and starts no duplicates;
 * while the API server is away the containers keep running, a crashed one
 * is restarted, and the agent reports once the API server is back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LABELS } from '#lib/agent/runtime';
import type { Node } from '#lib/api/core/v1/node';
import type { KObject } from '#lib/api/object';
import { memoryIO } from '#lib/cli/io';
import { main } from '#lib/cli/main';
import { NODE_LEASE_NAMESPACE } from '#lib/api/coordination/v1/lease';
import { milliCpu, parseQuantity } from '#lib/api/quantity';
import { LocalCluster } from '#lib/local/cluster';
import { ensureBuilt, KUMO_BIN, run } from '../cli/harness.js';
import { kubectlPath } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, killContainer, nodeContainers, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { containerStatus, type P, podObject, ready, waitPod } from './harness.js';
import { LEASES, NODES, PODS } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';

const docker = await dockerForTests();
const image = { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent' };

describe.skipIf(!docker)('kumo agent (a separate process) with the docker runtime', () => {
  const node = uniqueNode('agent');
  const dir = mkdtempSync(join(tmpdir(), 'kumo-agent-'));
  const dataDir = join(dir, 'cluster');
  const kubeconfig = join(dir, 'kubeconfig');
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
  let cluster: LocalCluster;
  let port = 0;
  let agent: ChildProcess | undefined;
  let agentOut = '';

  const startApi = async () => {
    cluster = new LocalCluster({ dataDir, port, logger: silentLogger, resyncIntervalMs: 2_000 });
    await cluster.start();
    port = Number(new URL(cluster.url).port);
  };

  const startAgent = async () => {
    const child = spawn(
      process.execPath,
      [
        KUMO_BIN,
        'agent',
        '--node-name',
        node,
        '--runtime',
        'docker',
        '--node-ip',
        '127.0.0.1',
        '--address',
        '127.0.0.1',
        '--port',
        '0',
        '--agent-token',
        cluster.agentToken,
        '--data-dir',
        join(dir, 'agent'),
        '--labels',
        'zone=lab,tier=test',
        '--taints',
        'lab=yes:PreferNoSchedule',
        '--reserved-cpu',
        '100m',
        '--reserved-memory',
        '64Mi',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (c: Buffer) => (agentOut += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (agentOut += c.toString()));
    agent = child;
    await waitFor(() => agentOut.includes('running pods with the docker runtime'), { timeoutMs: 30_000, what: `the agent to start: ${agentOut}` });
  };

  const kumo = async (args: string[], out?: (text: string) => void) => {
    const io = memoryIO('', env);
    if (out) {
      const write = io.out;
      io.out = (t) => {
        write(t);
        out(t);
      };
    }
    const code = await main(args, io);
    return { code, stdout: io.stdout, stderr: io.stderr };
  };

  const running = async (pod: string) =>
    (await nodeContainers(node)).filter((c) => c.Labels[LABELS.podName] === pod && c.State === 'running' && c.Labels[LABELS.kind] === 'app');

  beforeAll(async () => {
    await ensureTestImage();
    await ensureBuilt();
    await startApi();
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // LocalCluster's default front door: HTTPS with its CA and the admin token, as kumo up writes them.
        clusters: [{ name: 't', cluster: { server: cluster.url, 'certificate-authority-data': cluster.caData } }],
        users: [{ name: 't', user: { token: cluster.adminToken } }],
        contexts: [{ name: 't', context: { cluster: 't', user: 't' } }],
        'current-context': 't',
      }),
    );
    await startAgent();
  });

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await cluster?.stop();
    await removeNodeContainers(node);
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers a Ready node that advertises its logs and exec endpoint', async () => {
    const n = await waitFor(async () => {
      const x = await cluster.client.find<Node & KObject>(NODES, undefined, node);
      return x?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? x : undefined;
    });
    expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(n.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBeGreaterThan(0);
    expect(n.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': node, 'kumo.io/runtime': 'docker', zone: 'lab', tier: 'test' });
    expect(n.spec?.taints).toEqual([{ key: 'lab', value: 'yes', effect: 'PreferNoSchedule' }]);
    expect(Number(n.status?.allocatable?.pods)).toBe(110);
    // allocatable = capacity - reserved
    expect(milliCpu(n.status?.capacity?.cpu) - milliCpu(n.status?.allocatable?.cpu)).toBe(100);
    expect(parseQuantity(n.status?.capacity?.memory)! - parseQuantity(n.status?.allocatable?.memory)!).toBe(64 * 2 ** 20);
    const lease = await cluster.client.get<KObject & { spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string } }>(
      LEASES,
      NODE_LEASE_NAMESPACE,
      node,
    );
    expect(lease.spec).toMatchObject({ holderIdentity: node, leaseDurationSeconds: 40 });
    expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('serves kumo logs (-f), kumo exec and kubectl debug -i through the agent endpoint', async () => {
    await cluster.client.create(
      PODS,
      'default',
      podObject('steady', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', ...image, command: ['sh', '-c', 'echo started; exec sleep 100000'] }],
      }),
    );
    await cluster.client.create(
      PODS,
      'default',
      podObject('counter', {
        restartPolicy: 'Never',
        containers: [{ name: 'main', ...image, command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.4; done'] }],
      }),
    );
    await waitPod(cluster.client, 'steady', (p) => p.status?.phase === 'Running', 'Running');
    await waitPod(cluster.client, 'counter', (p) => p.status?.phase === 'Running', 'Running');

    // -f streams: the first line arrives while the pod still runs, and the command ends when the container does.
    let phaseAtFirstLine: string | null | undefined;
    const follow = await kumo(['logs', '-f', 'counter'], (t) => {
      if (phaseAtFirstLine === undefined && t.includes('tick 1')) {
        void cluster.client.get<P>(PODS, 'default', 'counter').then((p) => (phaseAtFirstLine ??= p.status?.phase));
      }
    });
    expect(follow).toEqual({ code: 0, stdout: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `tick ${i}\n`).join(''), stderr: '' });
    expect(phaseAtFirstLine).toBe('Running');

    expect(await kumo(['logs', 'steady'])).toEqual({ code: 0, stdout: 'started\n', stderr: '' });
    expect(await kumo(['logs', 'counter', '--tail', '2'])).toEqual({ code: 0, stdout: 'tick 7\ntick 8\n', stderr: '' });
    expect(await kumo(['exec', 'steady', '--', 'cat', '/etc/hostname'])).toEqual({ code: 0, stdout: 'steady\n', stderr: '' });
    expect(await kumo(['exec', 'steady', '--', 'sh', '-c', 'echo to-stderr >&2; exit 7'])).toEqual({
      code: 7,
      stdout: '',
      stderr: 'to-stderr\ncommand terminated with exit code 7\n',
    });
    const stdin = memoryIO('piped through\n', env);
    expect(await main(['exec', '-i', 'steady', '--', 'cat'], stdin)).toBe(0);
    expect(stdin.stdout).toBe('piped through\n');
    expect(await kumo(['logs', 'steady', '-c', 'nope'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error from server (BadRequest): container nope is not valid for pod steady\n',
    });
    // The real kubectl, through the same path (its WebSocket v5 exec and chunked logs).
    const kubectl = await kubectlPath();
    expect(await run(kubectl, ['logs', 'steady'], { env })).toEqual({ code: 0, stdout: 'started\n', stderr: '' });
    expect(await run(kubectl, ['exec', 'steady', '--', 'cat', '/etc/hostname'], { env })).toEqual({ code: 0, stdout: 'steady\n', stderr: '' });
    expect(await run(kubectl, ['exec', '-i', 'steady', '--', 'sh', '-c', 'cat; exit 3'], { env, stdin: 'echoed\n' })).toEqual({
      code: 3,
      stdout: 'echoed\n',
      stderr: 'command terminated with exit code 3\n',
    });
    // kubectl debug -i: the ephemeral container through pods/ephemeralcontainers, the session through the agent's attach endpoint.
    const debug = await run(kubectl, ['debug', '-i', 'steady', `--image=${TEST_IMAGE}`, '-c', 'dbg', '--', 'sh'], {
      env,
      stdin: 'echo through-the-agent; exit\n',
    });
    expect(debug).toMatchObject({ code: 0, stdout: 'through-the-agent\n' });
    await waitPod(cluster.client, 'steady', (p) => p.status?.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode === 0, 'dbg terminated');
    expect(await run(kubectl, ['logs', 'steady', '-c', 'dbg'], { env })).toEqual({ code: 0, stdout: 'through-the-agent\n', stderr: '' });
    await waitPod(cluster.client, 'counter', (p) => p.status?.phase === 'Succeeded', 'Succeeded');
    expect(await kumo(['exec', 'counter', '--', 'true'])).toMatchObject({
      code: 1,
      stderr: 'error: cannot exec into a container in a completed pod; current phase is Succeeded\n',
    });
  });

  it('adopts running containers after a SIGKILL and restart of the agent, starting no duplicates', async () => {
    await cluster.client.create(
      PODS,
      'default',
      podObject('probed', {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            ...image,
            command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/ready && exec httpd -f -p 3000 -h /www'],
            readinessProbe: { httpGet: { path: '/ready', port: 3000 }, periodSeconds: 1 },
          },
        ],
      }),
    );
    await waitPod(cluster.client, 'probed', ready, 'Ready');
    const before = new Map((await nodeContainers(node)).map((c) => [c.Id, c.State]));
    const steadyBefore = await running('steady');
    expect(steadyBefore).toHaveLength(1);

    agent!.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
    // A crash while no agent runs: the next agent must restart it, counting the restart.
    await killContainer(steadyBefore[0]!.Id);
    await startAgent();

    const steady = await waitPod(
      cluster.client,
      'steady',
      (p) => containerStatus(p, 'main')?.restartCount === 1 && p.status?.phase === 'Running',
      'restarted once',
    );
    expect(containerStatus(steady, 'main')?.lastState?.terminated?.exitCode).toBe(137);
    const probed = await cluster.client.get<P>(PODS, 'default', 'probed');
    expect(ready(probed)).toBe(true);
    expect(containerStatus(probed, 'main')).toBeUndefined();
    expect(containerStatus(probed, 'web')).toMatchObject({ restartCount: 0, ready: true });
    // Everything that ran before still runs, untouched; only the crashed container has a successor.
    const after = await nodeContainers(node);
    for (const [id, state] of before) if (state === 'running' && id !== steadyBefore[0]!.Id) expect(after.find((c) => c.Id === id)?.State).toBe('running');
    expect(await running('steady')).toHaveLength(1);
    expect(await running('probed')).toHaveLength(1);
    expect(after.filter((c) => c.Labels[LABELS.kind] === 'sandbox' && c.State === 'running').length).toBe(2);
    // The ephemeral container that ended before is never started again.
    expect(after.filter((c) => c.Labels[LABELS.containerName] === 'dbg').map((c) => c.State)).toEqual(['exited']);
  });

  it('keeps containers running while the API server is away, and reports once it is back', async () => {
    const webBefore = (await running('probed'))[0]!;
    const steadyBefore = (await running('steady'))[0]!;
    await cluster.stop();
    // During the outage, a container crashes: the agent restarts it on its own.
    await killContainer(steadyBefore.Id);
    await waitFor(async () => (await running('steady')).length === 1 && (await running('steady'))[0]!.Id !== steadyBefore.Id, {
      timeoutMs: 20_000,
      what: 'the agent to restart the container without the API',
    });
    expect((await running('probed'))[0]!.Id).toBe(webBefore.Id);

    await startApi();
    const steady = await waitPod(
      cluster.client,
      'steady',
      (p) => containerStatus(p, 'main')?.restartCount === 2 && p.status?.phase === 'Running',
      'the restart reported',
      30_000,
    );
    expect(containerStatus(steady, 'main')?.containerID).toBe(`docker://${(await running('steady'))[0]!.Id}`);
    expect(ready(await cluster.client.get<P>(PODS, 'default', 'probed'))).toBe(true);
    expect(agentOut).toContain('kumo agent');
  });

  it('finishes a deletion made while it was down, and removes containers of pods that are gone', async () => {
    agent!.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
    await cluster.client.delete(PODS, 'default', 'steady', { gracePeriodSeconds: 1 });
    // A pod removed from the API for good (as a force delete does) while no agent runs.
    await cluster.client.delete(PODS, 'default', 'probed', { gracePeriodSeconds: 0 });
    await startAgent();
    await waitFor(async () => !(await cluster.client.find(PODS, 'default', 'steady')), { timeoutMs: 20_000, what: 'steady to be deleted' });
    await waitFor(async () => (await nodeContainers(node)).every((c) => !['steady', 'probed'].includes(c.Labels[LABELS.podName]!)), {
      timeoutMs: 20_000,
      what: 'the containers of deleted pods to be removed',
    });
  });
});
