/**
 * The owner index in its cloud mode: parallel reconcilers (parallel Lambda
 * invocations, one index each) reading pods from views loaded at different
 * times, most of them behind the others' writes, must still never create
 * more pods than asked for. What keeps them honest is the pod revision the
 * expectations record (observed-pods-revision): a view older than the one a
 * reservation was cleared from is reloaded first.
 */
import { describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { MemoryRecorder } from '#lib/client/events';
import { OBSERVED_PODS_ANNOTATION } from '#lib/controllers/expectations';
import { ResourceRegistry } from '#lib/api/registry';
import { OwnerIndex } from '#lib/controllers/owner-index';
import { ReplicaSetController } from '#lib/controllers/replicaset';
import { startCluster } from '../helpers/cluster.js';
import { PODS, PodTracker, REPLICASETS } from './scenarios.js';

function replicaSet(name: string, replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

describe('parallel reconcilers with an owner index each', () => {
  it('never overshoot a ReplicaSet while their views lag each other', async () => {
    const cluster = await startCluster({ controllers: false });
    try {
      const c = cluster.client;
      await c.create(REPLICASETS, 'default', replicaSet('lag', 5));
      const tracker = new PodTracker(c, 'default', 'app=lag');
      await tracker.start();
      const workers = Array.from({ length: 4 }, () => {
        const index = new OwnerIndex(c, new ResourceRegistry([PODS]));
        index.invalidate(); // batch mode: a view is kept until invalidated or found too old
        return { index, rc: new ReplicaSetController(c, new MemoryRecorder(), undefined, index) };
      });
      const storm = async (rounds: number) => {
        await Promise.all(
          workers.map(async ({ index, rc }, w) => {
            for (let i = 0; i < rounds; i++) {
              // A new batch now and then: each worker's view is loaded at its own moment.
              if ((i + w) % 4 === 0) index.invalidate();
              await rc.reconcile('default/lag');
            }
          }),
        );
      };
      await storm(8);
      let pods = (await c.list(PODS, 'default', { labelSelector: 'app=lag' })).items;
      expect(pods).toHaveLength(5);
      expect(tracker.maxActive).toBe(5);

      for (const p of pods.slice(0, 3)) await c.delete(PODS, 'default', p.metadata.name!);
      await storm(8);
      pods = (await c.list(PODS, 'default', { labelSelector: 'app=lag' })).items;
      expect(pods).toHaveLength(5);
      expect(tracker.maxActive).toBe(5);

      const rs = await c.get(REPLICASETS, 'default', 'lag');
      await c.update(REPLICASETS, { ...rs, spec: { ...(rs.spec as object), replicas: 2 } });
      await storm(8);
      pods = (await c.list(PODS, 'default', { labelSelector: 'app=lag' })).items;
      expect(pods).toHaveLength(2);
      const final = await c.get(REPLICASETS, 'default', 'lag');
      expect(final.metadata.annotations?.['kumo.io/expectations']).toBeUndefined();
      expect(Number(final.metadata.annotations?.[OBSERVED_PODS_ANNOTATION])).toBeGreaterThan(0);
      await tracker.stop();
      expect(tracker.maxActive).toBe(5);
    } finally {
      await cluster.dispose();
    }
  }, 60_000);
});
