/**
 * The seed's Deployment (3 replicas, `app: web`) on three docker agents with
 * distinct node names on one host: 3 pods run as real containers; when one
 * agent's containers are killed it brings them back; when a whole node dies
 * (its agent stops and its containers are gone), the node lifecycle
 * controller evicts its pods and the Deployment runs them on the other two.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LABELS } from '#lib/agent/runtime';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, PODS } from '#lib/kinds/resources';
import { ROOT } from '../cli/harness.js';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, killContainer, nodeContainers, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, type P, ready } from './harness.js';

const docker = await dockerForTests();

describe.skipIf(!docker)("the seed's Deployment on three docker agents", () => {
  const nodes = [uniqueNode('web-a'), uniqueNode('web-b'), uniqueNode('web-c')];
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    await ensureTestImage();
    c = await agentCluster({
      runtime: 'docker',
      nodeNames: nodes,
      defaultTolerationSeconds: 2,
      controlPlane: { nodeLifecycle: { gracePeriodMs: 4_000 } },
    });
  });

  afterAll(async () => {
    await c?.dispose();
    for (const n of nodes) await removeNodeContainers(n);
  });

  /** Pods of the Deployment that are not being deleted. */
  const activePods = async () => (await c.client.list<P>(PODS, 'default', { labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);
  /** Running app containers of the Deployment, per node. */
  const runningContainers = async (node: string) =>
    (await nodeContainers(node)).filter((x) => x.State === 'running' && x.Labels[LABELS.kind] === 'app' && x.Labels[LABELS.podName]?.startsWith('web-deploy-'));
  const threeReady = async () => {
    const pods = await activePods();
    return pods.length === 3 && pods.every((p) => p.status?.phase === 'Running' && ready(p)) ? pods : undefined;
  };

  it('runs 3 pods as containers and keeps 3 running when one agent’s containers are killed or its node dies', async () => {
    const seed = parse(readFileSync(join(ROOT, 'examples', 'deployment.yaml'), 'utf8')) as KObject & {
      spec: { template: { spec: { containers: Record<string, unknown>[]; terminationGracePeriodSeconds?: number } } };
    };
    // nginx:1.16 cannot be pulled here: the same pod template on a local image, serving HTTP on port 80 as nginx would.
    Object.assign(seed.spec.template.spec.containers[0]!, {
      image: TEST_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', 'mkdir -p /www && echo web > /www/index.html && exec httpd -f -p 80 -h /www'],
      readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1 },
    });
    seed.spec.template.spec.terminationGracePeriodSeconds = 1;
    await c.client.create(DEPLOYMENTS, 'default', seed);

    const pods = await waitFor(threeReady, { timeoutMs: 60_000, what: '3 Running and Ready pods' });
    const counts = await Promise.all(nodes.map(runningContainers));
    expect(counts.reduce((n, x) => n + x.length, 0)).toBe(3);
    expect(new Set(pods.map((p) => p.status?.podIP)).size).toBe(3);

    // One agent's containers die (sandboxes included): that agent brings its pods back.
    const victim = nodes.find((_n, i) => counts[i]!.length > 0)!;
    const victimPods = pods.filter((p) => p.spec?.nodeName === victim).map((p) => p.metadata.name!);
    for (const x of await nodeContainers(victim)) if (x.State === 'running') await killContainer(x.Id);
    await waitFor(
      async () => {
        const now = await threeReady();
        return now && victimPods.every((name) => (now.find((p) => p.metadata.name === name)?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1)
          ? now
          : undefined;
      },
      { timeoutMs: 60_000, what: `the pods on ${victim} to be restarted and Ready` },
    );
    expect((await activePods()).map((p) => p.metadata.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());

    // A whole node dies: its agent stops and its containers are gone. The pods move to the other nodes.
    await c.stopAgent(victim);
    await removeNodeContainers(victim);
    const moved = await waitFor(
      async () => {
        const now = await threeReady();
        return now && now.every((p) => p.spec?.nodeName !== victim) ? now : undefined;
      },
      { timeoutMs: 60_000, what: `3 Ready pods off ${victim}` },
    );
    const survivors = nodes.filter((n) => n !== victim);
    expect(moved.every((p) => survivors.includes(p.spec!.nodeName!))).toBe(true);
    const running = await Promise.all(survivors.map(runningContainers));
    expect(running.reduce((n, x) => n + x.length, 0)).toBe(3);
  });
});
