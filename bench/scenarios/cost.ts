/**
 * The cost model's measurements: on the cloud control plane on the emulator
 * (bench/lib/cloud-plane.ts), what each operation costs in DynamoDB request
 * units (metered by DynamoDB's sizing rules), stream records, and Lambda
 * invocations and duration, then priced into $/month for three cluster
 * shapes beside EKS's control plane fee.
 *
 * - an agent's idle hour, as the agent ships (lib/agent: Lease renewed every
 *   10 s with a GET and a PUT, node status read every 10 s and written every
 *   minute, its pods watched continuously through the API function), measured
 *   end to end over a window;
 * - the same agent's requests one by one (one lease renewal, one relist of its
 *   pods, one status write, one long-poll), so other cadences can be priced;
 * - the scheduled resync (both stream consumers, every minute in the stack) at
 *   two cluster sizes;
 * - a pod's lifecycle (create, schedule, run, delete, gone) and a 10-replica
 *   Deployment's rolling update, with the agents' idle background subtracted.
 */
import type { Deployment } from '#lib/api/apps/v1/deployment';
import type { Lease } from '#lib/api/coordination/v1/lease';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, ENDPOINT_SLICES, LEASES, NODES, PODS, SERVICES } from '#lib/kinds/resources';
import { NodeManager } from '#lib/agent/node';
import type { KubeClient } from '#lib/client/client';
import { Informer } from '#lib/client/informer';
import { systemClock } from '#lib/util/clock';
import { CloudPlane, type FunctionUsage } from '../lib/cloud-plane.js';
import { addCost, floorAtZero, FUNCTION_MEMORY_MB, HOURS_PER_MONTH, type OpCost, opCost, price, PRICES, scaleCost } from '../lib/cost-model.js';
import { diffUsage } from '../lib/meter.js';
import { barChart } from '../lib/svg.js';
import { type Ctx, type Figure, figure, type Scenario, type Table } from '../lib/types.js';
import { deployment } from '../lib/workloads.js';
import { sleep } from '#lib/util/sleep';
import { parallel } from './scheduler.js';
import { silentLogger } from '#lib/log/logger';

const IDLE_TARGET = 1;
const EKS_MONTH = PRICES.eksHour * HOURS_PER_MONTH;

/** Usage of the plane over `fn`: metered DynamoDB units and per-function invocations. */
async function measured(plane: CloudPlane, fn: () => Promise<void>): Promise<{ cost: OpCost; seconds: number }> {
  const before = plane.meter.snapshot();
  const fBefore = new Map([...plane.usage].map(([k, v]) => [k, { ...v }]));
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  await sleep(300);
  const fns: Record<string, FunctionUsage> = {};
  for (const [k, v] of plane.usage) {
    const b = fBefore.get(k) ?? { invocations: 0, ms: 0, watches: 0, watchMs: 0 };
    fns[k] = { invocations: v.invocations - b.invocations, ms: v.ms - b.ms, watches: v.watches - b.watches, watchMs: v.watchMs - b.watchMs };
  }
  return { cost: opCost(diffUsage(plane.meter.snapshot(), before), fns), seconds };
}

function nodeManager(client: KubeClient, name: string, dataDir: string): NodeManager {
  return new NodeManager(client, systemClock, {
    name,
    nodeIP: '10.0.0.10',
    port: 0,
    labels: {},
    taints: [],
    reserved: {},
    maxPods: 110,
    dataDir,
    runtimeName: 'bench',
    runtimeVersion: async () => 'bench://1',
    leaseDurationSeconds: 40,
  });
}

/** One agent as it ships (lib/agent/agent.ts): lease and node status every 10 s, its node's pods and all Services watched through the API function. */
async function agentWindow(ctx: Ctx, plane: CloudPlane, windowMs: number): Promise<OpCost> {
  const client = plane.client('kumo-agent/v0.1.0');
  const nm = nodeManager(client, 'agent-1', ctx.workDir);
  await nm.register();
  await nm.renewLease();
  const informer = new Informer(client, PODS, { fieldSelector: 'spec.nodeName=agent-1', logger: silentLogger });
  const services = new Informer(client, SERVICES, { logger: silentLogger });
  await Promise.all([informer.start(), services.start()]);
  await sleep(1000);
  const timers: NodeJS.Timeout[] = [];
  const { cost, seconds } = await measured(plane, async () => {
    timers.push(setInterval(() => void nm.renewLease().catch(() => undefined), 10_000));
    timers.push(setInterval(() => void nm.heartbeat().catch(() => undefined), 10_000));
    await sleep(windowMs);
    for (const t of timers) clearInterval(t);
  });
  await Promise.all([informer.stop(), services.stop()]);
  ctx.log(`agent as shipped: ${seconds.toFixed(0)} s window`);
  return scaleCost(cost, 3600 / seconds);
}

interface Primitives {
  leaseGetPut: OpCost;
  leasePut: OpCost;
  nodeGet: OpCost;
  statusWrite: OpCost;
  relist: OpCost;
  serviceList: OpCost;
  endpointSliceList: OpCost;
  /** Not measured with --quick (the agent's window holds its long-polls). */
  longPoll?: OpCost;
  shortPoll: OpCost;
}

/** The agent's requests one at a time, averaged over `n` each. */
async function primitives(plane: CloudPlane, n: number, longPolls: number): Promise<Primitives> {
  const client = plane.client('kumo-agent/v0.1.0');
  const nm = nodeManager(client, 'agent-p', '/tmp');
  await nm.register();
  await nm.renewLease();
  const avg = async (fn: () => Promise<unknown>, times = n) =>
    scaleCost(
      (
        await measured(plane, async () => {
          for (let i = 0; i < times; i++) await fn();
        })
      ).cost,
      1 / times,
    );
  const leaseGetPut = await avg(() => nm.renewLease());
  let lease = await client.get<Lease & KObject>(LEASES, 'kube-node-lease', 'agent-p');
  const leasePut = await avg(async () => {
    lease = await client.update<Lease & KObject>(LEASES, {
      ...lease,
      spec: { ...(lease.spec ?? {}), renewTime: new Date().toISOString().replace('Z', '000Z') },
    });
  });
  const nodeGet = await avg(() => client.get(NODES, undefined, 'agent-p'));
  const statusWrite = await avg(async () => {
    const node = await client.get(NODES, undefined, 'agent-p');
    await client.updateStatus(NODES, {
      ...node,
      status: {
        ...((node.status as object) ?? {}),
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
      },
    } as KObject);
  });
  const relist = await avg(() => client.list(PODS, undefined, { fieldSelector: 'spec.nodeName=agent-p' }));
  const serviceList = await avg(() => client.list(SERVICES, undefined));
  const endpointSliceList = await avg(() => client.list(ENDPOINT_SLICES, undefined));
  const rv = (await client.list(PODS, undefined, { fieldSelector: 'spec.nodeName=agent-p' })).metadata.resourceVersion;
  const poll = async (timeoutSeconds?: number) => {
    const events = await client.watch(PODS, undefined, {
      fieldSelector: 'spec.nodeName=agent-p',
      resourceVersion: rv,
      allowBookmarks: true,
      ...(timeoutSeconds ? { timeoutSeconds } : {}),
    });
    for await (const _ of events) void _;
  };
  const longPoll = longPolls > 0 ? await avg(() => poll(), longPolls) : undefined;
  const shortPoll = await avg(() => poll(1), longPolls > 0 ? Math.min(n, 5) : 1);
  return { leaseGetPut, leasePut, nodeGet, statusWrite, relist, serviceList, endpointSliceList, ...(longPoll ? { longPoll } : {}), shortPoll };
}

/**
 * One scheduled resync of both consumers, averaged over `n`, with the simulated nodes' idle traffic over the same
 * time subtracted. The consumers reach the store through an in-process API server (functions/controllers.ts), so
 * the API function is never part of a resync: its invocations in the window are the nodes' (a long-poll is
 * counted whole when it ends, too lumpy for the subtraction over one short window) and are left out.
 */
async function resyncCost(plane: CloudPlane, n: number, background?: OpCost, warm = true): Promise<OpCost> {
  if (warm) await plane.resync(); // the first builds the functions' caches
  const m = await measured(plane, async () => {
    for (let i = 0; i < n; i++) await plane.resync();
  });
  const net = background ? floorAtZero(addCost(m.cost, scaleCost(background, -m.seconds))) : m.cost;
  const withoutApi = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([fn]) => fn !== 'api'));
  return scaleCost({ ...net, invocations: withoutApi(net.invocations), durationMs: withoutApi(net.durationMs) }, 1 / n);
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function cents(v: number): string {
  return v >= 10 ? `$${v.toFixed(0)}` : v >= 0.1 ? `$${v.toFixed(2)}` : `$${v.toFixed(3)}`;
}

export const cost: Scenario = {
  name: 'cost',
  title: 'Cost model: DynamoDB and Lambda usage per operation, priced per month',
  estimate: { quick: '3 min', full: '8 min' },
  async run(ctx) {
    // Whole 10 s cycles of the lease, the status check and the long-polls (counted when they end).
    const windowMs = ctx.quick ? 20_000 : 120_000;
    const notes: string[] = [];

    // 1. An agent's idle hour, end to end, and its requests one by one.
    let agentHour: OpCost;
    let prim: Primitives;
    {
      const plane = await CloudPlane.start();
      try {
        agentHour = await agentWindow(ctx, plane, windowMs);
        prim = await primitives(plane, ctx.quick ? 3 : 10, ctx.quick ? 0 : 2);
      } finally {
        await plane.stop();
      }
    }

    // 2. Resync at two sizes, a pod's lifecycle and a rollout, on simulated nodes (their idle traffic, lease renewals included, is measured and subtracted).
    const podsSmall = ctx.quick ? 10 : 100;
    let resyncIdle: OpCost;
    let resyncLoaded: OpCost;
    let podLifecycle: OpCost;
    let rollout: OpCost;
    let background: OpCost;
    let rolloutInfo = { seconds: 0, polls: 0, resyncs: 0 };
    // --quick: 3 simulated nodes (the idle cluster's size), fewer of them to keep moto's one-at-a-time queue short.
    const nodes = ctx.quick ? 3 : 10;
    const resyncMs = 15_000;
    {
      // The simulated nodes' watches are 2 s long-polls (the stack streams watches; a 10 s buffered long-poll would hold
      // every step of the rollout for up to 10 s); their idle cost, whatever the poll length, is measured and subtracted.
      const plane = await CloudPlane.start({
        watchPollSeconds: 2,
        fakeNodes: { names: Array.from({ length: nodes }, (_, i) => `node-${i + 1}`), startDelayMs: 0 },
      });
      try {
        const c = plane.client();
        await sleep(1000);
        // What the simulated nodes' watches cost while nothing happens: subtracted from the operations below.
        // At least one full cycle of the nodes' lease renewals and watch long-polls (10 s each).
        const bg = await measured(plane, () => sleep(ctx.quick ? 10_000 : 30_000));
        background = scaleCost(bg.cost, 1 / bg.seconds);
        resyncIdle = await resyncCost(plane, ctx.quick ? 1 : 2, background);
        ctx.log('resync (idle) measured');

        const lifecyclePods = 5;
        const life = await measured(plane, async () => {
          await parallel(lifecyclePods, 5, (i) =>
            c
              .create(PODS, 'default', {
                apiVersion: 'v1',
                kind: 'Pod',
                metadata: { name: `life-${i}` },
                spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'pause' }] },
              })
              .then(() => undefined),
          );
          await waitFor(
            'pods running',
            async () =>
              (await c.list(PODS, 'default')).items.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running').length >= lifecyclePods,
            120_000,
          );
          await parallel(lifecyclePods, 5, (i) => c.delete(PODS, 'default', `life-${i}`).then(() => undefined));
          await waitFor('pods gone', async () => (await c.list(PODS, 'default')).items.length === 0, 120_000);
        });
        podLifecycle = scaleCost(floorAtZero(addCost(life.cost, scaleCost(background, -life.seconds))), 1 / lifecyclePods);
        ctx.log(`pod lifecycle measured (${life.seconds.toFixed(0)} s for ${lifecyclePods} pods)`);

        const deployments = podsSmall / 10;
        await parallel(deployments, 2, (i) => c.create(DEPLOYMENTS, 'default', deployment(`app-${i}`, 10)).then(() => undefined));
        const ready = async () => {
          const list = await c.list<Deployment & KObject>(DEPLOYMENTS, 'default');
          return list.items.every(
            (d) => (d.status?.updatedReplicas ?? 0) === 10 && (d.status?.availableReplicas ?? 0) === 10 && (d.status?.replicas ?? 0) === 10,
          );
        };
        {
          // The stack resyncs every minute; a reconcile that asks to come back later than the stream driver retries inline waits for it.
          const stop = plane.resyncEvery(resyncMs);
          try {
            await waitFor('deployments available', () => ready(), 300_000);
          } finally {
            stop();
          }
        }
        ctx.log(`${podsSmall} pods running`);
        // The functions' caches are warm by now (the idle resync and the resyncs while the Deployments converged).
        resyncLoaded = await resyncCost(plane, ctx.quick ? 1 : 2, background, false);
        ctx.log('resync (loaded) measured');

        // The rollout, polled once a second; what the polls and the resyncs during it cost is subtracted (resyncs are priced on their own).
        const getDeployment = scaleCost(
          (
            await measured(plane, async () => {
              for (let i = 0; i < 3; i++) await c.get(DEPLOYMENTS, 'default', 'app-0');
            })
          ).cost,
          1 / 3,
        );
        const resyncsBefore = plane.resyncs;
        let polls = 0;
        const stop = plane.resyncEvery(resyncMs);
        let r: { cost: OpCost; seconds: number };
        try {
          r = await measured(plane, async () => {
            const d = await c.get<Deployment & KObject>(DEPLOYMENTS, 'default', 'app-0');
            const template = d.spec!.template!;
            await c.update(DEPLOYMENTS, {
              ...d,
              spec: {
                ...d.spec!,
                template: { ...template, metadata: { ...template.metadata, annotations: { 'kumo.io/restartedAt': new Date().toISOString() } } },
              },
            } as KObject);
            const t0 = Date.now();
            let lastLog = t0;
            await waitFor(
              'rollout',
              async () => {
                polls++;
                const cur = await c.get<Deployment & KObject>(DEPLOYMENTS, 'default', 'app-0');
                const s = cur.status;
                const done =
                  (s?.observedGeneration ?? 0) >= (cur.metadata.generation ?? 0) &&
                  s?.updatedReplicas === 10 &&
                  s?.replicas === 10 &&
                  s?.availableReplicas === 10;
                if (!done && Date.now() - lastLog > 10_000) {
                  lastLog = Date.now();
                  ctx.log(
                    `rollout after ${((lastLog - t0) / 1000).toFixed(0)} s: generation ${cur.metadata.generation}, status ${JSON.stringify({ observedGeneration: s?.observedGeneration, replicas: s?.replicas, updated: s?.updatedReplicas, available: s?.availableReplicas })}`,
                  );
                }
                return done;
              },
              ctx.quick ? 150_000 : 300_000,
              1000,
            );
          });
        } finally {
          stop();
        }
        const resyncs = plane.resyncs - resyncsBefore;
        rolloutInfo = { seconds: r.seconds, polls, resyncs };
        rollout = floorAtZero(addCost(r.cost, scaleCost(background, -r.seconds), scaleCost(getDeployment, -polls), scaleCost(resyncLoaded, -resyncs)));
        ctx.log(`rollout measured (${r.seconds.toFixed(0)} s, ${polls} polls, ${resyncs} resyncs subtracted)`);
      } finally {
        await plane.stop();
      }
    }

    // 3. Price it. Three configurations from the same measurements:
    //  - the stack's default (cdk/cadence.ts, cadence=economy): agents relist instead of watching, a Lease PUT a minute,
    //    unchanged node status every 5 min; resync every minute; functions at 1,024 MB;
    //  - cadence=kubernetes: the kubelet's timings, measured end to end above (watches held, Lease every 10 s);
    //  - proposed: the default plus a resync every 15 min and smaller functions (cdk/, not changed here).
    const perMonth = (c: OpCost) => scaleCost(c, HOURS_PER_MONTH);
    const resyncAt = (pods: number) => {
      // Linear in pods between the two measured sizes (lists and reconciles grow with objects).
      const k = pods / podsSmall;
      return addCost(resyncIdle, scaleCost(addCost(resyncLoaded, scaleCost(resyncIdle, -1)), k));
    };
    const econ = {
      leaseEverySec: 60,
      pollEverySec: 15,
      servicesEverySec: 60,
      endpointSlicesEverySec: 60,
      statusEverySec: 300,
      resyncEveryMin: 1,
      proposedResyncEveryMin: 15,
      apiMb: 256,
      consumerMb: 512,
    };
    const economyAgentHour = addCost(
      scaleCost(prim.leasePut, 3600 / econ.leaseEverySec),
      scaleCost(prim.relist, 3600 / econ.pollEverySec),
      scaleCost(prim.serviceList, 3600 / econ.servicesEverySec),
      scaleCost(prim.endpointSliceList, 3600 / econ.endpointSlicesEverySec),
      scaleCost(prim.statusWrite, 3600 / econ.statusEverySec),
    );
    const resyncMonth = (pods: number, everyMin: number) => scaleCost(resyncAt(pods), (60 / everyMin) * HOURS_PER_MONTH);
    const shape = (agent: OpCost, nodeCount: number, pods: number, resyncEveryMin: number, rollouts = 0) =>
      addCost(scaleCost(perMonth(agent), nodeCount), resyncMonth(pods, resyncEveryMin), scaleCost(rollout, rollouts * HOURS_PER_MONTH));
    const profiles = [
      { id: 'idle-3', label: 'idle 3-node cluster', cost: shape(economyAgentHour, 3, 0, econ.resyncEveryMin), storageGb: 0.001 },
      {
        id: '10-100',
        label: '10 nodes / 100 pods, 1 rollout (10 pods) an hour',
        cost: shape(economyAgentHour, 10, 100, econ.resyncEveryMin, 1),
        storageGb: 0.001,
      },
      { id: '100-3000', label: '100 nodes / 3,000 pods, steady', cost: shape(economyAgentHour, 100, 3000, econ.resyncEveryMin), storageGb: 0.01 },
    ];
    const kubernetesIdle = shape(agentHour, 3, 0, econ.resyncEveryMin);
    const proposedMem = { api: econ.apiMb, controllers: econ.consumerMb, scheduler: econ.consumerMb };
    const proposedIdle = shape(economyAgentHour, 3, 0, econ.proposedResyncEveryMin);
    const econDollars = price(proposedIdle, { memoryMb: proposedMem, storageGb: 0.001 });
    const kubeDollars = price(kubernetesIdle, { storageGb: 0.001 });

    const figures: Figure[] = [];
    const breakdown: Table = {
      title:
        "$/month by component (the stack's default: cadence=economy, API, controllers and scheduler functions at 1,024 MB, resync every minute; then two variants of the idle cluster)",
      columns: ['cluster', 'DynamoDB writes', 'DynamoDB reads', 'Lambda requests', 'Lambda duration', 'storage', 'total', 'vs EKS $73'],
      rows: [],
    };
    const row = (label: string, d: ReturnType<typeof price>) => [
      label,
      cents(d.dynamoWrites),
      cents(d.dynamoReads),
      cents(d.lambdaRequests),
      cents(d.lambdaDuration),
      cents(d.storage),
      cents(d.total),
      `${(d.total / EKS_MONTH).toFixed(2)}×`,
    ];
    const eks = { label: "EKS's control plane fee ($0.10/h)", value: EKS_MONTH, unit: '$/month', kind: 'limit' as const };
    const idleTarget = { on: 'value' as const, op: '<=' as const, value: IDLE_TARGET, label: 'issue: idle 3-node under $1/month' };
    for (const p of profiles) {
      const d = price(p.cost, { storageGb: p.storageGb });
      breakdown.rows.push(row(p.label, d));
      figures.push(
        figure(`cost.${p.id}.monthly`, `${p.label}, the stack's default: control plane $/month`, d.total, '$/month', {
          peer: eks,
          ...(p.id === 'idle-3' ? { target: idleTarget } : {}),
        }),
      );
    }
    figures.push(
      figure('cost.idle-3.kubernetes', 'idle 3-node cluster, cadence=kubernetes (watches, 10 s leases): $/month', kubeDollars.total, '$/month', { peer: eks }),
      figure(
        'cost.idle-3.economy',
        `idle 3-node cluster, proposed (default + resync every ${econ.proposedResyncEveryMin} min, smaller functions): $/month`,
        econDollars.total,
        '$/month',
        { peer: eks, target: idleTarget },
      ),
    );
    breakdown.rows.push(
      row('idle 3-node, cadence=kubernetes', kubeDollars),
      row(`idle 3-node, proposed (resync every ${econ.proposedResyncEveryMin} min, ${econ.apiMb}/${econ.consumerMb} MB)`, econDollars),
    );

    const opRow = (label: string, c: OpCost, per: string): (string | number)[] => {
      const inv = Object.entries(c.invocations)
        .filter(([, v]) => Math.abs(v) >= 0.01)
        .map(([f, v]) => `${f} ${v.toFixed(1)}`)
        .join(', ');
      const dur = Object.entries(c.durationMs)
        .filter(([, v]) => Math.abs(v) >= 1)
        .map(([f, v]) => `${f} ${(v / 1000).toFixed(2)} s`)
        .join(', ');
      return [label, per, c.wru, c.rru, c.streamRecords, inv, dur, cents(price(c).total * (per === 'per hour' ? HOURS_PER_MONTH : 1))];
    };
    const ops: Table = {
      title: 'Measured usage per operation (DynamoDB units by its sizing rules; Lambda duration as measured on the emulator)',
      columns: ['operation', 'unit', 'WRU', 'RRU', 'stream records', 'invocations', 'Lambda duration', '$ (per month for hourly rows)'],
      rows: [
        opRow('agent idle hour, cadence=kubernetes (measured end to end)', agentHour, 'per hour'),
        opRow('agent idle hour, cadence=economy (from the requests below)', economyAgentHour, 'per hour'),
        opRow('lease renewal (GET + PUT, cadence=kubernetes)', prim.leaseGetPut, 'each'),
        opRow('lease renewal (PUT only)', prim.leasePut, 'each'),
        opRow('node GET (status check)', prim.nodeGet, 'each'),
        opRow('node status write (GET + PUT)', prim.statusWrite, 'each'),
        opRow("relist of the node's pods (GSI query)", prim.relist, 'each'),
        opRow('list of all Services (none here)', prim.serviceList, 'each'),
        opRow('list of all EndpointSlices (none here)', prim.endpointSliceList, 'each'),
        ...(prim.longPoll ? [opRow('watch long-poll with nothing to deliver', prim.longPoll, 'each')] : []),
        opRow('watch with timeoutSeconds=1, nothing to deliver', prim.shortPoll, 'each'),
        opRow(`resync, ${nodes} nodes, 0 pods (both consumers)`, resyncIdle, 'each'),
        opRow(`resync, ${nodes} nodes, ${podsSmall} pods`, resyncLoaded, 'each'),
        opRow('pod lifecycle (create → running → delete → gone)', podLifecycle, 'per pod'),
        opRow('rolling update of a 10-replica Deployment', rollout, 'each'),
        opRow(`simulated nodes idle (${nodes} nodes: leases and watches), per second`, background, 'per second'),
      ],
    };
    const idleShipped = price(profiles[0]!.cost, { storageGb: 0.001 });
    {
      // Why the idle target is missed (or met): the components of the idle figure, largest first.
      const d = idleShipped;
      const agents = price(scaleCost(perMonth(economyAgentHour), 3));
      const resync = price(resyncMonth(0, econ.resyncEveryMin));
      const parts = [
        ['the scheduled resync every minute (both stream consumers at 1,024 MB)', resync.total],
        ['the three agents (Lease PUT a minute, relists, status every 5 min)', agents.total],
        ['storage', d.storage],
      ] as const;
      const verdict = d.total <= IDLE_TARGET ? 'meets' : 'misses';
      notes.push(
        `**Why the idle 3-node cluster ${verdict} $${IDLE_TARGET}/month with the stack's default (${cents(d.total)}):** ${[...parts]
          .sort((a, b) => b[1] - a[1])
          .map(([what, v]) => `${what} ${cents(v)}`)
          .join(
            '; ',
          )}. The resync's part is Lambda duration (${cents(resync.lambdaDuration)}) and reads (${cents(resync.dynamoReads)}): every minute each consumer lists every key it owns and reconciles it; the agents' part is mostly writes (${cents(agents.dynamoWrites)}: a Lease PUT is ${prim.leasePut.wru.toFixed(0)} WRU, the revision counter plus the object and its change-log entry in one transaction) and requests (${cents(agents.lambdaRequests)}). The fix lies in cdk/ (the Resync rule's rate, cdk/kumo-stack.ts, and the functions' memory), not in the bench: priced here as "proposed", resync every ${econ.proposedResyncEveryMin} min and ${econ.apiMb} MB / ${econ.consumerMb} MB functions give ${cents(econDollars.total)}/month. Before cadence=economy became the stack's default, agents held watches and renewed their Lease every 10 s (cadence=kubernetes, still available): ${cents(kubeDollars.total)}/month, ${((kubeDollars.lambdaDuration / kubeDollars.total) * 100).toFixed(0)}% of it API function duration held open by the watches.`,
      );
    }
    notes.push(
      `The rollout was measured with the stack's scheduled resync running (every ${resyncMs / 1000} s here, every minute in the stack): without it a reconcile that asks to come back later than the stream driver retries inline (2 s) is retried only by the next resync. The scenario used to run none (its previous quick report ended in "timed out waiting for rollout"). It took ${rolloutInfo.seconds.toFixed(0)} s on the emulator; its figure has the ${rolloutInfo.polls} status polls of the benchmark, the ${rolloutInfo.resyncs} resync(s) that ran meanwhile (priced on their own) and the nodes' idle traffic subtracted.`,
      `cadence=kubernetes, measured end to end with lib/agent's NodeManager and informers: its Lease renewed every 10 s (a GET then a PUT), its Node read every 10 s and its status written at least every minute, and its pods and the cluster's Services watched continuously. Through a Function URL every watch holds an API function invocation open the whole time (buffered: 10 s long-polls back to back; streaming: up to the watch's timeoutSeconds), so the API function is billed for every second an agent exists: ${cents(price(perMonth(agentHour)).total)} per agent-month at 1,024 MB (the agent also watches EndpointSlices, not measured here: one more held invocation).`,
      `cadence=economy (cdk/cadence.ts, the stack's default), priced from the per-request measurements: a Lease PUT every ${econ.leaseEverySec} s, the node's pods relisted through the node index every ${econ.pollEverySec} s, the Services and the EndpointSlices every ${econ.servicesEverySec} s, an unchanged node status written every ${econ.statusEverySec / 60} min: ${cents(price(perMonth(economyAgentHour)).total)} per agent-month. The agent window is not measured end to end in this cadence (its Lease alone comes once a minute).`,
      `Every write costs about 5 WRU: the counter UpdateItem (1) plus a two-item TransactWriteItems (2 × 2 for items under 1 KB), so a Lease renewal alone is ${prim.leasePut.wru.toFixed(1)} WRU (${cents(((prim.leasePut.wru * 60 * HOURS_PER_MONTH) / 1e6) * PRICES.wru)} per node-month at one a minute).`,
      "Resync cost is measured at two sizes and extrapolated linearly in pods; the 100-node / 3,000-pod figure rests on that extrapolation. Stream reads by Lambda event source mappings are free; lease renewals and Events are dropped by the mappings' filters before any invocation.",
      `Lambda durations are wall times on the emulator (moto answers a request in a few ms, a TransactWriteItems in more): an upper bound for the short invocations; long-polls are billed for their full hold time wherever they run. Memory: ${Object.entries(
        FUNCTION_MEMORY_MB,
      )
        .map(([f, m]) => `${f} ${m} MB`)
        .join(', ')} (the stack's defaults).`,
    );

    return {
      method: `
Fresh emulators; the API, controller and scheduler function modules as deployed (bench/lib/cloud-plane.ts), every DynamoDB
request metered at the emulator's proxy by DynamoDB's sizing rules (bench/lib/meter.ts), every invocation counted and timed.
An agent's idle hour is measured end to end over ${windowMs / 1000} s with the agent's own NodeManager and informers (pods, Services)
talking to the API function, then scaled to an hour; the other operations are measured on ${nodes} simulated nodes, with the nodes'
idle traffic (lease renewals, watches) measured over ${ctx.quick ? 10 : 30} s and subtracted at its rate (each difference floored at zero). Prices (parameters in bench/lib/cost-model.ts): DynamoDB $${PRICES.wru}/M WRU, $${PRICES.rru}/M RRU; Lambda
$${PRICES.lambdaRequests}/M requests, $${PRICES.lambdaGbSecond}/GB-s; EKS $${PRICES.eksHour}/cluster-hour ($${EKS_MONTH}/month).
`,
      figures,
      tables: [breakdown, ops],
      charts: [
        {
          id: 'cost-monthly',
          title: 'Control plane $/month beside EKS',
          svg: barChart({
            title: 'Control plane $/month by cluster shape',
            unit: '$/month',
            log: true,
            groups: [...profiles.map((p) => p.id), 'idle-3 kubernetes cadence', 'idle-3 proposed'],
            series: [
              { name: 'kumo (model)', values: [...profiles.map((p) => price(p.cost, { storageGb: p.storageGb }).total), kubeDollars.total, econDollars.total] },
            ],
            refs: [
              { value: EKS_MONTH, label: 'EKS $73/month' },
              { value: IDLE_TARGET, label: 'target: idle 3-node < $1' },
            ],
          }),
        },
      ],
      notes,
      data: {
        agentHour,
        primitives: prim,
        resyncIdle,
        resyncLoaded,
        podLifecycle,
        rollout,
        rolloutRun: rolloutInfo,
        background,
        economy: econ,
        profiles: profiles.map((p) => ({ ...p, dollars: price(p.cost, { storageGb: p.storageGb }) })),
      },
    };
  },
};
