/**
 * The docker runtime enforcing ephemeral-storage limits as the kubelet's
 * eviction manager does: a container whose writable layer outgrows the
 * pod's limit, and an emptyDir volume over its sizeLimit, get their pod
 * evicted (Failed, reason Evicted, the kubelet's message, a Warning event,
 * containers stopped); the node reports the engine's data root as its
 * ephemeral-storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { KObject } from '#lib/api/object';
import { parseQuantity } from '#lib/api/quantity';
import { NODES, PODS } from '#lib/kinds/resources';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, containerStatus, eventsOf, type P, podObject, waitPod } from './harness.js';

const docker = await dockerForTests();

const image = { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent' };
const fill = (mb: number, where: string) => ['sh', '-c', `dd if=/dev/zero of=${where} bs=1024 count=${mb * 1024} 2>/dev/null; exec sleep 100000`];
const evicted = (p: P) => p.status?.phase === 'Failed' && p.status.reason === 'Evicted';

describe.skipIf(!docker)('docker runtime: ephemeral-storage', () => {
  const node = uniqueNode('disk');
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    await ensureTestImage();
    c = await agentCluster({ runtime: 'docker', nodeNames: [node] });
  });

  afterAll(async () => {
    await c?.dispose();
    await removeNodeContainers(node);
  });

  it("reports the engine's data root filesystem as the node's ephemeral-storage, and no hugepages", async () => {
    const n = await c.client.get<Node & KObject>(NODES, undefined, node);
    expect(parseQuantity(n.status?.allocatable?.['ephemeral-storage'])).toBeGreaterThan(0);
    expect(n.status?.capacity).toMatchObject({ 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', pods: '110' });
  });

  it('evicts a pod whose writable layer outgrows its limit, and one whose emptyDir outgrows its sizeLimit', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('disk-layer', {
        containers: [{ name: 'app', ...image, command: fill(4, '/tmp/fill'), resources: { limits: { 'ephemeral-storage': '2Mi' } } }],
      }),
    );
    await c.client.create(
      PODS,
      'default',
      podObject('disk-volume', {
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }],
        containers: [{ name: 'app', ...image, command: fill(3, '/scratch/fill'), volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
      }),
    );
    const layer = await waitPod(c.client, 'disk-layer', evicted, 'evicted', 60_000);
    expect(layer.status?.message).toBe('Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ');
    expect(containerStatus(layer, 'app')?.state?.terminated).toBeDefined();
    expect(await eventsOf(c.client, 'disk-layer')).toContain('Evicted: Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ');
    const volume = await waitPod(c.client, 'disk-volume', evicted, 'evicted', 60_000);
    expect(volume.status?.message).toBe('Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  });
});
