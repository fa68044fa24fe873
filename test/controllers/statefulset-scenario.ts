/**
 * The StatefulSet scenario of the control-loop scenarios (scenarios.ts), so
 * it runs in every mode: in-process on SQLite and from the DynamoDB stream
 * on the emulator. What a user sees through the API: pods made under
 * stable names, each with its claim, a deleted pod made again with
 * the same claim, a new template rolled out from the highest ordinal.
 */
import { expect, it } from 'vitest';
import type { StatefulSet } from '#lib/api/apps/v1/statefulset';
import type { PersistentVolumeClaim } from '#lib/api/core/v1/persistentvolumeclaim';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import type { Harness } from './scenarios.js';

const STATEFULSETS = resourceByName('statefulsets')!;
const PODS = resourceByName('pods')!;
const CLAIMS = resourceByName('persistentvolumeclaims')!;

type P = Pod & KObject;
type S = StatefulSet & KObject;

function statefulSet(name: string, replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas,
      // Parallel and maxUnavailable 2: every step is one round through the stream (OrderedReady is tested with kubectl, test/kubectl/statefulset.test.ts).
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } },
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

/** The set once every replica is ready and of the update revision, which is current. */
async function rolledOut(h: Harness, ns: string, name: string, replicas: number): Promise<S | undefined> {
  const s = await h.client.get<S>(STATEFULSETS, ns, name);
  const st = s.status ?? {};
  const done =
    st.observedGeneration === s.metadata.generation &&
    st.readyReplicas === replicas &&
    st.updatedReplicas === replicas &&
    st.replicas === replicas &&
    st.currentRevision === st.updateRevision;
  return done ? s : undefined;
}

export function statefulSetScenarios(harness: () => Harness, o: { timeoutMs: number; intervalMs: number }): void {
  const wait = { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs };
  it(
    'runs a StatefulSet with a claim per pod, remakes a deleted pod with its claim and rolls out a new template two pods at a time',
    async () => {
      const h = harness();
      const ns = 'default';
      await h.client.create(STATEFULSETS, ns, statefulSet('db', 2));
      await waitFor(() => rolledOut(h, ns, 'db', 2), { ...wait, what: 'db rolled out' });
      const pods = (await h.client.list<P>(PODS, ns, { labelSelector: 'app=db' })).items;
      expect(pods.map((p) => [p.metadata.name, p.spec?.hostname, p.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName])).toEqual([
        ['db-0', 'db-0', 'data-db-0'],
        ['db-1', 'db-1', 'data-db-1'],
      ]);
      const claim = await h.client.get<PersistentVolumeClaim & KObject>(CLAIMS, ns, 'data-db-1');

      const old = pods[1]!;
      await h.client.delete(PODS, ns, 'db-1', { gracePeriodSeconds: 0 });
      const remade = await waitFor(
        async () => {
          const p = await h.client.find<P>(PODS, ns, 'db-1');
          return p && p.metadata.uid !== old.metadata.uid && p.status?.phase === 'Running' ? p : undefined;
        },
        { ...wait, what: 'db-1 made again' },
      );
      expect(remade.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName).toBe('data-db-1');
      expect((await h.client.get(CLAIMS, ns, 'data-db-1')).metadata.uid).toBe(claim.metadata.uid);

      const before = await h.client.get<S>(STATEFULSETS, ns, 'db');
      const patch = { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } };
      await h.client.patch(STATEFULSETS, ns, 'db', patch, 'strategic');
      const done = await waitFor(() => rolledOut(h, ns, 'db', 2), { ...wait, what: 'db rolled out again' });
      const images = (await h.client.list<P>(PODS, ns, { labelSelector: 'app=db' })).items.map((p) => p.spec?.containers?.[0]?.image);
      expect(images).toEqual(['busybox:2', 'busybox:2']);
      expect(done.status?.currentRevision).not.toBe(before.status?.currentRevision);
    },
    o.timeoutMs * 3,
  );
}
