/**
 * Pod startup latency, ClusterLoader2's way: a Deployment's pods, from
 * creation to all containers running as observed through a watch, with the
 * image already present. Three setups:
 * - local, simulated nodes: `kumo up --runtime fake` (its own process), 100
 *   nodes, a 1,000-replica Deployment;
 * - local, the docker runtime: `kumo up` with one agent on the Docker engine,
 *   50 replicas of a busybox image present on the host;
 * - cloud on the emulator: the API, controller and scheduler functions on
 *   moto, simulated nodes talking to the API function like agents do (watch
 *   by long-poll), fewer pods (the emulator serializes every request, and
 *   its transactions copy all of its state).
 * Judged against Kubernetes' SLO (p99 ≤ 5 s) and the issue's target on
 * simulated nodes (p99 ≤ 1 s).
 */
import { type AttributeValue, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DEPLOYMENTS, PODS } from '#lib/kinds/resources';
import { dockerAnswers } from '#lib/local/cluster';
import { CloudPlane } from '../lib/cloud-plane.js';
import { ClusterProcess } from '../lib/cluster-process.js';
import { PodStartupWatch } from '../lib/pod-watch.js';
import { summarize } from '../lib/stats.js';
import { cdfChart } from '../lib/svg.js';
import { type Ctx, type Figure, figure, type Table } from '../lib/types.js';
import type { Scenario } from '../lib/types.js';
import { deployment } from '../lib/workloads.js';
import { sleep } from '#lib/util/sleep';

const SLO_P99_S = 5;
const SIM_TARGET_P99_S = 1;
const DOCKER_IMAGE = 'kumo-test/busybox:1';

interface Measured {
  setup: string;
  pods: number;
  /** From the store's commit of the creation to the watch showing all containers running (the primary figure). */
  fromCommit: number[];
  fromCreation: number[];
  fromSeen: number[];
  seconds: number;
}

/** Creation commit times of pods, from a SQLite store's change log. */
function sqliteCommits(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT name, ts FROM log WHERE resource = 'pods' AND type = 'ADDED'").all() as { name: string; ts: number }[];
    return new Map(rows.map((r) => [r.name, r.ts]));
  } finally {
    db.close();
  }
}

/** Creation commit times of pods, from the DynamoDB store's change log. */
async function dynamoCommits(tableName: string): Promise<Map<string, number>> {
  const ddb = new DynamoDBClient({});
  const out = new Map<string, number>();
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'l#pods' } },
          ExpressionAttributeNames: { '#n': 'name', '#t': 'type', '#ts': 'ts' },
          ProjectionExpression: '#n, #t, #ts',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) if (item.type?.S === 'ADDED' && item.name?.S && item.ts?.N) out.set(item.name.S, Number(item.ts.N));
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    ddb.destroy();
  }
  return out;
}

async function measure(
  ctx: Ctx,
  setup: string,
  client: import('#lib/client/client').KubeClient,
  replicas: number,
  timeoutMs: number,
  opts: Parameters<typeof deployment>[2] = {},
  commits?: () => Map<string, number> | Promise<Map<string, number>>,
): Promise<Measured> {
  const name = `startup-${setup.replace(/[^a-z0-9]+/g, '-')}`;
  const watch = new PodStartupWatch(client, 'default', `app=${name}`);
  await watch.start();
  const t0 = Date.now();
  await client.create(DEPLOYMENTS, 'default', deployment(name, replicas, opts));
  try {
    await watch.waitRunning(replicas, timeoutMs);
  } catch (err) {
    ctx.log(`${setup}: ${(err as Error).message}`);
  }
  const seconds = (Date.now() - t0) / 1000;
  await watch.stop();
  if (commits) watch.setCommitted(await commits());
  const { fromCommit, fromSeen, fromCreation } = watch.latencies();
  ctx.log(`${setup}: ${fromCommit.length}/${replicas} running in ${seconds.toFixed(1)} s`);
  return { setup, pods: replicas, fromCommit, fromSeen, fromCreation, seconds };
}

async function cleanup(client: import('#lib/client/client').KubeClient, setup: string, timeoutMs: number): Promise<void> {
  const name = `startup-${setup.replace(/[^a-z0-9]+/g, '-')}`;
  await client.delete(DEPLOYMENTS, 'default', name, { propagationPolicy: 'Foreground' }).catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pods = await client.list(PODS, 'default', { labelSelector: `app=${name}` });
    if (pods.items.length === 0) return;
    await sleep(500);
  }
}

/**
 * The engine's own floor, measured in the same run: each "pod" is what the
 * agent starts for one (a pause sandbox, then the app container joined to its
 * network namespace), started straight through the Docker CLI, all queued at
 * once and run 8 at a time (the agent's podStartConcurrency).
 */
function dockerFloor(pods: number, concurrency: number): number[] {
  const label = `kumo.bench=${process.pid}`;
  const latencies: number[] = [];
  const t0 = Date.now();
  const run = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
  let sandboxImage = 'kumo/pause:1';
  try {
    execFileSync('docker', ['image', 'inspect', sandboxImage], { stdio: 'ignore' });
  } catch {
    sandboxImage = DOCKER_IMAGE;
  }
  // kumo's pause image has no default command: the runtime starts its /pause binary (lib/agent/docker/runtime.ts).
  const sandboxCmd = sandboxImage === DOCKER_IMAGE ? ['sleep', '3600'] : ['/pause'];
  try {
    // execFileSync is synchronous: run `concurrency` pods per wave through a shell so they overlap.
    for (let i = 0; i < pods; i += concurrency) {
      const wave = Math.min(concurrency, pods - i);
      const script = Array.from(
        { length: wave },
        () =>
          `(s=$(docker run -d --network none --label ${label} ${sandboxImage} ${sandboxCmd.join(' ')}) && docker run -d --network container:$s --label ${label} ${DOCKER_IMAGE} sleep 3600 >/dev/null && date +%s%3N) &`,
      ).join('\n');
      const out = run(['--version']) && execFileSync('sh', ['-c', `${script}\nwait`], { encoding: 'utf8' });
      for (const line of out.split('\n').filter(Boolean)) latencies.push((Number(line) - t0) / 1000);
    }
  } finally {
    const ids = run(['ps', '-aq', '--filter', `label=${label}`]);
    if (ids) execFileSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
  }
  return latencies;
}

function figuresFor(m: Measured, id: string, label: string, target?: number): Figure[] {
  const s = summarize(m.fromCommit);
  const c = summarize(m.fromCreation);
  const incomplete = m.fromCommit.length < m.pods ? `only ${m.fromSeen.length} of ${m.pods} pods ran` : undefined;
  return [
    figure(`pod-startup.${id}.p50`, `${label}: p50`, s.n ? s.p50 : null, 's', {
      peer: { label: 'SLO p99', value: SLO_P99_S, kind: 'limit' },
      ...(incomplete ? { note: incomplete } : {}),
    }),
    figure(`pod-startup.${id}.p90`, `${label}: p90`, s.n ? s.p90 : null, 's', { peer: { label: 'SLO p99', value: SLO_P99_S, kind: 'limit' } }),
    figure(`pod-startup.${id}.p99`, `${label}: p99`, s.n ? s.p99 : null, 's', {
      peer: { label: 'SLO p99', value: SLO_P99_S, kind: 'limit' },
      ...(target !== undefined
        ? {
            target: {
              on: 'value' as const,
              op: '<=' as const,
              value: target,
              label: target === SLO_P99_S ? "Kubernetes' SLO" : 'issue target, simulated nodes',
            },
          }
        : {}),
      ...(incomplete ? { note: incomplete } : {}),
    }),
    figure(`pod-startup.${id}.p99-cl2`, `${label}: p99 from creationTimestamp (1 s precision, ClusterLoader2's reference)`, c.n ? c.p99 : null, 's', {
      peer: { label: 'SLO p99', value: SLO_P99_S, kind: 'limit' },
    }),
  ];
}

function row(m: Measured): (string | number)[] {
  const s = summarize(m.fromCommit);
  const c = summarize(m.fromCreation);
  const w = summarize(m.fromSeen);
  return [m.setup, `${m.fromCommit.length}/${m.pods}`, m.seconds, s.p50, s.p90, s.p99, s.max, c.p50, c.p99, w.p99];
}

export const podStartup: Scenario = {
  name: 'pod-startup',
  title: 'Pod startup latency (ClusterLoader2 method)',
  estimate: { quick: '2 min', full: '4 min' },
  async run(ctx) {
    const notes: string[] = [];
    const measured: Measured[] = [];
    const figures: Figure[] = [];

    // 1. Local, simulated nodes.
    const simPods = ctx.quick ? 500 : 1000;
    {
      const cluster = await ClusterProcess.start({
        dataDir: join(ctx.workDir, 'sim'),
        fakeNodes: 100,
        fakeNodeOptions: { startDelayMs: 0, capacity: { cpu: '64', memory: '256Gi', pods: '110' } },
      });
      try {
        await sleep(1000);
        const m = await measure(ctx, 'local sim', cluster.client, simPods, 120_000, {}, () => sqliteCommits(join(ctx.workDir, 'sim')));
        measured.push(m);
        figures.push(...figuresFor(m, 'local-sim', `${simPods} pods, 100 simulated nodes, local`, SIM_TARGET_P99_S));
      } finally {
        await cluster.stop();
      }
    }

    // 2. Local, docker runtime.
    // The issue's 50 pods in full runs; --quick starts 30 (one agent, one engine: the engine's own start rate dominates).
    const dockerPods = ctx.quick ? 30 : 50;
    let dockerSkip: string | undefined;
    if (!(await dockerAnswers())) dockerSkip = 'no Docker engine answers on this machine';
    else {
      try {
        execFileSync('docker', ['image', 'inspect', DOCKER_IMAGE], { stdio: 'ignore' });
      } catch {
        dockerSkip = `the image ${DOCKER_IMAGE} is not present (.ci/run builds it offline from busybox-static)`;
      }
    }
    if (dockerSkip) {
      notes.push(`Docker runtime: skipped, ${dockerSkip}.`);
      figures.push(
        figure('pod-startup.docker.p99', `${dockerPods} pods, docker runtime, local: p99`, null, 's', {
          target: { on: 'value', op: '<=', value: SLO_P99_S, label: "Kubernetes' SLO" },
          note: dockerSkip,
        }),
      );
    } else {
      const node = `bench-docker-${process.pid}`;
      const cluster = await ClusterProcess.start({ dataDir: join(ctx.workDir, 'docker'), runtime: 'docker', nodeNames: [node] });
      try {
        await sleep(2000);
        const m = await measure(ctx, 'docker', cluster.client, dockerPods, 300_000, { image: DOCKER_IMAGE, command: ['sleep', '3600'], requests: false }, () =>
          sqliteCommits(join(ctx.workDir, 'docker')),
        );
        measured.push(m);
        figures.push(...figuresFor(m, 'docker', `${dockerPods} pods, docker runtime (one agent), local`, SLO_P99_S));
        await cleanup(cluster.client, 'docker', 120_000);
        const floor = dockerFloor(dockerPods, 8);
        const f = summarize(floor);
        measured.push({ setup: 'docker CLI alone (engine floor)', pods: dockerPods, fromCommit: floor, fromCreation: floor, fromSeen: floor, seconds: f.max });
        const p99 = figures.find((x) => x.id === 'pod-startup.docker.p99');
        if (floor.length < dockerPods) notes.push(`Docker CLI floor: only ${floor.length} of ${dockerPods} sandbox + container pairs started.`);
        if (p99?.value != null && p99.value > SLO_P99_S) {
          notes.push(
            `Why the docker p99 (${p99.value.toFixed(1)} s) misses ${SLO_P99_S} s: all ${dockerPods} pods land on one agent and one engine at once, and each needs a sandbox and a container created and started there. The engine alone, driven by the docker CLI 8 pairs at a time with nothing of kumo in the way, had ${floor.length > 0 ? `its p99 pair running ${f.p99.toFixed(1)} s after the burst began (kumo's p99 is ${(f.p99 > 0 ? p99.value / f.p99 : Number.NaN).toFixed(1)}× that)` : 'no pair started (see above)'}; the SLO assumes pods spread over many nodes, each starting a few.`,
          );
        }
        if (p99) {
          figures.push(
            figure('pod-startup.docker.p99-vs-engine', `${dockerPods} pods, docker runtime: p99 beside the engine alone`, p99.value, 's', {
              peer: { label: `the same ${dockerPods} sandboxes + containers started by the docker CLI, 8 at a time, p99`, value: f.p99, kind: 'peer' },
            }),
          );
        }
      } finally {
        await cluster.stop();
        // Nothing of ours may outlive the run: remove any container the agent left for this node.
        try {
          const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=kumo.io/node=${node}`], { encoding: 'utf8' }).trim();
          if (ids) {
            execFileSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
            notes.push(`Docker runtime: ${ids.split('\n').length} container(s) were left after the cluster stopped and were removed by the benchmark.`);
          }
        } catch {
          // docker CLI missing: the engine answered over the socket, nothing more to do
        }
      }
    }

    // 3. Cloud on the emulator (full runs only: no target rests on it, and on the emulator it takes half a minute).
    const cloudPods = 100;
    const cloudNodes = 10;
    if (ctx.quick) {
      notes.push('Cloud functions on the emulator: not run with --quick (no target rests on it); full runs start 100 pods on 10 simulated nodes there.');
    } else {
      const plane = await CloudPlane.start({
        fakeNodes: { names: Array.from({ length: cloudNodes }, (_, i) => `node-${i + 1}`), startDelayMs: 0 },
        resyncMs: 60_000,
      });
      try {
        const m = await measure(ctx, 'cloud emulator', plane.client(), cloudPods, 300_000, {}, () => dynamoCommits(plane.tableName));
        measured.push(m);
        figures.push(...figuresFor(m, 'cloud-emulator', `${cloudPods} pods, ${cloudNodes} simulated nodes, cloud functions on the emulator`));
        notes.push(
          `Cloud on the emulator: moto serves one request at a time (the proxy serializes them to keep conditional writes atomic) and copies its whole state on every TransactWriteItems; every write here is one. The figure is an upper bound dominated by the emulator; the stream is polled every 250 ms (Lambda polls about four times a second) and the controllers' mapping batches like the stack's (up to 100 records).`,
        );
      } finally {
        await plane.stop();
      }
    }

    const tables: Table[] = [
      {
        title:
          'Startup latency per setup (seconds; creation committed → all containers running seen by the watch; then from creationTimestamp as ClusterLoader2, and from the watch delivering the pod)',
        columns: ['setup', 'pods running', 'total s', 'p50', 'p90', 'p99', 'max', 'p50 (creationTimestamp)', 'p99 (creationTimestamp)', 'p99 (watch ADDED)'],
        rows: measured.map(row),
      },
    ];
    {
      // Why the simulated-node p99 misses its 1 s target, when it does: the spread of one burst through a serial pipeline.
      const sim = measured.find((m) => m.setup === 'local sim');
      if (sim && sim.fromCommit.length > 0) {
        const c = summarize(sim.fromCommit);
        const seen = summarize(sim.fromSeen);
        if (c.p99 > SIM_TARGET_P99_S) {
          notes.push(
            `Why the simulated-node p99 (${c.p99.toFixed(2)} s) misses ${SIM_TARGET_P99_S} s: the Deployment's ${sim.pods} pods are created in one burst by one ReplicaSet and then pass one at a time through the change feed, the scheduler and their nodes, so the last of the burst wait behind the first: the first pod ran ${Math.min(...sim.fromCommit).toFixed(2)} s after its commit, the whole set ${sim.seconds.toFixed(1)} s after the Deployment was created (${(sim.pods / sim.seconds).toFixed(0)} pods/s end to end). Measured from the moment the benchmark's watch first delivered each pod, running followed in ${seen.p50.toFixed(2)} s (p50) / ${seen.p99.toFixed(2)} s (p99): the rest of the tail is the burst's creations queueing for delivery (the watch, the scheduler's feed). ClusterLoader2 creates pods at a steady rate, where no such queue forms; one burst is the worst case for this figure.`,
          );
        }
      }
    }
    notes.push(
      'Simulated nodes start containers the moment they see the binding (startDelayMs 0: the image is present and the fake runtime has nothing to do), so the local figure is the control plane alone: create → ReplicaSet controller → scheduler → node.',
      "A pod's creation time is when the store committed it (its change log keeps commit times in ms); the end is when the benchmark's watch saw all containers running, so delivery delay counts against the figure. creationTimestamp has one-second precision (as in Kubernetes): figures from it are up to 1 s longer.",
    );
    return {
      method: `
Each setup gets a Deployment whose pods are watched from the benchmark process (a separate client, over HTTP locally and
through the API function's long-poll in the cloud setup). A pod's startup latency is the time from the store's commit of its
creation (read from the change log afterwards) to the first watch event showing all of its containers running
(ClusterLoader2's pod startup latency; its reference, the creationTimestamp, is reported too).
`,
      figures,
      tables,
      charts: [
        {
          id: 'pod-startup-cdf',
          title: 'Pod startup latency distributions',
          svg: cdfChart({
            title: 'Pod startup latency (creation → running, via watch)',
            unit: 's',
            series: measured.map((m) => ({ name: m.setup, samples: m.fromCommit })),
            refs: [
              { value: SLO_P99_S, label: 'SLO p99 5 s' },
              { value: SIM_TARGET_P99_S, label: 'target 1 s (sim)' },
            ],
          }),
        },
      ],
      notes,
      data: { measured },
    };
  },
};
