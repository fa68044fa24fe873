/**
 * Parallel reconcilers (what parallel Lambda invocations are) acting on the
 * same ReplicaSet and Job must never create more pods than asked for.
 */
import { describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { MemoryRecorder } from '#lib/client/events';
import { JobController } from '#lib/controllers/job';
import { ReplicaSetController } from '#lib/controllers/replicaset';
import { startCluster } from '../helpers/cluster.js';
import { JOBS, PODS, PodTracker, REPLICASETS } from './scenarios.js';

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

describe('parallel reconcilers', () => {
  it('never overshoot a ReplicaSet, through scale-ups, pod deletions and scale-downs', async () => {
    const cluster = await startCluster({ controllers: false });
    try {
      const c = cluster.client;
      await c.create(REPLICASETS, 'default', replicaSet('race', 5));
      const tracker = new PodTracker(c, 'default', 'app=race');
      await tracker.start();
      const controllers = Array.from({ length: 4 }, () => new ReplicaSetController(c, new MemoryRecorder()));
      const storm = async (rounds: number) => {
        await Promise.all(
          controllers.map(async (rc) => {
            for (let i = 0; i < rounds; i++) await rc.reconcile('default/race');
          }),
        );
      };
      await storm(6);
      let pods = (await c.list(PODS, 'default', { labelSelector: 'app=race' })).items;
      expect(pods).toHaveLength(5);
      expect(tracker.maxActive).toBe(5);

      // Two pods die; the same storm must replace exactly two.
      for (const p of pods.slice(0, 2)) await c.delete(PODS, 'default', p.metadata.name!);
      await storm(6);
      pods = (await c.list(PODS, 'default', { labelSelector: 'app=race' })).items;
      expect(pods).toHaveLength(5);
      expect(tracker.maxActive).toBe(5);

      // Scale down to 2 under the storm: exactly 3 go.
      const rs = await c.get(REPLICASETS, 'default', 'race');
      await c.update(REPLICASETS, { ...rs, spec: { ...(rs.spec as object), replicas: 2 } });
      await storm(6);
      pods = (await c.list(PODS, 'default', { labelSelector: 'app=race' })).items;
      expect(pods).toHaveLength(2);
      const final = await c.get(REPLICASETS, 'default', 'race');
      expect(final.metadata.annotations?.['kumo.io/expectations']).toBeUndefined();
      await tracker.stop();
      expect(tracker.maxActive).toBe(5);
    } finally {
      await cluster.dispose();
    }
  }, 60_000);

  it('never run more Job pods than parallelism allows', async () => {
    const cluster = await startCluster({ controllers: false });
    try {
      const c = cluster.client;
      await c.create(JOBS, 'default', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'jrace' },
        spec: { completions: 10, parallelism: 3, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
      });
      const tracker = new PodTracker(c, 'default', 'job-name=jrace');
      await tracker.start();
      const controllers = Array.from({ length: 4 }, () => new JobController(c, new MemoryRecorder()));
      await Promise.all(
        controllers.map(async (jc) => {
          for (let i = 0; i < 6; i++) await jc.reconcile('default/jrace');
        }),
      );
      const pods = (await c.list(PODS, 'default', { labelSelector: 'job-name=jrace' })).items;
      await tracker.stop();
      expect(pods).toHaveLength(3);
      expect(tracker.maxActive).toBe(3);
    } finally {
      await cluster.dispose();
    }
  }, 60_000);
});
