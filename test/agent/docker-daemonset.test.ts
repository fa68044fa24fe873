/**
 * A DaemonSet on docker agents: its pod runs as a container on the one
 * node there is, and a node that joins (a second agent started later) gets
 * its own pod, running as a container there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '#lib/agent/runtime';
import type { KObject } from '#lib/api/object';
import { DAEMONSETS, PODS } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, nodeContainers, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, type P, ready } from './harness.js';

const docker = await dockerForTests();

describe.skipIf(!docker)('a DaemonSet on docker agents', () => {
  const first = uniqueNode('ds-a');
  const joined = uniqueNode('ds-b');
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    await ensureTestImage();
    c = await agentCluster({ runtime: 'docker', nodeNames: [first] });
  });

  afterAll(async () => {
    await c?.dispose();
    for (const n of [first, joined]) await removeNodeContainers(n);
  });

  /** The node's running daemon container, if any. */
  const daemonContainer = async (node: string) =>
    (await nodeContainers(node)).find((x) => x.State === 'running' && x.Labels[LABELS.kind] === 'app' && x.Labels[LABELS.podName]?.startsWith('node-agent-'));
  /** The DaemonSet's Running and Ready pod on `node`. */
  const readyPodOn = async (node: string) =>
    (await c.client.list<P>(PODS, 'default', { labelSelector: 'app=node-agent' })).items.find(
      (p) => p.spec?.nodeName === node && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && ready(p),
    );

  it('runs its pod as a container on every node, and on a node as soon as it joins', async () => {
    await c.client.create(DAEMONSETS, 'default', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'node-agent' },
      spec: {
        selector: { matchLabels: { app: 'node-agent' } },
        template: {
          metadata: { labels: { app: 'node-agent' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'agent', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exec sleep 3600'] }],
          },
        },
      },
    } as KObject);
    await waitFor(() => readyPodOn(first), { timeoutMs: 60_000, what: `a ready pod on ${first}` });
    expect(await daemonContainer(first)).toBeDefined();

    await c.startAgent(joined, 'docker');
    const pod = await waitFor(() => readyPodOn(joined), { timeoutMs: 60_000, what: `a ready pod on ${joined}` });
    expect(await daemonContainer(joined)).toMatchObject({ Labels: expect.objectContaining({ [LABELS.podName]: pod.metadata.name }) });
    const ds = await waitFor(
      async () => {
        const d = await c.client.get<KObject & { status?: Record<string, number> }>(DAEMONSETS, 'default', 'node-agent');
        return d.status?.numberAvailable === 2 ? d : undefined;
      },
      { timeoutMs: 30_000, what: 'two available' },
    );
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2 });
  });
});
