/**
 * The agent's poll mode (`kumo agent --poll-interval`, the cloud stack's
 * economy cadence): it relists its pods, the Services and the
 * EndpointSlices instead of holding watches, and still runs, updates and
 * deletes the pods bound to its node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { type ResourceType } from '#lib/api/registry';
import { CONFIGMAPS, PODS } from '#lib/kinds/resources';
import { KubeClient, type WatchOptions } from '#lib/client/client';
import { Informer, type InformerEventType } from '#lib/client/informer';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { uniqueNode } from './docker.js';
import { agentCluster, containerStatus, podObject, waitGone, waitPod } from './harness.js';
import { silentLogger } from '#lib/log/logger';

/** A client that refuses to watch: what poll mode must never need. */
class NoWatchClient extends KubeClient {
  watches = 0;
  override watch(rt: ResourceType, namespace: string | undefined, opts: WatchOptions, signal?: AbortSignal) {
    this.watches++;
    return super.watch(rt, namespace, opts, signal);
  }
}

describe('informer poll mode', () => {
  let c: Awaited<ReturnType<typeof startCluster>>;
  beforeAll(async () => {
    c = await startCluster({ controllers: false });
  });
  afterAll(async () => {
    await c?.dispose();
  });

  it('hands over additions, changes and deletions from relists, holding no watch', async () => {
    const client = new NoWatchClient(c.client.transport);
    const seen: Array<[InformerEventType, string, string | undefined]> = [];
    const informer = new Informer(client, CONFIGMAPS, {
      namespace: 'default',
      pollIntervalMs: 100,
      onChange: (type, obj) => void seen.push([type, obj.metadata.name!, (obj as KObject & { data?: Record<string, string> }).data?.k]),
      logger: silentLogger,
    });
    const cm = (name: string, k: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k } }) as KObject;
    await c.client.create(CONFIGMAPS, 'default', cm('before', '1'));
    await informer.start();
    try {
      await c.client.create(CONFIGMAPS, 'default', cm('after', '1'));
      await waitFor(() => informer.get('default', 'after') !== undefined, { what: 'the new ConfigMap in the informer' });
      const live = await c.client.get(CONFIGMAPS, 'default', 'before');
      await c.client.update(CONFIGMAPS, { ...live, data: { k: '2' } } as KObject);
      await c.client.delete(CONFIGMAPS, 'default', 'after');
      await waitFor(() => !informer.get('default', 'after') && (informer.get('default', 'before') as KObject & { data?: { k?: string } })?.data?.k === '2', {
        what: 'the change and the deletion',
      });
    } finally {
      await informer.stop();
    }
    expect(seen).toEqual([
      ['ADDED', 'before', '1'],
      ['ADDED', 'after', '1'],
      ['MODIFIED', 'before', '2'],
      ['DELETED', 'after', '1'],
    ]);
    expect(client.watches).toBe(0);
  });
});

describe('agent poll mode', () => {
  const node = uniqueNode('poll');
  let c: Awaited<ReturnType<typeof agentCluster>>;
  beforeAll(async () => {
    c = await agentCluster({ runtime: 'process', nodeNames: [node], agent: { pollIntervalMs: 300 } });
  });
  afterAll(async () => {
    await c?.dispose();
  });

  it('starts a pod bound to its node and finishes its deletion from relists', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('polled', {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'none', command: ['sh', '-c', 'exec sleep 100000'] }],
      }),
    );
    const p = await waitPod(c.client, 'polled', (x) => x.status?.phase === 'Running' && !!containerStatus(x, 'app')?.state?.running, 'Running');
    expect(containerStatus(p, 'app')?.ready).toBe(true);
    await c.client.delete(PODS, 'default', 'polled');
    await waitGone(c.client, 'polled');
  });
});
