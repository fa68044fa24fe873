/**
 * The endpoints controller on simulated nodes: a Service's EndpointSlices and
 * Endpoints list the pods it selects with their readiness, follow readiness
 * changes within a second, keep terminating pods in slices (ready=false,
 * serving, terminating) but out of Endpoints, resolve named target ports, and
 * go away with the Service. Fast and deterministic: no containers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints } from '#lib/api/core/v1/endpoints';
import type { Pod } from '#lib/api/core/v1/pod';
import type { EndpointSlice } from '#lib/api/discovery/v1/endpointslice';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { EndpointsController } from '#lib/controllers/endpoints';
import { keysFor } from '#lib/controller-runtime/reconciler';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const rt = (name: string) => resourceByName(name)!;
type P = Pod & KObject;
type ES = EndpointSlice & KObject;
type EP = Endpoints & KObject;

function deployment(name: string, replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx',
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'metrics', containerPort: 9090 },
              ],
            },
          ],
        },
      },
    },
  };
}

function service(name: string, app: string, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { team: 'a' } },
    spec: {
      selector: { app },
      ports: [
        { name: 'web', port: 80, targetPort: 'http' },
        { name: 'admin', port: 9000, targetPort: 9090 },
      ],
      ...extra,
    },
  };
}

describe('endpoints controller (simulated nodes)', () => {
  let c: Awaited<ReturnType<typeof startCluster>>;

  beforeAll(async () => {
    c = await startCluster({ fakeNodes: { names: ['n1', 'n2'], startDelayMs: 20 }, resyncIntervalMs: 60_000 });
  });
  afterAll(async () => c?.dispose());

  const slicesOf = async (svc: string, ns = 'default') =>
    (await c.client.list<ES>(rt('endpointslices'), ns, { labelSelector: `kubernetes.io/service-name=${svc}` })).items;
  const endpointsOf = (svc: string, ns = 'default') => c.client.find<EP>(rt('endpoints'), ns, svc);
  const podsOf = async (app: string) =>
    (await c.client.list<P>(rt('pods'), 'default', { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
  const readyPods = async (app: string, n: number) => {
    const pods = await podsOf(app);
    return pods.length === n && pods.every((p) => p.status?.podIP && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
      ? pods
      : undefined;
  };

  it('lists the ready addresses of the selected pods in EndpointSlices and Endpoints, named ports resolved', async () => {
    await c.client.create(rt('deployments'), 'default', deployment('web', 3));
    await c.client.create(rt('services'), 'default', service('web', 'web'));
    const pods = await waitFor(() => readyPods('web', 3), { what: '3 ready pods' });
    const ips = pods.map((p) => p.status!.podIP!).sort();

    const [slice] = await waitFor(
      async () => {
        const s = await slicesOf('web');
        return s.length === 1 && (s[0]!.endpoints ?? []).length === 3 ? s : undefined;
      },
      { what: 'a slice with 3 endpoints' },
    );
    expect(slice!.addressType).toBe('IPv4');
    expect(slice!.metadata.labels).toEqual({
      team: 'a',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    expect(slice!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true, blockOwnerDeletion: true });
    expect(slice!.ports).toEqual([
      { name: 'web', port: 8080, protocol: 'TCP' },
      { name: 'admin', port: 9090, protocol: 'TCP' },
    ]);
    expect(slice!.endpoints!.map((e) => e.addresses[0]).sort()).toEqual(ips);
    for (const e of slice!.endpoints!) {
      expect(e.conditions).toEqual({ ready: true, serving: true, terminating: false });
      expect(e.targetRef).toMatchObject({ kind: 'Pod', namespace: 'default' });
      expect(['n1', 'n2']).toContain(e.nodeName);
    }

    const ep = await waitFor(
      async () => {
        const e = await endpointsOf('web');
        return (e?.subsets?.[0]?.addresses ?? []).length === 3 ? e : undefined;
      },
      { what: 'Endpoints with 3 addresses' },
    );
    expect(ep.metadata.labels).toEqual({ team: 'a' });
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets![0]!.ports).toEqual([
      { name: 'admin', port: 9090, protocol: 'TCP' },
      { name: 'web', port: 8080, protocol: 'TCP' },
    ]);
    expect(ep.subsets![0]!.addresses!.map((a) => a.ip).sort()).toEqual(ips);
  });

  it('drops a pod that turns not ready within a second, and brings it back when ready again', async () => {
    const pods = await waitFor(() => readyPods('web', 3), { what: '3 ready pods' });
    const victim = pods[0]!;
    const ip = victim.status!.podIP!;
    const setReady = async (ready: boolean) => {
      const cur = await c.client.get<P>(rt('pods'), 'default', victim.metadata.name!);
      const conditions = (cur.status?.conditions ?? []).map((x) =>
        x.type === 'Ready' || x.type === 'ContainersReady' ? { ...x, status: ready ? 'True' : 'False' } : x,
      );
      await c.client.updateStatus(rt('pods'), { ...cur, status: { ...cur.status, conditions } } as KObject);
    };

    await setReady(false);
    const seen = await waitFor(
      async () => {
        const [slice] = await slicesOf('web');
        const e = slice?.endpoints?.find((x) => x.addresses[0] === ip);
        const ep = await endpointsOf('web');
        const notReady = (ep?.subsets?.[0]?.notReadyAddresses ?? []).map((a) => a.ip);
        return e?.conditions?.ready === false && notReady.includes(ip) ? { e, ep } : undefined;
      },
      { timeoutMs: 1_000, intervalMs: 20, what: 'the pod to be listed not ready within a second' },
    );
    expect(seen.e.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect(seen.ep!.subsets![0]!.addresses!.map((a) => a.ip)).not.toContain(ip);
    expect(seen.ep!.subsets![0]!.addresses).toHaveLength(2);

    await setReady(true);
    await waitFor(
      async () => {
        const ep = await endpointsOf('web');
        return (ep?.subsets?.[0]?.addresses ?? []).some((a) => a.ip === ip) && !ep?.subsets?.[0]?.notReadyAddresses;
      },
      { timeoutMs: 1_000, intervalMs: 20, what: 'the pod to be ready again within a second' },
    );
  });

  it('keeps a terminating pod in slices as terminating (serving, not ready) and out of Endpoints', async () => {
    const pods = await waitFor(() => readyPods('web', 3), { what: '3 ready pods' });
    const victim = pods[1]!;
    const ip = victim.status!.podIP!;
    // A finalizer holds the pod in Terminating long enough to look at.
    await c.client.patch(rt('pods'), 'default', victim.metadata.name!, { metadata: { finalizers: ['kumo.io/test-hold'] } });
    await c.client.delete(rt('pods'), 'default', victim.metadata.name!, { gracePeriodSeconds: 0 });
    const e = await waitFor(
      async () => {
        const all = (await slicesOf('web')).flatMap((s) => s.endpoints ?? []);
        return all.find((x) => x.addresses[0] === ip && x.conditions?.terminating);
      },
      { what: 'a terminating endpoint' },
    );
    expect(e.conditions).toEqual({ ready: false, serving: true, terminating: true });
    const ep = await endpointsOf('web');
    expect([...(ep?.subsets ?? []).flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])])].map((a) => a.ip)).not.toContain(ip);

    await c.client.patch(rt('pods'), 'default', victim.metadata.name!, { metadata: { finalizers: null } });
    await waitFor(async () => !(await slicesOf('web')).flatMap((s) => s.endpoints ?? []).some((x) => x.addresses[0] === ip), {
      what: 'the deleted pod to leave the slice',
    });
    // The Deployment replaced it: three ready endpoints again.
    await waitFor(
      async () => {
        const all = (await slicesOf('web')).flatMap((s) => s.endpoints ?? []);
        return all.length === 3 && all.every((x) => x.conditions?.ready);
      },
      { what: '3 ready endpoints after the replacement' },
    );
  });

  it('lists pods whose named target port does not resolve without that port (slices) or not at all (Endpoints); marks headless Services', async () => {
    await c.client.create(rt('services'), 'default', service('grpc', 'web', { clusterIP: 'None', ports: [{ name: 'grpc', port: 50051, targetPort: 'grpc' }] }));
    const [slice] = await waitFor(
      async () => {
        const s = await slicesOf('grpc');
        return s.length === 1 && (s[0]!.endpoints ?? []).length === 3 ? s : undefined;
      },
      { what: 'a slice of 3 endpoints' },
    );
    expect(slice!.ports).toEqual([]);
    expect(slice!.metadata.labels?.['service.kubernetes.io/headless']).toBe('');
    const ep = await waitFor(() => endpointsOf('grpc'), { what: 'Endpoints of grpc' });
    expect(ep.subsets ?? []).toEqual([]);
    expect(ep.metadata.labels).toEqual({ team: 'a', 'service.kubernetes.io/headless': '' });
  });

  it('leaves the Endpoints of a Service without a selector to their user, and removes everything with the Service', async () => {
    await c.client.create(rt('services'), 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { ports: [{ port: 5432 }] } });
    const manual: KObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'external' },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }],
    };
    await c.client.create(rt('endpoints'), 'default', manual);
    await c.client.delete(rt('services'), 'default', 'web');
    await waitFor(async () => (await slicesOf('web')).length === 0 && !(await endpointsOf('web')), { what: 'the slices and Endpoints of web to go' });
    const kept = await endpointsOf('external');
    expect(kept?.subsets?.[0]?.addresses?.[0]?.ip).toBe('192.0.2.10');
    expect(await slicesOf('external')).toEqual([]);
  });

  it('maps a pod change to the Services that select it, reading Services fresh where changes are not observed (the stream driver)', async () => {
    const controller = new EndpointsController(c.client);
    // Primed once, as the stream driver does per batch, then a Service appears that the cache does not know.
    await controller.prime();
    await c.client.create(rt('services'), 'default', service('fresh', 'web'));
    const pod = (await c.client.list<P>(rt('pods'), 'default', { labelSelector: 'app=web' })).items[0]!;
    const prev = structuredClone(pod);
    prev.status = { ...prev.status, conditions: [] };
    const keys = await keysFor([controller], { resource: 'pods', type: 'MODIFIED', object: pod, prev });
    expect(keys.map((k) => k.key)).toContain('default/fresh');
    // A change no endpoint shows queues nothing.
    const same = await keysFor([controller], { resource: 'pods', type: 'MODIFIED', object: pod, prev: structuredClone(pod) });
    expect(same).toEqual([]);
  });
});
