/**
 * The scheduler as a reconciler, against the in-process API on an in-memory
 * store: what it binds and where, what it leaves alone, how it reports a pod
 * that fits nowhere, and binding races between schedulers that do not share
 * a cache (two Lambda invocations at once).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { NODES, PODS } from '#lib/kinds/resources';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport, type Transport, type TransportRequest } from '#lib/client/transport';
import { MemoryRecorder } from '#lib/client/events';
import { objectKey } from '#lib/controller-runtime/reconciler';
import { LeaseLock } from '#lib/scheduler/lease-lock';
import { Scheduler } from '#lib/scheduler/scheduler';
import { SqliteStore } from '#lib/store/sqlite';
import { ManualClock } from '#lib/util/clock';

type P = Pod & KObject;
type N = Node & KObject;

let api: ApiServer;
let client: KubeClient;

beforeEach(async () => {
  api = new ApiServer({ store: new SqliteStore({ path: ':memory:' }) });
  await bootstrap(api.rest);
  client = new KubeClient(new InProcessTransport(api, ADMIN));
});

async function addNode(name: string, cpu = '4', extra: Partial<N['spec']> = {}): Promise<void> {
  const created = await client.create<N>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: extra });
  await client.updateStatus(NODES, {
    ...created,
    status: { allocatable: { cpu, memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  } as KObject);
}

async function addPod(name: string, cpu = '1', spec: Partial<NonNullable<P['spec']>> = {}): Promise<string> {
  const pod = await client.create<P>(PODS, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu } } }], ...spec },
  });
  return objectKey(pod);
}

const nodeOf = async (name: string) => (await client.get<P>(PODS, 'default', name)).spec?.nodeName;

function scheduler(c: KubeClient = client): { s: Scheduler; recorder: MemoryRecorder } {
  const recorder = new MemoryRecorder();
  return { s: new Scheduler(c, recorder, new ManualClock(Date.parse('2026-12-07T00:00:00Z'))), recorder };
}

describe('Scheduler', () => {
  it('binds a pending pod: spec.nodeName, PodScheduled=True and a Scheduled event', async () => {
    await addNode('a');
    const key = await addPod('web');
    const { s, recorder } = scheduler();
    await s.prime();
    expect(await s.listKeys()).toEqual([key]);
    await s.reconcile(key);
    const pod = await client.get<P>(PODS, 'default', 'web');
    expect(pod.spec?.nodeName).toBe('a');
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    expect(recorder.events.map((e) => [e.type, e.reason, e.message])).toEqual([['Normal', 'Scheduled', 'Successfully assigned default/web to a']]);
    expect(await s.listKeys()).toEqual([]);
  });

  it('leaves alone a pod that names its node (spec.nodeName) and a pod for another scheduler', async () => {
    await addNode('a');
    await addNode('b');
    const named = await addPod('named', '1', { nodeName: 'b' });
    const other = await addPod('other', '1', { schedulerName: 'my-scheduler' });
    const { s, recorder } = scheduler();
    await s.prime();
    expect(await s.listKeys()).toEqual([]);
    await s.reconcile(named);
    await s.reconcile(other);
    expect(await nodeOf('named')).toBe('b');
    expect(await nodeOf('other')).toBeUndefined();
    expect(recorder.events).toEqual([]);
  });

  it('counts a pod bound by nodeName against its node', async () => {
    await addNode('a', '2');
    await addNode('b', '2');
    await addPod('named', '2', { nodeName: 'a' });
    const key = await addPod('web', '1');
    const { s } = scheduler();
    await s.prime();
    await s.reconcile(key);
    expect(await nodeOf('web')).toBe('b');
  });

  it('reports a pod that fits nowhere as Unschedulable, retries it on a doubling backoff, and binds it when a node that fits comes', async () => {
    await addNode('small', '500m');
    const key = await addPod('big', '2');
    const { s, recorder } = scheduler();
    await s.prime();
    expect(await s.reconcile(key)).toEqual({ requeueAfterMs: 1000 });
    expect(await s.reconcile(key)).toEqual({ requeueAfterMs: 2000 });
    const pod = await client.get<P>(PODS, 'default', 'big');
    // No pod to preempt could make room: kube-scheduler's PostFilter says so after the filters' counts.
    const message = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message,
    });
    expect(recorder.events[0]).toMatchObject({ type: 'Warning', reason: 'FailedScheduling', message });

    await addNode('large', '4');
    const node = await client.get<N>(NODES, undefined, 'large');
    s.observe({ resource: 'nodes', type: 'ADDED', object: node });
    // A node that comes queues every pod waiting for room.
    expect(s.watches.find((w) => w.resource === 'nodes')!.keys({ resource: 'nodes', type: 'ADDED', object: node })).toEqual([key]);
    await s.reconcile(key);
    expect(await nodeOf('big')).toBe('large');
  });

  it('never books a node twice within one scheduler: what it has just bound counts before its binding comes back', async () => {
    await addNode('a', '1');
    await addNode('b', '1');
    const keys = [await addPod('one'), await addPod('two'), await addPod('three')];
    const { s } = scheduler();
    await s.prime();
    // Reconciled at once, as the stream driver does (eight keys at a time).
    await Promise.all(keys.map((k) => s.reconcile(k)));
    const placed = [await nodeOf('one'), await nodeOf('two'), await nodeOf('three')];
    expect(placed.filter((n) => n === 'a')).toHaveLength(1);
    expect(placed.filter((n) => n === 'b')).toHaveLength(1);
    expect(placed.filter((n) => n === undefined)).toHaveLength(1);
  });
});

describe('Scheduler binding races', () => {
  it('two schedulers racing for one pod: exactly one binds it, the other lets go without an error', async () => {
    await addNode('a');
    await addNode('b');
    const key = await addPod('web');
    const first = scheduler();
    const second = scheduler();
    await Promise.all([first.s.prime(), second.s.prime()]);
    await Promise.all([first.s.reconcile(key), second.s.reconcile(key)]);
    expect(['a', 'b']).toContain(await nodeOf('web'));
    const scheduled = [...first.recorder.events, ...second.recorder.events].filter((e) => e.reason === 'Scheduled');
    expect(scheduled).toHaveLength(1);
  });

  it('two scheduler invocations at once never overcommit a node: each takes the scheduler lease, then primes its cache', async () => {
    await addNode('a', '1');
    const keys = [await addPod('one'), await addPod('two')];
    // Two Lambda containers: a cache each, each invocation priming it and reconciling its own key.
    const invocations = keys.map((key, i) => {
      const { s } = scheduler();
      const lock = new LeaseLock(client, { identity: `invocation-${i}`, durationMs: 60_000, waitMs: 10_000 });
      return lock.run(async () => {
        await s.prime();
        await s.reconcile(key);
      });
    });
    await Promise.all(invocations);
    const placed = [await nodeOf('one'), await nodeOf('two')];
    expect(placed.filter((n) => n === 'a')).toHaveLength(1);
    expect(placed.filter((n) => n === undefined)).toHaveLength(1);
  });

  it('a binding that fails is retried, not lost, and what it assumed is given back', async () => {
    await addNode('a', '1');
    const key = await addPod('web');
    const flaky = new FailingBindings(new InProcessTransport(api, ADMIN), 1);
    const { s } = scheduler(new KubeClient(flaky));
    await s.prime();
    await expect(s.reconcile(key)).rejects.toThrow(/injected/);
    expect(await nodeOf('web')).toBeUndefined();
    // The node's room was not kept for the failed binding: the retry (the work queue's, or the batch's) binds it there.
    await s.reconcile(key);
    expect(await nodeOf('web')).toBe('a');
    expect(flaky.bindings).toBe(2);
  });
});

/** A transport whose first `failures` pod bindings fail as a dropped connection would. */
class FailingBindings implements Transport {
  bindings = 0;
  constructor(
    private readonly inner: Transport,
    private failures: number,
  ) {}
  async request(req: TransportRequest) {
    if (req.path.endsWith('/binding')) {
      this.bindings++;
      if (this.failures-- > 0) throw new Error('injected: connection reset');
    }
    return this.inner.request(req);
  }
  stream(req: TransportRequest) {
    return this.inner.stream(req);
  }
  bytes(req: TransportRequest) {
    return this.inner.bytes(req);
  }
}
