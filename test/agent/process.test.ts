/**
 * The process runtime (machines without Docker): containers as host
 * processes with their env and per-pod emptyDir directories, logs and exec,
 * restarts, the error for a container without a command, adoption by a
 * restarted agent, and graceful deletion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { uniqueNode } from './docker.js';
import { agentCluster, containerStatus, eventsOf, type P, podObject, ready, waitGone, waitPod } from './harness.js';
import { PODS } from '../../lib/kinds/resources.js';

describe('process runtime', () => {
  const node = uniqueNode('proc');
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    c = await agentCluster({ runtime: 'process', nodeNames: [node] });
  });

  afterAll(async () => {
    if (!c) return;
    const pods = (await c.client.list<P>(PODS, 'default')).items;
    await Promise.all(pods.map((p) => c.client.delete(PODS, 'default', p.metadata.name!, { gracePeriodSeconds: 1 }).catch(() => undefined)));
    await Promise.all(pods.map((p) => waitGone(c.client, p.metadata.name!).catch(() => undefined)));
    await c.dispose();
  });

  const agent = () => c.agents.get(node)!;
  const logs = async (pod: string, container: string) => {
    let out = '';
    for await (const chunk of await agent().openLogs('default', pod, container, { follow: false, previous: false, timestamps: false }))
      out += Buffer.from(chunk).toString();
    return out;
  };

  it('runs init and app containers as processes sharing an emptyDir, with logs and exec', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('proc-app', {
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [
          { name: 'init', image: 'none', command: ['sh', '-c', 'echo from-init > /data/msg'], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        ],
        containers: [
          {
            name: 'app',
            image: 'none',
            command: ['sh', '-c', 'cat /data/msg; echo "$GREETING"; exec sleep 100000'],
            env: [{ name: 'GREETING', value: 'hi there' }],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
            readinessProbe: { exec: { command: ['test', '-f', '/data/msg'] }, periodSeconds: 1 },
          },
        ],
      }),
    );
    const p = await waitPod(c.client, 'proc-app', (x) => x.status?.phase === 'Running' && ready(x), 'Running and Ready');
    expect(containerStatus(p, 'init')?.state?.terminated?.exitCode).toBe(0);
    expect(containerStatus(p, 'app')?.containerID).toMatch(/^process:\/\//);
    await waitFor(async () => (await logs('proc-app', 'app')) === 'from-init\nhi there\n', { what: 'the app output' });
    let out = '';
    const code = await agent().exec(
      'default',
      'proc-app',
      'app',
      ['sh', '-c', 'echo $GREETING; exit 5'],
      { stdin: false, tty: false },
      { stdout: (b) => (out += Buffer.from(b).toString()) },
    );
    expect({ code, out }).toEqual({ code: 5, out: 'hi there\n' });
  });

  it('says a container without a command cannot run here', async () => {
    await c.client.create(PODS, 'default', podObject('no-command', { containers: [{ name: 'web', image: 'nginx:1.27' }] }));
    const p = await waitPod(
      c.client,
      'no-command',
      (x) => containerStatus(x, 'web')?.state?.waiting?.reason === 'CreateContainerConfigError',
      'CreateContainerConfigError',
    );
    expect(containerStatus(p, 'web')?.state?.waiting?.message).toContain('the process runtime cannot run image "nginx:1.27" without a command');
    expect(p.status?.phase).toBe('Pending');
  });

  it('restarts a failing process and counts the restarts', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('proc-crash', { containers: [{ name: 'app', image: 'none', command: ['sh', '-c', 'echo boom; exit 4'] }] }),
    );
    const p = await waitPod(c.client, 'proc-crash', (x) => (containerStatus(x, 'app')?.restartCount ?? 0) >= 2, 'two restarts', 30_000);
    expect(containerStatus(p, 'app')?.lastState?.terminated).toMatchObject({ exitCode: 4, reason: 'Error' });
  });

  it('keeps processes running across an agent restart and adopts them', async () => {
    const before = containerStatus(await c.client.get<P>(PODS, 'default', 'proc-app'), 'app')!;
    await c.stopAgent(node);
    await c.startAgent(node, 'process');
    // A full sync of the adopted pod: the same process, not restarted, still Ready.
    await waitFor(async () => (await logs('proc-app', 'app')) === 'from-init\nhi there\n', { what: 'the adopted container to serve logs' });
    const after = await waitPod(c.client, 'proc-app', ready, 'Ready');
    expect(containerStatus(after, 'app')).toMatchObject({ containerID: before.containerID, restartCount: 0 });
  });

  it('stops processes and deletes the pod on graceful deletion', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('proc-stop', {
        terminationGracePeriodSeconds: 5,
        containers: [{ name: 'app', image: 'none', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'] }],
      }),
    );
    await waitPod(c.client, 'proc-stop', (x) => x.status?.phase === 'Running', 'Running');
    const started = Date.now();
    await c.client.delete(PODS, 'default', 'proc-stop');
    await waitGone(c.client, 'proc-stop');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('evicts a pod over its ephemeral-storage limits, as the kubelet: Failed, reason Evicted, its message and a Warning event', async () => {
    const fill = (mb: number, where: string) => `dd if=/dev/zero of=${where} bs=1024 count=${mb * 1024} 2>/dev/null; exec sleep 100000`;
    await c.client.create(
      PODS,
      'default',
      podObject('proc-full-volume', {
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }],
        containers: [
          { name: 'app', image: 'none', command: ['sh', '-c', fill(2, '/scratch/fill')], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] },
        ],
      }),
    );
    // Output is the container's: the process runtime counts its directory.
    await c.client.create(
      PODS,
      'default',
      podObject('proc-chatty', {
        containers: [
          {
            name: 'app',
            image: 'none',
            command: ['sh', '-c', 'head -c 3000000 /dev/zero; exec sleep 100000'],
            resources: { limits: { 'ephemeral-storage': '1Mi' } },
          },
        ],
      }),
    );
    const evicted = (p: P) => p.status?.phase === 'Failed' && p.status.reason === 'Evicted';
    const volume = await waitPod(c.client, 'proc-full-volume', evicted, 'evicted');
    expect(volume.status?.message).toBe('Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
    const chatty = await waitPod(c.client, 'proc-chatty', evicted, 'evicted');
    expect(chatty.status?.message).toBe('Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ');
    expect(containerStatus(chatty, 'app')?.state?.terminated).toBeDefined();
    expect(await eventsOf(c.client, 'proc-chatty')).toContain('Evicted: Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ');
  });
});
