/**
 * The simulated nodes hold on to their own truth as a kubelet does: a node
 * the node lifecycle controller marked unreachable while its heartbeats came
 * late (a loaded machine, a laptop asleep) comes back once they flow again,
 * its pods are Ready again, and lease renewals never overlap. In-process API
 * on SQLite; the controller's clock runs ahead to make the heartbeats late.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { TAINT_UNREACHABLE } from '#lib/api/taints';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport, type Transport, type TransportRequest } from '#lib/client/transport';
import { EventRecorder } from '#lib/client/events';
import { NodeLifecycleController } from '#lib/controllers/nodelifecycle';
import { NODES, PODS } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';
import { FakeNodes } from '#lib/sim/fake-nodes';
import { SqliteStore } from '#lib/store/sqlite';
import { waitFor } from '../helpers/wait.js';

type N = Node & KObject;
type P = Pod & KObject;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function inProcessApi(wrap: (t: Transport) => Transport = (t) => t): Promise<KubeClient> {
  const store = new SqliteStore({ path: ':memory:' });
  const api = new ApiServer({ store });
  await bootstrap(api.rest);
  cleanups.push(() => store.close());
  return new KubeClient(wrap(new InProcessTransport(api, ADMIN)));
}

async function startNodes(client: KubeClient, opts: { leaseRenewMs: number; statusUpdateMs: number }): Promise<FakeNodes> {
  const fake = new FakeNodes(client, { names: ['node-a'], startDelayMs: 0, logger: silentLogger, ...opts });
  await fake.start();
  cleanups.push(() => fake.stop());
  return fake;
}

const readyOf = (o: N | P) => (o.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status;
const taintKeys = (n: N) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);

/** A node lifecycle controller (grace 10 s) whose clock runs `late` ms ahead: it sees heartbeats that much older. */
function lateLifecycle(client: KubeClient): { lifecycle: NodeLifecycleController; clock: { late: number; now(): number } } {
  const clock = { late: 0, now: () => Date.now() + clock.late };
  return { lifecycle: new NodeLifecycleController(client, new EventRecorder(client, 'node-controller'), clock, { gracePeriodMs: 10_000 }), clock };
}

describe('FakeNodes', () => {
  it('posts Ready again on a node marked unreachable while its heartbeats came late, so the node lifecycle controller untaints it', async () => {
    const client = await inProcessApi();
    await startNodes(client, { leaseRenewMs: 60_000, statusUpdateMs: 20 });
    const { lifecycle, clock } = lateLifecycle(client);

    clock.late = 30_000; // the controller sees the last heartbeat 30 s old
    await lifecycle.reconcile('node-a');
    expect(taintKeys(await client.get<N>(NODES, undefined, 'node-a'))).toEqual([`${TAINT_UNREACHABLE}:NoExecute`, `${TAINT_UNREACHABLE}:NoSchedule`]);

    clock.late = 0; // heartbeats flow again: the node posts Ready, as a kubelet's status loop does
    await waitFor(async () => readyOf(await client.get<N>(NODES, undefined, 'node-a')) === 'True', { timeoutMs: 5_000, what: 'node-a Ready again' });
    await lifecycle.reconcile('node-a');
    expect(taintKeys(await client.get<N>(NODES, undefined, 'node-a'))).toEqual([]);
  });

  it('makes a running pod Ready again after the node lifecycle controller marked it not ready', async () => {
    const client = await inProcessApi();
    await startNodes(client, { leaseRenewMs: 60_000, statusUpdateMs: 20 });
    await client.create(PODS, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        nodeName: 'node-a',
        containers: [{ name: 'c', image: 'nginx' }],
        tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      },
    });
    await waitFor(async () => readyOf(await client.get<P>(PODS, 'default', 'web')) === 'True', { timeoutMs: 5_000, what: 'web Ready' });
    const seen: string[] = [];
    const stop = new AbortController();
    const list = await client.list<P>(PODS, 'default');
    const events = await client.watch(PODS, 'default', { resourceVersion: list.metadata.resourceVersion }, stop.signal);
    const watching = (async () => {
      for await (const ev of events)
        seen.push(`${readyOf(ev.object as P)}:${(ev.object as P).status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? ''}`);
    })().catch(() => undefined);
    const { lifecycle, clock } = lateLifecycle(client);

    clock.late = 30_000;
    await lifecycle.reconcile('node-a');
    await waitFor(() => seen.at(-1) === 'True:', { timeoutMs: 5_000, what: 'web Ready again' });
    stop.abort();
    await watching;
    expect(seen).toContain('False:NodeNotReady');
    expect((await client.get<P>(PODS, 'default', 'web')).metadata.deletionTimestamp).toBeUndefined();
  });

  it('never starts a lease renewal while the last one is under way', async () => {
    let inFlight = 0;
    let most = 0;
    let renewals = 0;
    // Every lease write takes 150 ms, ten renewal intervals.
    const slowLeases = (inner: Transport): Transport => ({
      async request(req: TransportRequest) {
        if (req.method !== 'PUT' || !req.path.includes('/leases/')) return inner.request(req);
        most = Math.max(most, ++inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, 150));
          const res = await inner.request(req);
          if (res.status === 200) renewals++;
          return res;
        } finally {
          inFlight--;
        }
      },
      stream: (req) => inner.stream(req),
      bytes: (req) => inner.bytes(req),
    });
    const client = await inProcessApi(slowLeases);
    await startNodes(client, { leaseRenewMs: 15, statusUpdateMs: 60_000 });
    await waitFor(() => renewals >= 3, { timeoutMs: 5_000, what: 'three renewals' });
    expect(most).toBe(1);
  });
});
