/**
 * Losing a node on ECS: from an EC2 instance's termination to its pods'
 * replacements Running on the other nodes, three ways:
 * - ECS event: the cloud node lifecycle controller woken when ECS
 *   deregisters the container instance (the stack routes ECS's container
 *   instance events to the controller function), asks EC2, deletes the Node;
 * - lease silence: the same controller when ECS has not noticed (the
 *   container instance still registered), asking EC2 once the node's lease
 *   is 15 s old (its default);
 * - default grace: no cloud provider, Kubernetes' path: 40 s without a
 *   lease renewal → unreachable taint → eviction when the pods' 300 s
 *   toleration runs out (0 s with --quick, said so in the notes).
 *
 * The fleet is the AWS emulator's (moto): three EC2 instances in an Auto
 * Scaling group, each a registered ECS container instance with a simulated
 * agent renewing its lease every 10 s (lib/cloudprovider/fleet-sim.ts); the
 * control plane is `kumo up`'s, in process. A 6-replica Deployment runs on
 * the three nodes; one instance is terminated through the EC2 API.
 *
 * Registered in bench/run.ts as `ecs-replacement`; also runs on its own:
 * `node dist/bench/scenarios/ecs-replacement.js [--quick]`.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, NODES, PODS } from '#lib/kinds/resources';
import { TAINT_UNREACHABLE } from '#lib/api/taints';
import { AwsFleet } from '#lib/cloudprovider/aws-fleet';
import { FleetSim, provisionFleet } from '#lib/cloudprovider/fleet-sim';
import { LocalCluster } from '#lib/local/cluster';
import { onPath, startEmulator } from '#lib/sim/emulator';
import { summarize } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import { type Ctx, type Figure, figure, type Scenario, type ScenarioResult } from '../lib/types.js';
import { deployment } from '../lib/workloads.js';
import { sleep } from '#lib/util/sleep';
import { jsonLogger, silentLogger } from '#lib/log/logger';

type N = Node & KObject;
type P = Pod & KObject;

type Path = 'event' | 'lease' | 'grace';

const LABELS: Record<Path, string> = {
  event: 'ECS event (cloud node lifecycle)',
  lease: 'lease silence (cloud node lifecycle)',
  grace: 'default grace (node lifecycle only)',
};

interface Sample {
  path: Path;
  run: number;
  /** Termination → the Node deleted (cloud paths) or tainted unreachable (grace path), seconds. */
  nodeSeconds: number;
  /** Termination → 6 replicas Running, none on the lost node, seconds. */
  replacedSeconds: number;
}

const REPLICAS = 6;
const GROUP = 'kumo-bench-nodes';

/** One fleet on a fresh emulator, one control plane; `runs` terminations, each followed by the group replacing the instance. */
async function measure(ctx: Ctx, path: Path, runs: number, tolerationSeconds: number): Promise<Sample[]> {
  const emulator = await startEmulator();
  // Clients bound to this emulator's endpoint (not the environment's): --quick runs the three paths at once, each on its own emulator.
  const ec2 = new EC2Client({ endpoint: emulator.endpoint });
  const ecs = new ECSClient({ endpoint: emulator.endpoint });
  const asg = new AutoScalingClient({ endpoint: emulator.endpoint });
  let cluster: LocalCluster | undefined;
  let sim: FleetSim | undefined;
  try {
    await provisionFleet({ ec2, ecs, autoScaling: asg }, { cluster: GROUP, group: GROUP, maxSize: 10, zones: ['us-east-1a', 'us-east-1a', 'us-east-1b'] });

    const dataDir = join(ctx.workDir, path);
    mkdirSync(dataDir, { recursive: true });
    // Production timings throughout: the defaults of every controller and of the agents' lease.
    const fleet = new AwsFleet({ ec2, ecs, cluster: GROUP, autoScaling: asg, groupName: GROUP });
    cluster = new LocalCluster({
      dataDir,
      port: 0,
      logger: silentLogger,
      defaultTolerationSeconds: tolerationSeconds,
      ...(path === 'grace' ? {} : { controlPlane: { cloudProvider: { fleet, autoscaler: false } } }),
    });
    await cluster.start();
    // On the lease path ECS does not notice the loss in time: only the silence of the node tells.
    sim = new FleetSim({
      client: cluster.client,
      ec2,
      ecs,
      cluster: GROUP,
      autoScaling: asg,
      groupName: GROUP,
      deregisterEnded: path !== 'lease',
      logger: jsonLogger({ service: 'bench', sink: (l) => ctx.log(l) }),
    });
    await sim.start();
    const client = cluster.client;
    const ready = async () =>
      (await client.listAll<N>(NODES, undefined)).items.filter((n) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
    const running = async () =>
      (await client.listAll<P>(PODS, 'default', { labelSelector: 'app=web' })).items.filter(
        (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp,
      );
    const until = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };
    await until('three Ready nodes', async () => ((await ready()).length >= 3 ? true : undefined), 60_000);
    await client.create(DEPLOYMENTS, 'default', deployment('web', REPLICAS));

    const samples: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      const placed = await until(
        `${REPLICAS} pods Running`,
        async () => {
          const r = await running();
          return r.length === REPLICAS ? r : undefined;
        },
        120_000,
      );
      const live = new Set((await ready()).map((n) => n.metadata.name!));
      const victim = placed.map((p) => p.spec!.nodeName!).find((n) => live.has(n))!;
      // Terminated right after a lease renewal would be the worst case for the lease path; any moment is as likely.
      await sleep(Math.random() * 10_000);
      const t0 = performance.now();
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim] }));
      if (path === 'event') {
        // The container instance event: ECS deregisters the instance (the simulator does it on its next look), then the
        // controller function forgets what it knew of the fleet and resyncs (functions/controllers.ts).
        await until('the container instance deregistered', async () => ((await sim!.registered(victim)) ? undefined : true), 10_000);
        fleet.invalidate();
        await cluster.driver!.resync();
      }
      let nodeAt: number | undefined;
      const replacedAt = await until(
        'replacements Running',
        async () => {
          if (nodeAt === undefined) {
            const node = await client.find<N>(NODES, undefined, victim);
            if (!node || (node.spec?.taints ?? []).some((t) => t.key === TAINT_UNREACHABLE)) nodeAt = performance.now();
          }
          const r = await running();
          return r.length === REPLICAS && r.every((p) => p.spec?.nodeName !== victim) ? performance.now() : undefined;
        },
        (tolerationSeconds + 120) * 1000,
      );
      const sample = { path, run, nodeSeconds: ((nodeAt ?? replacedAt) - t0) / 1000, replacedSeconds: (replacedAt - t0) / 1000 };
      ctx.log(
        `${LABELS[path]} #${run + 1}: node gone after ${sample.nodeSeconds.toFixed(1)} s, replacements Running after ${sample.replacedSeconds.toFixed(1)} s`,
      );
      samples.push(sample);
      if (run + 1 < runs) {
        // The group replaced the instance (the emulator does at once what a health check does): the next run starts from three nodes again.
        await until('a replacement node', async () => ((await ready()).filter((n) => n.metadata.name !== victim).length >= 3 ? true : undefined), 60_000);
      }
    }
    return samples;
  } finally {
    await sim?.stop();
    await cluster?.stop();
    for (const c of [ec2, ecs, asg]) c.destroy();
    await emulator.stop();
  }
}

export const ecsReplacement: Scenario = {
  name: 'ecs-replacement',
  title: 'Node loss on ECS: instance termination to replacement pods Running',
  estimate: { quick: '2 min', full: '12 min' },
  async run(ctx): Promise<Omit<ScenarioResult, 'name' | 'title' | 'durationMs'>> {
    const empty = { method: '', figures: [], tables: [], charts: [], notes: [] };
    if (!onPath('moto_server')) return { ...empty, skipped: 'moto_server is not on the PATH' };
    const cloudRuns = ctx.quick ? 1 : 5;
    const toleration = ctx.quick ? 0 : 300;
    let event: Sample[];
    let lease: Sample[];
    let grace: Sample[];
    if (ctx.quick) {
      // The three paths at once, each with its own emulator, fleet and control plane: the paths wait on timers (lease
      // age, grace, toleration) far longer than on CPU. Every emulator points the environment at itself while it runs;
      // the environment is put back as it was once all are done.
      const keys = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'];
      const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
      try {
        [event, lease, grace] = await Promise.all([
          measure(ctx, 'event', cloudRuns, 300),
          measure(ctx, 'lease', cloudRuns, 300),
          measure(ctx, 'grace', 1, toleration),
        ]);
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    } else {
      event = await measure(ctx, 'event', cloudRuns, 300);
      lease = await measure(ctx, 'lease', cloudRuns, 300);
      grace = await measure(ctx, 'grace', 1, toleration);
    }
    const graceSeconds = grace[0]!.replacedSeconds;
    const graceLabel = ctx.quick ? 'default grace path (40 s grace, toleration shortened to 0 s)' : 'default grace path (40 s grace + 300 s toleration)';
    const med = (s: Sample[]) => summarize(s.map((x) => x.replacedSeconds));
    const figures: Figure[] = [
      figure('ecs-replacement.event.p50', 'termination → replacements Running, ECS event path (median)', med(event).p50, 's', {
        peer: { label: graceLabel, value: graceSeconds, kind: 'peer' },
        target: { on: 'value', op: '<=', value: 60, label: 'well under the 5-minute grace (≤ 60 s)' },
      }),
      figure('ecs-replacement.lease.p50', 'termination → replacements Running, lease silence path (median)', med(lease).p50, 's', {
        peer: { label: graceLabel, value: graceSeconds, kind: 'peer' },
        target: { on: 'value', op: '<=', value: 60, label: 'well under the 5-minute grace (≤ 60 s)' },
      }),
      figure('ecs-replacement.grace', `termination → replacements Running, ${graceLabel}`, graceSeconds, 's'),
    ];
    const all = [...event, ...lease, ...grace];
    return {
      method: `
A fresh AWS emulator (moto) per path holds the fleet: an ECS cluster and an Auto Scaling group of three EC2 instances (two in
us-east-1a, one in us-east-1b), each registered as a container instance and running a simulated agent that renews its node's
lease every 10 s (\`lib/cloudprovider/fleet-sim.ts\`, the agent's own labelling from the container instance). The control plane is
\`kumo up\`'s, in process, with every controller at its default timings. A 6-replica Deployment spreads over the three nodes;
then one node's instance is terminated through the EC2 API at a random moment of its lease cycle, and the time is taken from the
TerminateInstances call to the API showing 6 replicas Running, none on the lost node (polled every 50 ms). Paths: **ECS event**,
the cloud node lifecycle controller woken once ECS has deregistered the container instance (the stack sends ECS's container
instance events to the controller function; here the simulator deregisters within 200 ms and the controllers then resync);
**lease silence**, the same controller while ECS has not noticed (the container instance stays registered), asking EC2 once the
lease is 15 s old; **default grace**, no cloud
provider: 40 s without renewal, the \`unreachable\` taint, eviction when the pods' toleration runs out. The group replaces the
lost instance (the emulator launches the replacement at once, as an Auto Scaling health check would), so replacement pods may
also land on the new node.
`,
      figures,
      tables: [
        {
          title: 'Each termination',
          columns: ['path', 'run', 'node deleted (or tainted unreachable), s', 'replacements Running, s'],
          rows: all.map((s) => [LABELS[s.path], s.run + 1, s.nodeSeconds, s.replacedSeconds]),
        },
      ],
      charts: [
        {
          id: 'ecs-replacement',
          title: 'Instance termination to replacement pods Running',
          svg: barChart({
            title: 'Instance termination → replacements Running (median)',
            unit: 's',
            groups: [LABELS.event, LABELS.lease, LABELS.grace],
            series: [{ name: 'seconds', values: [med(event).p50, med(lease).p50, graceSeconds] }],
            log: true,
          }),
        },
      ],
      notes: [
        'In the cloud, requeues longer than 2 s wait for the one-minute resync: the lease-silence path there takes up to a minute more than here, which is why the stack also routes ECS container instance events to the controllers.',
        "How fast ECS itself notices a terminated instance is not emulated: the ECS-event figure starts at the termination but the simulator's deregistration follows within 200 ms.",
        ...(ctx.quick
          ? [
              "--quick runs the three paths at the same time (each on its own emulator and control plane, sharing the 2 cores) and each path once (5 times for the cloud paths in full runs) and shortens the pods' unreachable toleration to 0 s on the default grace path (full runs: the default 300 s): the pods are evicted as soon as the node is tainted, so its grace figure is the 40 s grace + the eviction, not the 5-minute default.",
            ]
          : []),
      ],
      data: { samples: all },
    };
  },
};

// On its own: `node dist/bench/scenarios/ecs-replacement.js [--quick]` prints the figures.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const t0 = Date.now();
  const log = (line: string) => console.log(`[ecs-replacement ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const workDir = join(tmpdir(), `kumo-bench-ecs-${process.pid}`);
  ecsReplacement
    .run({ quick, workDir, log })
    .finally(() => rmSync(workDir, { recursive: true, force: true }))
    .then((r) => {
      for (const f of r.figures)
        console.log(
          `${f.label}: ${f.value === null ? 'n/a' : f.value.toFixed(1)} ${f.unit}${f.peer ? ` (beside ${f.peer.label}: ${f.peer.value.toFixed(1)} ${f.unit})` : ''}`,
        );
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
