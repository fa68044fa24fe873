import { describe, expect, it } from 'vitest';
import type { Event } from '#lib/api/core/v1/event';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { EVENTS } from '#lib/kinds/resources';
import { EventRecorder } from '#lib/client/events';
import { startCluster } from '../helpers/cluster.js';

describe('EventRecorder', () => {
  it('aggregates repeats into one Event, across recorders in different processes', async () => {
    const cluster = await startCluster({ controllers: false });
    try {
      const c = cluster.client;
      const pod = await c.create(resourceByName('pods')!, 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      const a = new EventRecorder(c, 'kubelet');
      const b = new EventRecorder(c, 'kubelet');
      for (let i = 0; i < 3; i++) await a.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
      await b.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
      await a.record(pod, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
      const events = (await c.list<Event & KObject>(EVENTS, 'default', { fieldSelector: 'involvedObject.name=p' })).items;
      const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
      expect(events).toHaveLength(2);
      expect(byReason.BackOff?.count).toBe(4);
      expect(byReason.Pulled?.count).toBe(1);
      expect(byReason.BackOff?.involvedObject.uid).toBe(pod.metadata.uid);
      expect(byReason.BackOff?.source?.component).toBe('kubelet');
    } finally {
      await cluster.dispose();
    }
  });
});
