/**
 * A projected serviceAccountToken volume whose TokenRequest the API refuses
 * (here: its ServiceAccount was deleted after the pod was admitted): the pod stays
 * ContainerCreating with the kubelet's FailedMount event and the agent tries
 * again, without harm to its other pods. (The volume's files, renewal and a
 * client using the token: projected-volumes.test.ts and
 * test/agent/in-cluster-client.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { uniqueNode } from './docker.js';
import { agentCluster, containerStatus, eventsOf, podObject, waitGone, waitPod } from './harness.js';
import type { KObject } from '#lib/api/object';
import { PODS, SERVICE_ACCOUNTS } from '#lib/kinds/resources';

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
    // The agent is away while the pod is admitted and its ServiceAccount deleted, so its first TokenRequest is refused.
    await c.stopAgent(node);
    await c.client.create(SERVICE_ACCOUNTS, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ghost' } } as KObject);
    await c.client.create(
      PODS,
      'default',
      podObject('refused', {
        nodeName: node,
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
    await c.client.delete(SERVICE_ACCOUNTS, 'default', 'ghost');
    await c.startAgent(node, 'process');
    const failed = await waitFor(
      async () => {
        const events = (await eventsOf(c.client, 'refused')).filter((e) => e.startsWith('FailedMount: '));
        return events.length > 0 ? events : undefined;
      },
      { what: 'a FailedMount event' },
    );
    expect(failed[0]).toBe(
      'FailedMount: MountVolume.SetUp failed for volume "kube-api-access-test" : failed to fetch token: serviceaccounts "ghost" not found',
    );
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
