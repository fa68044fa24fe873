/**
 * StatefulSet (issue 15): pods per second of a 1,000-replica StatefulSet in
 * `Parallel` from its creation to every pod Running on simulated nodes,
 * beside a Deployment of the same size in the same run, on the same
 * cluster (`kumo up` in its own process). The ratio is what stable names,
 * revisions and one-pod-per-ordinal creation cost against the ReplicaSet
 * path. `--quick` sizes both down to 200 replicas on 20 nodes.
 */
import { join } from 'node:path';
import type { KObject } from '#lib/api/object';
import type { KubeClient } from '#lib/client/client';
import { DEPLOYMENTS, NAMESPACES, STATEFULSETS } from '#lib/kinds/resources';
import { ClusterProcess } from '../lib/cluster-process.js';
import { PodStartupWatch } from '../lib/pod-watch.js';
import { figure, type Scenario } from '../lib/types.js';
import { deployment } from '../lib/workloads.js';

/** The same pod template as the Deployment's, under a StatefulSet in Parallel. */
function statefulSet(name: string, replicas: number): KObject {
  const d = deployment(name, replicas) as KObject & { spec: Record<string, unknown> };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: { ...d.spec, serviceName: name, podManagementPolicy: 'Parallel' },
  };
}

/** Seconds from creating `obj` in a fresh namespace to all `replicas` of its pods Running, as a watch sees them. */
async function timeToRunning(client: KubeClient, ns: string, create: () => Promise<unknown>, replicas: number, timeoutMs: number): Promise<number> {
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const watch = new PodStartupWatch(client, ns, '');
  await watch.start();
  try {
    const t0 = performance.now();
    await create();
    await watch.waitRunning(replicas, timeoutMs);
    return (performance.now() - t0) / 1000;
  } finally {
    await watch.stop();
  }
}

export const statefulSetThroughput: Scenario = {
  name: 'statefulset',
  title: 'StatefulSet: pods/s of a Parallel StatefulSet beside a Deployment',
  estimate: { quick: '30 s', full: '3 min' },
  async run(ctx) {
    const replicas = ctx.quick ? 200 : 1000;
    const nodes = ctx.quick ? 20 : 100;
    const timeoutMs = ctx.quick ? 120_000 : 600_000;
    const cluster = await ClusterProcess.start({
      dataDir: join(ctx.workDir, 'cluster'),
      fakeNodes: nodes,
      fakeNodeOptions: { capacity: { cpu: '64', memory: '256Gi', pods: '110' } },
    });
    try {
      const c = cluster.client;
      const dSeconds = await timeToRunning(c, 'bench-deploy', () => c.create(DEPLOYMENTS, 'bench-deploy', deployment('web', replicas)), replicas, timeoutMs);
      ctx.log(`Deployment: ${replicas} pods Running in ${dSeconds.toFixed(1)} s`);
      const sSeconds = await timeToRunning(c, 'bench-sts', () => c.create(STATEFULSETS, 'bench-sts', statefulSet('web', replicas)), replicas, timeoutMs);
      ctx.log(`StatefulSet: ${replicas} pods Running in ${sSeconds.toFixed(1)} s`);
      const dRate = replicas / dSeconds;
      const sRate = replicas / sSeconds;
      const size = ctx.quick ? `${replicas} (quick; 1,000 in full runs)` : `${replicas}`;
      return {
        method: `
\`kumo up\` with ${nodes} simulated nodes (the fake runtime) runs in its own process. In one namespace the benchmark creates a
Deployment of ${replicas} replicas and times, with a watch on its pods, from the create request to the last pod Running; then, in
a second namespace, a StatefulSet of the same size and pod template with \`podManagementPolicy: Parallel\`, timed the same way.
The Deployment runs first, so the StatefulSet's pods meet ${replicas} pods already on the nodes.
`,
        figures: [
          figure('statefulset-parallel-1000-pods-per-s', `StatefulSet, Parallel, ${size} replicas: pods Running per second`, sRate, 'pods/s', {
            peer: { label: `a Deployment of ${replicas} replicas, same run`, value: dRate, unit: 'pods/s', kind: 'peer' },
          }),
          figure('deployment-1000-pods-per-s', `Deployment, ${size} replicas: pods Running per second`, dRate, 'pods/s'),
        ],
        tables: [
          {
            title: 'Create to all Running',
            columns: ['workload', 'replicas', 'seconds', 'pods/s'],
            rows: [
              ['Deployment', replicas, dSeconds, dRate],
              ['StatefulSet (Parallel)', replicas, sSeconds, sRate],
            ],
          },
        ],
        charts: [],
        notes: [
          "Both controllers create pods in slow-start batches (1, 2, 4, ... up to 500 at once), as kube does; every pod then goes through the same scheduler and simulated nodes, so the ratio is what the StatefulSet controller adds per pod. Absolute rates move with the machine's load (see the run's load average).",
          ...(ctx.quick ? [`--quick: ${replicas} replicas on ${nodes} nodes instead of 1,000 on 100; the ids keep the full run's name.`] : []),
        ],
        data: { nodes, replicas, deploymentSeconds: dSeconds, statefulSetSeconds: sSeconds },
      };
    } finally {
      await cluster.stop();
    }
  },
};
