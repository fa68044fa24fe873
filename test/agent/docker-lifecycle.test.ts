/**
 * The docker runtime, a pod's life: init containers and a native sidecar
 * sharing emptyDir volumes and localhost; the environment, command expansion
 * and resource limits as the container sees them; graceful termination
 * (preStop, SIGTERM honoured within the grace period, SIGKILL after it);
 * hostPath and hostNetwork; crash loops
 * with a growing back-off; run-to-completion pods and Jobs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { CONFIGMAPS, JOBS, PODS } from '#lib/kinds/resources';
import { podSummary } from '#lib/printers/pod-status';
import { freePort } from '#lib/sim/emulator';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, containerStatus, eventsOf, type P, PodHistory, podObject, ready, waitGone, waitPod } from './harness.js';

const docker = await dockerForTests();

const image = { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent' };

describe.skipIf(!docker)('docker runtime: pod lifecycle', () => {
  const node = uniqueNode('life');
  let c: Awaited<ReturnType<typeof agentCluster>>;
  let history: PodHistory;

  beforeAll(async () => {
    await ensureTestImage();
    c = await agentCluster({ runtime: 'docker', nodeNames: [node] });
    history = new PodHistory(c.client);
    await history.start();
  });

  afterAll(async () => {
    await history?.stop();
    await c?.dispose();
    await removeNodeContainers(node);
  });

  const exec = async (pod: string, container: string, command: string[]) => {
    let out = '';
    const code = await c.agents
      .get(node)!
      .exec(
        'default',
        pod,
        container,
        command,
        { stdin: false, tty: false },
        { stdout: (b) => (out += Buffer.from(b).toString()), stderr: (b) => (out += Buffer.from(b).toString()) },
      );
    return { code, out };
  };
  const logs = async (pod: string, container: string) => {
    let out = '';
    for await (const chunk of await c.agents.get(node)!.openLogs('default', pod, container, { follow: false, previous: false, timestamps: false }))
      out += Buffer.from(chunk).toString();
    return out;
  };

  it('runs init containers in order, then a sidecar and the app, sharing emptyDirs and localhost', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('with-init', {
        terminationGracePeriodSeconds: 1,
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'logs', emptyDir: { medium: 'Memory' } },
        ],
        initContainers: [
          {
            name: 'prepare',
            ...image,
            command: ['sh', '-c', 'sleep 1; echo prepared-by-init > /data/msg'],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
          {
            name: 'log-reader',
            ...image,
            restartPolicy: 'Always',
            command: ['sh', '-c', 'touch /logs/app.log; exec tail -n +1 -f /logs/app.log'],
            volumeMounts: [{ name: 'logs', mountPath: '/logs' }],
          },
        ],
        containers: [
          {
            name: 'app',
            ...image,
            command: [
              'sh',
              '-c',
              'cat /data/msg; mkdir -p /www; cp /data/msg /www/msg; httpd -p 8080 -h /www; i=0; while true; do i=$((i+1)); echo "app line $i" >> /logs/app.log; sleep 0.3; done',
            ],
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'logs', mountPath: '/logs' },
            ],
          },
        ],
      }),
    );
    const p = await waitPod(c.client, 'with-init', (x) => x.status?.phase === 'Running' && ready(x), 'Running and Ready');
    const seen = history.of('with-init').map((x) => podSummary(x, Date.now()).status);
    expect(seen).toContain('Init:0/2');
    expect(containerStatus(p, 'prepare')?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(containerStatus(p, 'log-reader')).toMatchObject({ started: true, ready: true, state: { running: {} } });
    expect(p.status?.conditions?.find((x) => x.type === 'Initialized')?.status).toBe('True');
    expect(podSummary(p, Date.now())).toMatchObject({ status: 'Running', ready: '1/1' });

    expect(await logs('with-init', 'app')).toBe('prepared-by-init\n');
    await waitFor(async () => (await logs('with-init', 'log-reader')).includes('app line 2'), { what: 'the sidecar to read the app log' });
    expect(await exec('with-init', 'log-reader', ['wget', '-qO-', 'http://localhost:8080/msg'])).toEqual({ code: 0, out: 'prepared-by-init\n' });
    const mounts = await exec('with-init', 'app', ['grep', ' /logs ', '/proc/mounts']);
    expect(mounts.out).toMatch(/^tmpfs \/logs tmpfs/);

    await c.client.delete(PODS, 'default', 'with-init');
    await waitGone(c.client, 'with-init');
  });

  it('gives the container its environment, expanded command and resource limits', async () => {
    await c.client.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting' }, data: { word: 'hello' } } as KObject);
    await c.client.create(
      PODS,
      'default',
      podObject(
        'env-pod',
        {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              ...image,
              command: ['sh', '-c'],
              args: ['echo "$(GREETING) from $(POD_NAME)"; exec sleep 1000'],
              workingDir: '/tmp',
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'TEAM', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
                { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'word' } } },
                { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              resources: { limits: { memory: '64Mi', cpu: '500m' } },
            },
          ],
        },
        { labels: { team: 'blue' } },
      ),
    );
    await waitPod(c.client, 'env-pod', (x) => x.status?.phase === 'Running', 'Running');
    await waitFor(async () => (await logs('env-pod', 'app')) === 'hello from env-pod\n', { what: 'the expanded command to print' });
    expect((await exec('env-pod', 'app', ['sh', '-c', 'echo $POD_NAME $TEAM $GREETING $NODE; pwd'])).out).toBe(`env-pod blue hello ${node}\n/tmp\n`);
    const limit = await exec('env-pod', 'app', ['sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes']);
    expect(limit.out.trim()).toBe(String(64 * 2 ** 20));
    const quota = await exec('env-pod', 'app', ['sh', '-c', 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    // 500m is half of each 100 ms period (cgroup v2 prints "quota period", v1 the quota alone).
    expect(['50000 100000', '50000']).toContain(quota.out.trim());

    await c.client.create(
      PODS,
      'default',
      podObject('missing-config', {
        containers: [{ name: 'app', ...image, command: ['true'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }],
      }),
    );
    const bad = await waitPod(
      c.client,
      'missing-config',
      (x) => containerStatus(x, 'app')?.state?.waiting?.reason === 'CreateContainerConfigError',
      'CreateContainerConfigError',
    );
    expect(containerStatus(bad, 'app')?.state?.waiting?.message).toBe('configmap "nope" not found');
    await c.client.delete(PODS, 'default', 'env-pod');
    await c.client.delete(PODS, 'default', 'missing-config');
  });

  it("runs a hostNetwork pod on the node's network, its pod IP the node IP", async () => {
    // A port free on the host now: a taken one would crash-loop httpd and never get Ready.
    const port = await freePort();
    await c.client.create(
      PODS,
      'default',
      podObject('host-net', {
        hostNetwork: true,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            ...image,
            command: ['sh', '-c', `mkdir -p /www && echo host > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`],
            readinessProbe: { httpGet: { path: '/', port }, periodSeconds: 1 },
          },
        ],
      }),
    );
    const p = await waitPod(c.client, 'host-net', ready, 'Ready', 50_000);
    expect(p.status?.podIP).toBe('127.0.0.1');
    // The probe reached it on the host's loopback: the container shares the host's network.
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('host\n');
    await c.client.delete(PODS, 'default', 'host-net');
    await waitGone(c.client, 'host-net');
  }, 90_000);

  it('stops a container that handles SIGTERM at once, and SIGKILLs one that ignores it when the grace period is over', async () => {
    const grace = 3;
    await c.client.create(
      PODS,
      'default',
      podObject('polite', {
        terminationGracePeriodSeconds: 20,
        containers: [{ name: 'app', ...image, command: ['sh', '-c', 'trap "echo bye; exit 0" TERM; while true; do sleep 0.2; done'] }],
      }),
    );
    await c.client.create(
      PODS,
      'default',
      podObject('stubborn', {
        terminationGracePeriodSeconds: grace,
        containers: [{ name: 'app', ...image, command: ['sh', '-c', 'trap "echo ignored" TERM; while true; do sleep 0.2; done'] }],
      }),
    );
    await waitPod(c.client, 'polite', (x) => x.status?.phase === 'Running', 'Running');
    await waitPod(c.client, 'stubborn', (x) => x.status?.phase === 'Running', 'Running');

    const deleted = Date.now();
    await Promise.all([c.client.delete(PODS, 'default', 'polite'), c.client.delete(PODS, 'default', 'stubborn')]);
    const goneAfter = async (name: string) => {
      await waitGone(c.client, name, 30_000);
      return Date.now() - deleted;
    };
    const [politeMs, stubbornMs] = await Promise.all([goneAfter('polite'), goneAfter('stubborn')]);
    console.log(
      `graceful termination: SIGTERM-handling pod gone after ${politeMs} ms (grace 20 s); SIGTERM-ignoring pod gone after ${stubbornMs} ms (grace ${grace} s)`,
    );

    // The last status before the pod went away shows how each container ended.
    const lastOf = (name: string) => containerStatus(history.of(name).at(-1)!, 'app')!.state!.terminated!;
    expect(lastOf('polite')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(lastOf('stubborn')).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(politeMs).toBeLessThan(10_000);
    expect(stubbornMs).toBeGreaterThanOrEqual(grace * 1000);
    expect(stubbornMs).toBeLessThan((grace + 5) * 1000);
    const stubbornEnd = Date.parse(lastOf('stubborn').finishedAt!);
    // finishedAt has second precision: the kill came a grace period after the delete, give or take that second.
    expect(stubbornEnd - deleted).toBeGreaterThan((grace - 1) * 1000);
    expect((await eventsOf(c.client, 'stubborn')).some((e) => e === 'Killing: Stopping container app')).toBe(true);
  });

  it('runs the preStop hook before SIGTERM, writing through a hostPath volume', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'kumo-hostpath-'));
    try {
      await c.client.create(
        PODS,
        'default',
        podObject('with-hook', {
          terminationGracePeriodSeconds: 5,
          volumes: [{ name: 'host', hostPath: { path: hostDir, type: 'Directory' } }],
          containers: [
            {
              name: 'app',
              ...image,
              command: ['sh', '-c', 'trap "echo got-term >> /host/events; exit 0" TERM; echo started >> /host/events; while true; do sleep 0.1; done'],
              volumeMounts: [{ name: 'host', mountPath: '/host' }],
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo pre-stop >> /host/events'] } } },
            },
          ],
        }),
      );
      await waitPod(c.client, 'with-hook', (x) => x.status?.phase === 'Running', 'Running');
      await waitFor(() => existsSync(join(hostDir, 'events')), { what: 'the container to write through the hostPath volume' });
      await c.client.delete(PODS, 'default', 'with-hook');
      await waitGone(c.client, 'with-hook');
      expect(readFileSync(join(hostDir, 'events'), 'utf8')).toBe('started\npre-stop\ngot-term\n');
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('restarts a crashing container with a growing back-off (CrashLoopBackOff)', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('crasher', { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', ...image, command: ['sh', '-c', 'echo crashing; exit 3'] }] }),
    );
    const message = (x: P) => containerStatus(x, 'app')?.state?.waiting?.message ?? '';
    const seconds = (x: P) => Number(/^back-off (\d+)s /.exec(message(x))?.[1] ?? 0);
    // The watch's history, not a poll of the current state: a back-off is short-lived, and a loaded engine
    // (or the agent coalescing two status writes) may show the next one before a poll lands.
    const p = await waitFor(async () => history.of('crasher').find((x) => seconds(x) >= 4), {
      timeoutMs: 70_000,
      intervalMs: 100,
      what: 'a back-off of 4s or more',
    });
    const backoffs = [
      ...new Set(
        history
          .of('crasher')
          .map(seconds)
          .filter((b) => b > 0),
      ),
    ];
    // Each back-off doubles the last, from 1s; a short one may pass before the agent writes it (a slow engine).
    expect(backoffs).toEqual([...backoffs].sort((a, b) => a - b));
    for (const b of backoffs) expect(Math.log2(b) % 1).toBe(0);
    const s = containerStatus(p, 'app')!;
    expect(message(p)).toBe(`back-off ${seconds(p)}s restarting failed container=app pod=crasher_default(${p.metadata.uid})`);
    // The back-off after the n-th restart is 2^(n-1) seconds.
    expect(s.restartCount).toBe(Math.log2(seconds(p)) + 1);
    expect(s.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(p.status?.phase).toBe('Running');
    expect(podSummary(p, Date.now()).status).toBe('CrashLoopBackOff');
    expect(await eventsOf(c.client, 'crasher')).toContain(`BackOff: Back-off restarting failed container app in pod crasher_default(${p.metadata.uid})`);
    // logs --previous: the last run's output.
    let prev = '';
    for await (const chunk of await c.agents.get(node)!.openLogs('default', 'crasher', 'app', { follow: false, previous: true, timestamps: false }))
      prev += Buffer.from(chunk).toString();
    expect(prev).toBe('crashing\n');
    await c.client.delete(PODS, 'default', 'crasher');
  }, 90_000);

  it('leaves alone the containers of another cluster whose agent has the same node name', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('mine', { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', ...image, command: ['sleep', '100000'] }] }),
    );
    const mine = containerStatus(await waitPod(c.client, 'mine', (x) => x.status?.phase === 'Running', 'Running'), 'app')!;
    const other = await agentCluster({ runtime: 'docker', nodeNames: [node] });
    try {
      await other.client.create(
        PODS,
        'default',
        podObject('theirs', { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', ...image, command: ['sleep', '100000'] }] }),
      );
      await waitPod(other.client, 'theirs', (x) => x.status?.phase === 'Running', 'Running in the other cluster');
      await waitPod(c.client, 'mine', (x) => x.status?.phase === 'Running', 'Running');
      const after = containerStatus(await c.client.get<P>(PODS, 'default', 'mine'), 'app')!;
      expect(after).toMatchObject({ containerID: mine.containerID, restartCount: 0, state: { running: {} } });
      await other.client.delete(PODS, 'default', 'theirs');
      await waitGone(other.client, 'theirs');
    } finally {
      await other.dispose();
    }
    await c.client.delete(PODS, 'default', 'mine');
  });

  it('runs pods to completion: Succeeded on exit 0, Failed on an error with restartPolicy Never, and a Job completes', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('once-ok', { restartPolicy: 'Never', containers: [{ name: 'app', ...image, command: ['sh', '-c', 'echo done'] }] }),
    );
    await c.client.create(
      PODS,
      'default',
      podObject('once-bad', { restartPolicy: 'Never', containers: [{ name: 'app', ...image, command: ['sh', '-c', 'exit 2'] }] }),
    );
    const ok = await waitPod(c.client, 'once-ok', (x) => x.status?.phase === 'Succeeded', 'Succeeded');
    expect(containerStatus(ok, 'app')?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(ok.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(podSummary(ok, Date.now()).status).toBe('Completed');
    const bad = await waitPod(c.client, 'once-bad', (x) => x.status?.phase === 'Failed', 'Failed');
    expect(containerStatus(bad, 'app')?.state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });

    await c.client.create(JOBS, 'default', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'one-shot' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', ...image, command: ['sh', '-c', 'echo job done'] }] } } },
    } as KObject);
    const job = await waitFor(
      async () => {
        const j = await c.client.get<KObject & { status?: { succeeded?: number; conditions?: { type: string; status: string }[] } }>(
          JOBS,
          'default',
          'one-shot',
        );
        return j.status?.conditions?.some((x) => x.type === 'Complete' && x.status === 'True') ? j : undefined;
      },
      { timeoutMs: 30_000, what: 'the Job to complete' },
    );
    expect(job.status?.succeeded).toBe(1);
    const jobPods = (await c.client.list<P>(PODS, 'default', { labelSelector: 'job-name=one-shot' })).items;
    expect(jobPods.map((x) => x.status?.phase)).toEqual(['Succeeded']);
  });
});
