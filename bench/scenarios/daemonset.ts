/**
 * DaemonSet rollout (issue 15): a DaemonSet across N simulated nodes from
 * create to a pod available on every node, then an image update until every
 * node runs an updated, available pod; beside a Deployment of N replicas on
 * the same nodes in the same run, created and updated the same way. Both
 * roll with 25% of their pods unavailable at most (the Deployment's default
 * maxUnavailable; the DaemonSet's default of 1 would take N steps). Each
 * workload is deleted, its pods gone, before the next starts; an unmeasured
 * warm-up Deployment goes first, as the first rollout of a process is slower.
 */
import { join } from 'node:path';
import type { KObject } from '#lib/api/object';
import type { ResourceType } from '#lib/api/registry';
import type { KubeClient } from '#lib/client/client';
import { DAEMONSETS, DEPLOYMENTS, PODS } from '#lib/kinds/resources';
import { sleep } from '#lib/util/sleep';
import { ClusterProcess } from '../lib/cluster-process.js';
import { figure, type Scenario } from '../lib/types.js';
import { deployment } from '../lib/workloads.js';

const IMAGES = ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.9'];

function daemonSet(name: string): KObject {
  const template = (deployment(name, 0).spec as { template: unknown }).template;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } } },
  };
}

type Status = Record<string, number | undefined>;

/** Polls `done` on the object's status until it holds; the milliseconds from `t0`, or null after `timeoutMs`. */
async function until(c: KubeClient, rt: ResourceType, name: string, t0: number, timeoutMs: number, done: (o: KObject & { status?: Status }) => boolean) {
  while (performance.now() - t0 < timeoutMs) {
    if (done(await c.get<KObject & { status?: Status }>(rt, 'default', name))) return performance.now() - t0;
    await sleep(100);
  }
  return null;
}

/** Create to available, then an image update to all updated and available: [create ms, update ms]. */
async function rollout(c: KubeClient, rt: ResourceType, obj: KObject, n: number, timeoutMs: number): Promise<[number | null, number | null]> {
  const name = obj.metadata.name!;
  const isDs = rt === DAEMONSETS;
  const available = (o: KObject & { status?: Status }, generation: number) => {
    const st = o.status ?? {};
    return isDs
      ? st.observedGeneration === generation && st.desiredNumberScheduled === n && st.updatedNumberScheduled === n && st.numberAvailable === n
      : st.observedGeneration === generation && st.updatedReplicas === n && st.availableReplicas === n && st.replicas === n;
  };
  let t0 = performance.now();
  await c.create(rt, 'default', obj);
  const created = await until(c, rt, name, t0, timeoutMs, (o) => available(o, 1));
  t0 = performance.now();
  await c.patch(rt, 'default', name, { spec: { template: { spec: { containers: [{ name: 'main', image: IMAGES[1] }] } } } }, 'strategic');
  const updated = await until(c, rt, name, t0, timeoutMs, (o) => available(o, 2));
  await c.delete(rt, 'default', name);
  const t1 = performance.now();
  while (performance.now() - t1 < timeoutMs && (await c.list(PODS, 'default', { labelSelector: `app=${name}`, limit: 1 })).items.length > 0) await sleep(250);
  return [created, updated];
}

const sum = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);

export const daemonSetRollout: Scenario = {
  name: 'daemonset',
  title: 'DaemonSet rollout across simulated nodes, beside a Deployment of the same size',
  estimate: { quick: '1 min', full: '10 min' },
  async run(ctx) {
    const nodes = ctx.quick ? 100 : 1000;
    const timeoutMs = ctx.quick ? 120_000 : 900_000;
    const cluster = await ClusterProcess.start({
      dataDir: join(ctx.workDir, 'cluster'),
      fakeNodes: nodes,
      fakeNodeOptions: { capacity: { cpu: '64', memory: '256Gi', pods: '110' } },
    });
    try {
      const c = cluster.client;
      await sleep(2000);
      ctx.log(`${nodes} simulated nodes up`);
      // A first rollout runs slower (code paths compiled, caches filled): one Deployment goes through the steps unmeasured first.
      await rollout(c, DEPLOYMENTS, deployment('warm-up', nodes), nodes, timeoutMs);
      ctx.log('warm-up rollout done');
      const ds = await rollout(c, DAEMONSETS, daemonSet('ds-bench'), nodes, timeoutMs);
      ctx.log(`DaemonSet: create → available ${ds[0]?.toFixed(0)} ms, update → updated ${ds[1]?.toFixed(0)} ms`);
      const dep = await rollout(c, DEPLOYMENTS, deployment('deploy-bench', nodes), nodes, timeoutMs);
      ctx.log(`Deployment: create → available ${dep[0]?.toFixed(0)} ms, update → updated ${dep[1]?.toFixed(0)} ms`);
      const notConverged = `not converged within ${timeoutMs / 60_000} min`;
      const size = ctx.quick ? `${nodes} (quick: sized down from 1,000)` : `${nodes}`;
      return {
        method: `
\`kumo up\` with ${nodes} simulated nodes in its own process. After one unmeasured warm-up rollout of a Deployment, a DaemonSet (pause image, maxUnavailable 25%) is created and its
status polled every 100 ms until a pod is available on every node; its image is then changed and polled until every node runs
an updated, available pod. The DaemonSet is deleted and its pods waited out, then a Deployment of ${nodes} replicas (the same
template, its default 25% maxUnavailable and maxSurge) goes through the same two steps on the same nodes.${ctx.quick ? ' Quick mode: 100 nodes and 100 replicas instead of 1,000; the ids keep the full size in their names.' : ''}
`,
        figures: [
          figure('daemonset-rollout-1000-nodes-ms', `DaemonSet on ${size} nodes: create → all available, then image update → all updated`, sum(...ds), 'ms', {
            peer: { label: `Deployment of ${nodes} replicas, same steps, same run`, value: sum(...dep) ?? Number.NaN, unit: 'ms', kind: 'peer' },
            ...(sum(...ds) === null ? { note: notConverged } : {}),
          }),
          figure('deployment-1000-rollout-ms', `Deployment of ${size} replicas: create → all available, then image update → all updated`, sum(...dep), 'ms', {
            ...(sum(...dep) === null ? { note: notConverged } : {}),
          }),
        ],
        tables: [
          {
            title: 'Rollout steps (ms)',
            columns: ['workload', 'create → all available', 'image update → all updated and available'],
            rows: [
              [`DaemonSet on ${nodes} nodes`, ds[0] ?? 'n/a', ds[1] ?? 'n/a'],
              [`Deployment of ${nodes} replicas`, dep[0] ?? 'n/a', dep[1] ?? 'n/a'],
            ],
          },
        ],
        charts: [],
        notes: ['Simulated nodes start a bound pod 200 ms after they see it and stop a deleted one within 100 ms (the fake runtime’s defaults).'],
        data: { nodes, daemonSet: ds, deployment: dep },
      };
    } finally {
      await cluster.stop();
    }
  },
};
