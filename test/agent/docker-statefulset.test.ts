/**
 * A StatefulSet on a real Docker engine: its pod's claim, of no class, gets
 * the default class kumo-local-path (WaitForFirstConsumer), is provisioned
 * as a local-path volume once the scheduler has put the pod on the node, and what the pod writes there is still there when the
 * pod is deleted and the controller makes it again under the same name,
 * hostname and claim.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { PODS, resourceByName } from '#lib/kinds/resources';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, type P, ready, waitPod } from './harness.js';

const docker = await dockerForTests();

describe.skipIf(!docker)('a StatefulSet on a docker agent', () => {
  const node = uniqueNode('sts');
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    await ensureTestImage();
    c = await agentCluster({ runtime: 'docker', nodeNames: [node] });
  }, 60_000);

  afterAll(async () => {
    await c?.dispose();
    await removeNodeContainers(node);
  });

  const exec = async (pod: P, command: string[]) => {
    let out = '';
    const collect = (b: Uint8Array) => (out += Buffer.from(b).toString());
    await c.agents.get(node)!.exec('default', pod.metadata.name!, 'c', command, { stdin: false, tty: false }, { stdout: collect, stderr: collect });
    return out;
  };

  it("keeps a replica's data across the pod being deleted and made again", async () => {
    const stamp = randomBytes(6).toString('hex');
    const set: KObject = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'kv' },
      spec: {
        serviceName: 'kv',
        replicas: 1,
        selector: { matchLabels: { app: 'kv' } },
        template: {
          metadata: { labels: { app: 'kv' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'c',
                image: TEST_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                // The first run writes the stamp; later runs find it.
                command: ['sh', '-c', `[ -f /data/stamp ] || echo ${stamp} > /data/stamp; exec sleep 3600`],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    await c.client.create(resourceByName('statefulsets')!, 'default', set);
    const first = await waitPod(c.client, 'kv-0', (p) => p.status?.phase === 'Running' && ready(p), 'Running and Ready', 60_000);
    expect(await exec(first, ['cat', '/data/stamp'])).toBe(`${stamp}\n`);
    expect(await exec(first, ['hostname'])).toBe('kv-0\n');
    const claim = await c.client.get<KObject & { spec?: { storageClassName?: string } }>(resourceByName('persistentvolumeclaims')!, 'default', 'data-kv-0');
    expect(claim.spec?.storageClassName).toBe('kumo-local-path');
    expect(claim.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe(node);
    // What the first pod writes after start lands in the same volume.
    await exec(first, ['sh', '-c', 'echo more >> /data/stamp']);

    await c.client.delete(PODS, 'default', 'kv-0');
    const second = await waitPod(
      c.client,
      'kv-0',
      (p) => p.metadata.uid !== first.metadata.uid && p.status?.phase === 'Running' && ready(p),
      'made again',
      60_000,
    );
    expect(second.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName).toBe('data-kv-0');
    expect(await exec(second, ['cat', '/data/stamp'])).toBe(`${stamp}\nmore\n`);
    expect(await exec(second, ['hostname'])).toBe('kv-0\n');
  });
});
