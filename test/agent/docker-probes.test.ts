/**
 * The docker runtime, probes and images: the seed's probe pod (httpd on a
 * busybox image serving /healthz and /ready on port 3000) goes Running and
 * Ready, loses readiness without a restart when /ready goes, and is
 * restarted when /healthz goes; the startup probe gates the others; an image
 * that is not there is ErrImagePull, then ImagePullBackOff.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { waitFor } from '../helpers/wait.js';
import { ROOT } from '../cli/harness.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, containerStatus, eventsOf, PodHistory, podObject, ready, waitPod } from './harness.js';
import { EVENTS, PODS } from '#lib/kinds/resources';

const docker = await dockerForTests();

describe.skipIf(!docker)('docker runtime: probes and images', () => {
  const node = uniqueNode('probes');
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

  const exec = (pod: string, container: string, command: string[]) =>
    c.agents.get(node)!.exec('default', pod, container, command, { stdin: false, tty: false }, {});

  it("runs the seed's probe pod: Ready, then not Ready without a restart, then restarted by its liveness probe", async () => {
    // The seed's manifest as written, on a local image whose httpd serves the two paths, with shorter timings.
    const seed = parse(readFileSync(join(ROOT, 'examples', 'probe-pod.yaml'), 'utf8')) as Pod & KObject;
    const container = seed.spec!.containers![0]!;
    Object.assign(container, {
      image: TEST_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/healthz && echo ok > /www/ready && exec httpd -f -p 3000 -h /www'],
    });
    Object.assign(container.livenessProbe!, { initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 2 });
    Object.assign(container.readinessProbe!, { initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 });
    seed.spec!.terminationGracePeriodSeconds = 1;
    const created = Date.now();
    await c.client.create(PODS, 'default', seed);

    const running = await waitPod(c.client, 'webap1', (p) => p.status?.phase === 'Running' && ready(p), 'Running and Ready');
    console.log(`docker runtime: probe pod Running and Ready ${Date.now() - created} ms after creation (readiness initialDelaySeconds 1)`);
    const first = containerStatus(running, 'webap1')!;
    expect(first).toMatchObject({ ready: true, started: true, restartCount: 0, image: TEST_IMAGE });
    expect(first.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(running.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(running.status?.hostIP).toBe('127.0.0.1');

    expect(await exec('webap1', 'webap1', ['rm', '/www/ready'])).toBe(0);
    const unready = await waitPod(c.client, 'webap1', (p) => !ready(p), 'not Ready');
    expect(containerStatus(unready, 'webap1')).toMatchObject({ ready: false, restartCount: 0, containerID: first.containerID, state: { running: {} } });
    expect(unready.status?.phase).toBe('Running');
    expect(unready.status?.conditions?.find((x) => x.type === 'ContainersReady')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });

    expect(await exec('webap1', 'webap1', ['rm', '/www/healthz'])).toBe(0);
    const restarted = await waitPod(c.client, 'webap1', (p) => (containerStatus(p, 'webap1')?.restartCount ?? 0) >= 1 && ready(p), 'restarted and Ready again');
    const after = containerStatus(restarted, 'webap1')!;
    expect(after.containerID).not.toBe(first.containerID);
    expect(after.lastState?.terminated).toMatchObject({ containerID: first.containerID });
    const events = await eventsOf(c.client, 'webap1');
    expect(events).toContain('Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404');
    expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404');
    expect(events).toContain('Killing: Container webap1 failed liveness probe, will be restarted');
  });

  it('holds liveness and readiness until the startup probe passes; tcpSocket and exec handlers', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('slow-start', {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: TEST_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'sleep 2; touch /tmp/started; mkdir -p /www; exec httpd -f -p 4000 -h /www'],
            ports: [{ name: 'web', containerPort: 4000 }],
            startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 30 },
            livenessProbe: { tcpSocket: { port: 'web' }, periodSeconds: 1 },
            readinessProbe: { tcpSocket: { port: 4000 }, periodSeconds: 1 },
          },
        ],
      }),
    );
    const p = await waitPod(c.client, 'slow-start', ready, 'Ready');
    expect(containerStatus(p, 'app')).toMatchObject({ started: true, ready: true, restartCount: 0 });
    const states = history.of('slow-start').map((x) => containerStatus(x, 'app'));
    // It ran for a while before its startup probe passed, neither started nor ready.
    expect(states.some((s) => s?.state?.running && s.started === false && s.ready === false)).toBe(true);
  });

  it('reports ErrImagePull, then ImagePullBackOff, for an image no registry has', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('no-image', { containers: [{ name: 'app', image: 'kumo-test/not-there:1', imagePullPolicy: 'IfNotPresent', command: ['true'] }] }),
    );
    const backoff = await waitPod(c.client, 'no-image', (p) => containerStatus(p, 'app')?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
    const reasons = history.of('no-image').map((p) => containerStatus(p, 'app')?.state?.waiting?.reason);
    expect(reasons.indexOf('ErrImagePull')).toBeGreaterThanOrEqual(0);
    expect(reasons.indexOf('ErrImagePull')).toBeLessThan(reasons.indexOf('ImagePullBackOff'));
    expect(backoff.status?.phase).toBe('Pending');
    expect(containerStatus(backoff, 'app')?.state?.waiting?.message).toBe('Back-off pulling image "kumo-test/not-there:1"');
    const events = await eventsOf(c.client, 'no-image');
    expect(events).toContain('Failed: Error: ErrImagePull');
    expect(events).toContain('BackOff: Back-off pulling image "kumo-test/not-there:1"');

    await c.client.create(
      PODS,
      'default',
      podObject('never-pull', { containers: [{ name: 'app', image: 'kumo-test/not-there:1', imagePullPolicy: 'Never', command: ['true'] }] }),
    );
    const never = await waitPod(c.client, 'never-pull', (p) => containerStatus(p, 'app')?.state?.waiting?.reason === 'ErrImageNeverPull', 'ErrImageNeverPull');
    expect(containerStatus(never, 'app')?.state?.waiting?.message).toBe('Container image "kumo-test/not-there:1" is not present with pull policy of Never');
    // It is tried again after a back-off, and stays ErrImageNeverPull (no ImagePullBackOff: nothing is pulled).
    await waitFor(
      async () => {
        const events = (await c.client.list<KObject & { reason?: string; count?: number; involvedObject?: { name?: string } }>(EVENTS, 'default')).items;
        return events.some((e) => e.involvedObject?.name === 'never-pull' && e.reason === 'ErrImageNeverPull' && (e.count ?? 1) >= 2);
      },
      { what: 'a second attempt' },
    );
    expect(
      history
        .of('never-pull')
        .map((p) => containerStatus(p, 'app')?.state?.waiting?.reason)
        .filter((r) => r && r !== 'ContainerCreating'),
    ).toEqual(expect.arrayContaining(['ErrImageNeverPull']));
    expect(history.of('never-pull').some((p) => containerStatus(p, 'app')?.state?.waiting?.reason === 'ImagePullBackOff')).toBe(false);
  });
});
