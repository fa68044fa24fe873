/**
 * Scale: a `kumo up` with simulated nodes (the fake runtime, in its own
 * process) brought to N nodes and P pods through Deployments, the way a user
 * would: time to converge (every Deployment fully available), the control
 * plane's resident memory, and list latency at that size beside the raw
 * SQLite statement that reads the same rows and Kubernetes' API latency SLO
 * for lists.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Deployment } from '#lib/api/apps/v1/deployment';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, PODS } from '#lib/kinds/resources';
import { ClusterProcess } from '../lib/cluster-process.js';
import { summarize } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';
import { type Figure, figure, type Scenario } from '../lib/types.js';
import { deployment } from '../lib/workloads.js';
import { sleep } from '#lib/util/sleep';
import { parallel } from './scheduler.js';

const MiB = 2 ** 20;

/** Kubernetes' API call latency SLO for LIST (p99): cluster-scoped 30 s, namespace-scoped 5 s. */
const LIST_SLO_CLUSTER_S = 30;
const LIST_SLO_NAMESPACE_S = 5;

async function time<T>(fn: () => Promise<T> | T): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export const scale: Scenario = {
  name: 'scale',
  title: 'Scale: simulated nodes and pods in `kumo up`',
  estimate: { quick: '1 min', full: '10 min' },
  async run(ctx) {
    const nodes = ctx.quick ? 100 : 1000;
    const perDeployment = 1000;
    const deployments = ctx.quick ? 2 : 30;
    const pods = perDeployment * deployments;
    const timeoutMs = ctx.quick ? 180_000 : 1_800_000;
    const dataDir = join(ctx.workDir, 'cluster');
    const cluster = await ClusterProcess.start({ dataDir, fakeNodes: nodes, fakeNodeOptions: { capacity: { cpu: '64', memory: '256Gi', pods: '110' } } });
    const series: { t: number; ready: number; rssMiB: number }[] = [];
    const notes: string[] = [];
    try {
      const c = cluster.client;
      await sleep(2000);
      const idle = cluster.rss();
      ctx.log(`${nodes} simulated nodes up; control plane RSS ${(idle.rss / MiB).toFixed(0)} MiB`);

      const t0 = performance.now();
      await parallel(deployments, 4, (i) => c.create(DEPLOYMENTS, 'default', deployment(`scale-${i}`, perDeployment)).then(() => undefined));
      let ready = 0;
      let converged: number | undefined;
      while (performance.now() - t0 < timeoutMs) {
        await sleep(ctx.quick ? 1000 : 2000);
        const list = await c.list<Deployment & KObject>(DEPLOYMENTS, 'default');
        ready = list.items.reduce((n, d) => n + (d.status?.availableReplicas ?? 0), 0);
        const { rss } = cluster.rss();
        const t = (performance.now() - t0) / 1000;
        series.push({ t, ready, rssMiB: rss / MiB });
        ctx.log(`${t.toFixed(0)} s: ${ready}/${pods} pods available, RSS ${(rss / MiB).toFixed(0)} MiB`);
        if (ready >= pods) {
          converged = t;
          break;
        }
      }
      if (converged === undefined) notes.push(`Did not converge within ${timeoutMs / 60_000} min: ${ready} of ${pods} pods available at the end.`);
      await sleep(3000);
      const settled = cluster.rss();

      // List latency at this size, through the HTTP front door, beside the SQLite statement reading the same rows.
      const reps = ctx.quick ? 3 : 5;
      const all: number[] = [];
      const page: number[] = [];
      const bySelector: number[] = [];
      for (let i = 0; i < reps; i++) all.push(await time(() => c.list(PODS, undefined)));
      for (let i = 0; i < reps * 4; i++) page.push(await time(() => c.list(PODS, 'default', { limit: 500 })));
      for (let i = 0; i < reps * 2; i++) bySelector.push(await time(() => c.list(PODS, 'default', { labelSelector: 'app=scale-0' })));
      const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
      const rawAllStmt = db.prepare("SELECT namespace, name, data FROM objects WHERE resource = 'pods' ORDER BY namespace, name");
      const rawPageStmt = db.prepare(
        "SELECT namespace, name, data FROM objects WHERE resource = 'pods' AND namespace = 'default' ORDER BY namespace, name LIMIT 501",
      );
      const rawAll: number[] = [];
      const rawPage: number[] = [];
      for (let i = 0; i < reps; i++) rawAll.push(await time(() => rawAllStmt.all()));
      for (let i = 0; i < reps * 4; i++) rawPage.push(await time(() => rawPageStmt.all()));
      const stored = db.prepare('SELECT COUNT(*) AS n, SUM(LENGTH(data)) AS bytes FROM objects').get() as { n: number; bytes: number };
      const storedPods = (db.prepare("SELECT COUNT(*) AS n FROM objects WHERE resource = 'pods'").get() as { n: number }).n;
      db.close();

      const sAll = summarize(all);
      const sPage = summarize(page);
      const sSel = summarize(bySelector);
      const rAll = summarize(rawAll);
      const rPage = summarize(rawPage);
      const figures: Figure[] = [
        figure('scale.converge', `time to converge: ${deployments} Deployments × ${perDeployment} replicas on ${nodes} nodes`, converged ?? null, 's', {
          peer: { label: 'Kubernetes pod startup SLO (p99 per pod)', value: 5, unit: 's', kind: 'limit' },
          ...(converged === undefined ? { note: `not converged in ${timeoutMs / 60_000} min` } : {}),
        }),
        figure('scale.pods-per-second', 'pods brought to available per second (whole pipeline)', converged ? pods / converged : null, 'pods/s', {
          peer: { label: "scheduler_perf's floor at 5,000 nodes", value: 680, unit: 'pods/s', kind: 'limit' },
        }),
        figure('scale.rss.peak', `control plane peak RSS at ${storedPods} pods, ${nodes} nodes`, settled.peak / MiB, 'MiB', {
          peer: { label: 'bytes of stored objects (JSON in state.db)', value: stored.bytes / MiB, unit: 'MiB', kind: 'peer' },
        }),
        figure('scale.rss.idle', `control plane RSS with ${nodes} nodes, no pods`, idle.rss / MiB, 'MiB', {
          peer: { label: 'peak RSS at full size', value: settled.peak / MiB, unit: 'MiB', kind: 'peer' },
        }),
        figure('scale.list.all.p50', `LIST all ${storedPods} pods (HTTP, JSON), p50 of ${reps}`, sAll.p50 / 1000, 's', {
          peer: { label: 'raw SQLite SELECT of the same rows', value: rAll.p50 / 1000, unit: 's', kind: 'peer' },
        }),
        figure('scale.list.all.max', `LIST all ${storedPods} pods, slowest of ${reps}`, sAll.max / 1000, 's', {
          peer: { label: 'SLO: cluster-scoped LIST p99', value: LIST_SLO_CLUSTER_S, unit: 's', kind: 'limit' },
          target: { on: 'value', op: '<=', value: LIST_SLO_CLUSTER_S, label: 'Kubernetes LIST SLO, cluster scope' },
        }),
        figure('scale.list.page.p50', `LIST pods limit=500 (first page), p50 of ${reps * 4}`, sPage.p50, 'ms', {
          peer: { label: 'raw SQLite SELECT ... LIMIT 501', value: rPage.p50, unit: 'ms', kind: 'peer' },
        }),
        figure('scale.list.selector.max', `LIST pods -l app=scale-0 (1 of ${storedPods} selected by label), slowest of ${reps * 2}`, sSel.max / 1000, 's', {
          peer: { label: 'SLO: namespace-scoped LIST p99', value: LIST_SLO_NAMESPACE_S, unit: 's', kind: 'limit' },
          target: { on: 'value', op: '<=', value: LIST_SLO_NAMESPACE_S, label: 'Kubernetes LIST SLO, namespace scope' },
        }),
      ];
      notes.push(
        `Simulated nodes start a bound pod 200 ms after they see it (the fake runtime's default); ${nodes} nodes each renew a Lease every 10 s throughout.`,
        'The label selector has no index (as in Kubernetes without the watch cache): a selective list still reads every pod of the namespace.',
      );
      return {
        method: `
\`kumo up\` with ${nodes} simulated nodes runs in its own process (its memory is read from /proc). The benchmark creates ${deployments}
Deployments of ${perDeployment} replicas in one namespace over HTTP and polls the Deployments' status until every replica is
available, sampling the control plane's RSS. Then, at that size, it times LIST requests through the HTTP front door (full JSON
bodies) and the SQLite statements that read the same rows from the same database file (read-only, while the cluster runs).
`,
        figures,
        tables: [
          {
            title: 'List latency at size (ms)',
            columns: ['request', 'n', 'p50', 'p99', 'max', 'raw SQLite p50'],
            rows: [
              [`all ${storedPods} pods`, sAll.n, sAll.p50, sAll.p99, sAll.max, rAll.p50],
              ['limit=500', sPage.n, sPage.p50, sPage.p99, sPage.max, rPage.p50],
              ['-l app=scale-0', sSel.n, sSel.p50, sSel.p99, sSel.max, '(same scan as all pods)'],
            ],
          },
        ],
        charts: [
          {
            id: 'scale-convergence',
            title: 'Pods available and control plane RSS while converging',
            svg: lineChart({
              title: `${pods} pods on ${nodes} simulated nodes`,
              xLabel: 'seconds since the Deployments were created',
              yLabel: 'pods available / RSS MiB',
              series: [
                { name: 'pods available', points: series.map((s) => [s.t, s.ready]) },
                { name: 'control plane RSS (MiB)', points: series.map((s) => [s.t, s.rssMiB]) },
              ],
            }),
          },
        ],
        notes,
        data: { nodes, pods, series, idleRss: idle, settledRss: settled, stored, list: { all, page, bySelector, rawAll, rawPage } },
      };
    } finally {
      await cluster.stop();
    }
  },
};
