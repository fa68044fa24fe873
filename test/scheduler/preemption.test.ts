/**
 * Priority and preemption in the scheduler, against the in-process API on
 * an in-memory store: the order waiting pods are taken in, which pods a pod
 * that fits nowhere preempts and where (kube's DefaultPreemption), what the
 * victims and the preemptor show afterwards, what preemption refuses to do,
 * and two schedulers that do not share a cache preempting for one pod.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { NODES, PODS, resourceByName } from '#lib/kinds/resources';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { MemoryRecorder } from '#lib/client/events';
import { objectKey } from '#lib/controller-runtime/reconciler';
import { WorkQueue } from '#lib/controller-runtime/workqueue';
import { Scheduler } from '#lib/scheduler/scheduler';
import { budgetFilter, type BudgetFilter } from '#lib/scheduler/preemption';
import { SqliteStore } from '#lib/store/sqlite';
import { ManualClock } from '#lib/util/clock';

type P = Pod & KObject;
type N = Node & KObject;

let client: KubeClient;

beforeEach(async () => {
  const api = new ApiServer({ store: new SqliteStore({ path: ':memory:' }) });
  await bootstrap(api.rest);
  client = new KubeClient(new InProcessTransport(api, ADMIN));
});

async function addNode(name: string, labels: Record<string, string> = {}): Promise<void> {
  const created = await client.create<N>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
  await client.updateStatus(NODES, {
    ...created,
    status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  } as KObject);
}

interface PodOptions {
  cpu?: string;
  priority?: number;
  node?: string;
  labels?: Record<string, string>;
  spec?: Partial<NonNullable<P['spec']>>;
  preemptionPolicy?: 'Never';
  startTime?: string;
}

/** The PriorityClass `priority-N[-never]` of value N (Priority admission resolves a pod's priority and preemptionPolicy from its class). */
async function priorityClass(value: number, preemptionPolicy?: 'Never'): Promise<string> {
  const name = `priority-${value}${preemptionPolicy ? '-never' : ''}`;
  const classes = resourceByName('priorityclasses')!;
  if (!(await client.find(classes, undefined, name))) {
    await client.create(classes, undefined, {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name },
      value,
      ...(preemptionPolicy ? { preemptionPolicy } : {}),
    } as KObject);
  }
  return name;
}

/** A pod asking for `cpu`, at `priority`; with `node`, bound there and Running (started at `startTime`). */
async function addPod(name: string, o: PodOptions = {}): Promise<string> {
  const pod = await client.create<P>(PODS, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: o.labels ?? {} },
    spec: {
      containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: o.cpu ?? '1' } } }],
      ...(o.priority !== undefined ? { priorityClassName: await priorityClass(o.priority, o.preemptionPolicy) } : {}),
      ...(o.node ? { nodeName: o.node } : {}),
      ...o.spec,
    },
  });
  if (o.node) {
    await client.updateStatus(PODS, { ...pod, status: { phase: 'Running', startTime: o.startTime ?? '2026-12-07T00:00:00Z' } } as KObject);
  }
  return objectKey(pod);
}

const get = (name: string) => client.get<P>(PODS, 'default', name);
const find = (name: string) => client.find<P>(PODS, 'default', name);

function scheduler(budgets?: () => Promise<BudgetFilter>): { s: Scheduler; recorder: MemoryRecorder } {
  const recorder = new MemoryRecorder();
  const clock = new ManualClock(Date.parse('2026-12-07T01:00:00Z'));
  return { s: new Scheduler(client, recorder, clock, ...(budgets ? [budgets] : [])), recorder };
}

/** What the kubelet does once a deleted pod's containers have stopped. */
async function finishDeletion(name: string): Promise<void> {
  await client.delete(PODS, 'default', name, { gracePeriodSeconds: 0 });
}

const unschedulableMessage = async (name: string) => (await get(name)).status?.conditions?.find((c) => c.type === 'PodScheduled')?.message;

describe('preemption', () => {
  it('evicts the lowest-priority pod that makes room: DisruptionTarget, a graceful delete, a Preempted event, nominatedNodeName; binds once it is gone', async () => {
    await addNode('a');
    await addNode('b');
    await addPod('low', { cpu: '3', priority: 10, node: 'a' });
    await addPod('mid', { cpu: '3', priority: 100, node: 'b' });
    const key = await addPod('urgent', { cpu: '2', priority: 1000 });
    const { s, recorder } = scheduler();
    await s.prime();
    await s.reconcile(key);

    const victim = await get('low');
    expect(victim.metadata.deletionTimestamp).toBeDefined();
    expect(victim.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(victim.status?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: 'default-scheduler: preempting to accommodate a higher priority pod',
    });
    expect((await get('mid')).metadata.deletionTimestamp).toBeUndefined();
    const urgent = await get('urgent');
    expect(urgent.spec?.nodeName).toBeUndefined();
    expect(urgent.status?.nominatedNodeName).toBe('a');
    expect(await unschedulableMessage('urgent')).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    expect(recorder.events.map((e) => [e.obj.metadata.name, e.reason, e.message])).toEqual([
      ['low', 'Preempted', `Preempted by pod ${urgent.metadata.uid} on node a`],
      ['urgent', 'FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.'],
    ]);

    // Again while the victim terminates: nothing more is preempted.
    await s.reconcile(key);
    expect((await get('mid')).metadata.deletionTimestamp).toBeUndefined();

    await finishDeletion('low');
    s.observe({ resource: 'pods', type: 'DELETED', object: victim });
    await s.reconcile(key);
    expect((await get('urgent')).spec?.nodeName).toBe('a');
  });

  it('prefers the node whose victims matter least: fewest budget breaks, lowest top priority, lowest sum, fewest pods, latest started', async () => {
    for (const n of ['a', 'b', 'c']) await addNode(n);
    // a: one pod at 50; b: two pods at 20 (lower top priority wins over fewer victims); c: one pod at 20 started earlier than b's.
    await addPod('a1', { cpu: '4', priority: 50, node: 'a' });
    await addPod('b1', { cpu: '2', priority: 20, node: 'b', startTime: '2026-12-07T00:30:00Z' });
    await addPod('b2', { cpu: '2', priority: 20, node: 'b', startTime: '2026-12-07T00:40:00Z' });
    await addPod('c1', { cpu: '4', priority: 20, node: 'c', startTime: '2026-12-07T00:10:00Z' });
    const key = await addPod('urgent', { cpu: '3', priority: 1000 });
    const { s } = scheduler();
    await s.prime();
    await s.reconcile(key);
    // c has one victim at 20 against b's two (sum); a's victim outranks both.
    expect((await get('urgent')).status?.nominatedNodeName).toBe('c');
    expect((await get('c1')).metadata.deletionTimestamp).toBeDefined();
    for (const n of ['a1', 'b1', 'b2']) expect((await get(n)).metadata.deletionTimestamp).toBeUndefined();
  });

  it('keeps the pods it can: only as many victims as the pod needs, the least important first', async () => {
    await addNode('a');
    await addPod('older', { cpu: '1', priority: 5, node: 'a', startTime: '2026-12-07T00:00:00Z' });
    await addPod('newer', { cpu: '1', priority: 5, node: 'a', startTime: '2026-12-07T00:30:00Z' });
    await addPod('lowest', { cpu: '1', priority: 1, node: 'a' });
    await addPod('peer', { cpu: '1', priority: 100, node: 'a' });
    const key = await addPod('urgent', { cpu: '2', priority: 100 });
    const { s } = scheduler();
    await s.prime();
    await s.reconcile(key);
    const deleting = async (n: string) => (await get(n)).metadata.deletionTimestamp !== undefined;
    expect({ lowest: await deleting('lowest'), newer: await deleting('newer'), older: await deleting('older'), peer: await deleting('peer') }).toEqual({
      lowest: true,
      newer: true,
      older: false,
      peer: false,
    });
  });

  it('spares pods a disruption budget protects when another choice exists', async () => {
    await addNode('a');
    await addNode('b');
    await addPod('guarded', { cpu: '3', priority: 1, node: 'a', labels: { app: 'db' } });
    await addPod('free', { cpu: '3', priority: 10, node: 'b', labels: { app: 'web' } });
    const key = await addPod('urgent', { cpu: '2', priority: 1000 });
    const budget = { metadata: { namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } };
    const { s } = scheduler(() => Promise.resolve(budgetFilter([budget])));
    await s.prime();
    await s.reconcile(key);
    expect((await get('urgent')).status?.nominatedNodeName).toBe('b');
    expect((await get('guarded')).metadata.deletionTimestamp).toBeUndefined();
  });

  it('says why it cannot help, as kube-scheduler words it, and preempts nothing', async () => {
    await addNode('a');
    await addNode('b', { disk: 'ssd' });
    await addPod('same', { cpu: '4', priority: 100, node: 'b' });
    await addPod('low', { cpu: '4', priority: 1, node: 'a' });
    const { s } = scheduler();
    const never = await addPod('never', { cpu: '2', priority: 1000, preemptionPolicy: 'Never' });
    const peer = await addPod('peer', { cpu: '2', priority: 100, spec: { nodeSelector: { disk: 'ssd' } } });
    const huge = await addPod('huge', { cpu: '8', priority: 1000 });
    await s.prime();
    for (const k of [never, peer, huge]) await s.reconcile(k);
    expect(await unschedulableMessage('never')).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
    expect(await unschedulableMessage('peer')).toBe(
      "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
    );
    expect(await unschedulableMessage('huge')).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    for (const n of ['same', 'low']) expect((await get(n)).metadata.deletionTimestamp).toBeUndefined();
  });

  it('keeps the room it freed for the preemptor: a lower-priority pod does not take it', async () => {
    await addNode('a');
    await addPod('low', { cpu: '3', priority: 1, node: 'a' });
    const urgent = await addPod('urgent', { cpu: '3', priority: 1000 });
    const { s } = scheduler();
    await s.prime();
    await s.reconcile(urgent);
    const victim = await get('low');
    await finishDeletion('low');
    s.observe({ resource: 'pods', type: 'DELETED', object: victim });
    const late = await addPod('late', { cpu: '2', priority: 1 });
    s.observe({ resource: 'pods', type: 'ADDED', object: await get('late') });
    await s.reconcile(late);
    expect((await get('late')).spec?.nodeName).toBeUndefined();
    expect(await unschedulableMessage('late')).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    await s.reconcile(urgent);
    expect((await get('urgent')).spec?.nodeName).toBe('a');
  });

  it('queues the preemptor when a victim is gone, in a scheduler that never saw the preemption (another cloud invocation)', async () => {
    await addNode('a');
    await addPod('low', { cpu: '3', priority: 1, node: 'a' });
    const key = await addPod('urgent', { cpu: '3', priority: 1000 });
    const first = scheduler().s;
    await first.prime();
    await first.reconcile(key);
    const victim = await get('low');
    await finishDeletion('low');
    const other = scheduler().s;
    const podsWatch = other.watches.find((w) => w.resource === 'pods')!;
    expect(await podsWatch.keys({ resource: 'pods', type: 'DELETED', object: victim })).toEqual([key]);
    await other.prime();
    await other.reconcile(key);
    expect((await get('urgent')).spec?.nodeName).toBe('a');
  });

  it('two schedulers that do not share a cache preempt once for one pod: the second waits for the victims the first chose', async () => {
    await addNode('a');
    await addNode('b');
    await addPod('a1', { cpu: '3', priority: 1, node: 'a' });
    await addPod('b1', { cpu: '3', priority: 1, node: 'b' });
    const key = await addPod('urgent', { cpu: '2', priority: 1000 });
    const first = scheduler().s;
    await first.prime();
    await first.reconcile(key);
    const second = scheduler().s;
    await second.prime();
    await second.reconcile(key);
    const deleting = [(await find('a1'))!, (await find('b1'))!].filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    expect(deleting).toEqual([(await get('urgent')).status?.nominatedNodeName === 'a' ? 'a1' : 'b1']);
    expect(await unschedulableMessage('urgent')).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.',
    );
  });
});

describe('priority order', () => {
  it('takes waiting pods highest priority first, then oldest, then as they came', async () => {
    const { s } = scheduler();
    const keys = [
      await addPod('unclassed'),
      await addPod('one', { priority: 1 }),
      await addPod('high', { priority: 1000 }),
      await addPod('high-too', { priority: 1000 }),
    ];
    await s.prime();
    const order: string[] = [];
    const queue = new WorkQueue(async (key) => void order.push(key), { workers: 1, order: (a, b) => s.compareKeys(a, b) });
    for (const k of keys) queue.add(k);
    queue.start();
    await queue.idle();
    await queue.stop();
    // No PriorityClass (and no global default) is priority 0.
    expect(order).toEqual(['default/high', 'default/high-too', 'default/one', 'default/unclassed']);
  });
});
