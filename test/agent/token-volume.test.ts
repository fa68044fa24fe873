/**
 * A projected serviceAccountToken volume whose TokenRequest the API refuses
 * (here: a ServiceAccount that does not exist): the pod stays
 * ContainerCreating with the kubelet's FailedMount event and the agent tries
 * again, without harm to its other pods. (The volume's files, renewal and a
 * client using the token: projected-volumes.test.ts and
 * test/agent/in-cluster-client.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { uniqueNode } from './docker.js';
import { agentCluster, containerStatus, eventsOf, podObject, waitGone, waitPod } from './harness.js';
import { PODS } from '#lib/kinds/resources';

describe('a token volume the API refuses', () => {
  const node = uniqueNode('token');
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    c = await agentCluster({ runtime: 'process', nodeNames: [node], agent: { volumeSyncMs: 500 } });
  });

  afterAll(async () => {
    if (!c) return;
    for (const name of ['refused', 'bystander']) await c.client.delete(PODS, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
    for (const name of ['refused', 'bystander']) await waitGone(c.client, name).catch(() => undefined);
    await c.dispose();
  });

  it('is a FailedMount event and a retry, and the node runs its other pods', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('refused', {
        // Pods of an earlier ServiceAccount, since deleted, meet this too.
        serviceAccountName: 'ghost',
        terminationGracePeriodSeconds: 0,
        volumes: [{ name: 'kube-api-access-test', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }],
        containers: [
          {
            name: 'c',
            image: 'none',
            command: ['sleep', '100000'],
            volumeMounts: [{ name: 'kube-api-access-test', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
          },
        ],
      }),
    );
    const failed = await waitFor(
      async () => {
        const events = (await eventsOf(c.client, 'refused')).filter((e) => e.startsWith('FailedMount: '));
        return events.length > 0 ? events : undefined;
      },
      { what: 'a FailedMount event' },
    );
    expect(failed[0]).toMatch(/^FailedMount: MountVolume\.SetUp failed for volume "kube-api-access-test" : failed to fetch token: .+/);
    const p = await waitPod(c.client, 'refused', (x) => containerStatus(x, 'c')?.state?.waiting?.reason === 'ContainerCreating', 'ContainerCreating');
    expect(p.status?.phase).toBe('Pending');

    await c.client.create(
      PODS,
      'default',
      podObject('bystander', { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'none', command: ['sleep', '100000'] }] }),
    );
    await waitPod(c.client, 'bystander', (x) => x.status?.phase === 'Running', 'Running');
    expect((await c.client.get(PODS, 'default', 'refused')).status).toMatchObject({ phase: 'Pending' });
  });
});
