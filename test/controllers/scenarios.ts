/**
 * The control-loop scenarios of the seed, written once and run against every
 * way of driving the controllers (in-process on SQLite; Lambda handlers fed by
 * a DynamoDB stream). Each asserts on what a user sees through the API.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Deployment } from '#lib/api/apps/v1/deployment';
import type { ReplicaSet } from '#lib/api/apps/v1/replicaset';
import type { Job } from '#lib/api/batch/v1/job';
import type { Pod } from '#lib/api/core/v1/pod';
import type { HorizontalPodAutoscaler } from '#lib/api/autoscaling/v2/horizontalpodautoscaler';
import type { PodMetrics } from '#lib/api/metrics/v1beta1/metrics';
import { parseQuantity } from '#lib/api/quantity';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { resourcePath, type KubeClient } from '#lib/client/client';
import { StatusError } from '#lib/api/errors';
import type { PodDisruptionBudget } from '#lib/api/policy/v1/poddisruptionbudget';
import { REVISION } from '#lib/controllers/deployment';
import type { FakeNodes } from '#lib/sim/fake-nodes';
import { waitFor } from '../helpers/wait.js';
import { statefulSetScenarios } from './statefulset-scenario.js';

export const PODS = resourceByName('pods')!;
export const DEPLOYMENTS = resourceByName('deployments')!;
export const REPLICASETS = resourceByName('replicasets')!;
export const JOBS = resourceByName('jobs')!;
export const EVENTS = resourceByName('events')!;
export const NAMESPACES = resourceByName('namespaces')!;
export const DAEMONSETS = resourceByName('daemonsets')!;
export const CONTROLLER_REVISIONS = resourceByName('controllerrevisions')!;
const REPLICATION_CONTROLLERS = resourceByName('replicationcontrollers')!;
const POD_DISRUPTION_BUDGETS = resourceByName('poddisruptionbudgets')!;
export const HPAS = resourceByName('horizontalpodautoscalers')!;

export interface Harness {
  client: KubeClient;
  fake: FakeNodes;
  nodes: string[];
  dispose(): Promise<void>;
}

export interface HarnessOptions {
  nodes: string[];
  /** Node lifecycle grace (lease age before a node is unreachable). */
  nodeGraceMs: number;
  /** How often simulated nodes renew their leases. */
  leaseRenewMs: number;
  /** DefaultTolerationSeconds admission. */
  tolerationSeconds: number;
}

type P = Pod & KObject;
type D = Deployment & KObject;
type RS = ReplicaSet & KObject;
type PDB = PodDisruptionBudget & KObject;

const isReady = (p: P) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const isRunning = (p: P) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running';

export function seedDeployment(name: string, replicas = 3): KObject {
  const d = parse(readFileSync('examples/deployment.yaml', 'utf8')) as D;
  d.metadata.name = name;
  d.spec!.replicas = replicas;
  d.spec!.selector = { matchLabels: { app: name } };
  d.spec!.template!.metadata!.labels = { app: name };
  return d;
}

function daemonSet(name: string, image: string): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  } as KObject;
}

async function runningPods(client: KubeClient, ns: string, selector: string): Promise<P[]> {
  return (await client.list<P>(PODS, ns, { labelSelector: selector })).items.filter(isRunning);
}

/**
 * Waits until `count` pods of `ns` have PodMetrics of `cpu` that the HPA will use: measured over a whole
 * window after the pod became Ready (kube's CPU initialization rule).
 */
async function measured(client: KubeClient, ns: string, count: number, cpu: string, timeoutMs: number): Promise<void> {
  const want = Math.round(parseQuantity(cpu)! * 1e9);
  await waitFor(
    async () => {
      const pods = await runningPods(client, ns, '');
      const list = await client.call<{ items: PodMetrics[] }>({ method: 'GET', path: `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods` });
      const ok = pods.filter((p) => {
        const m = list.items.find((i) => i.metadata.name === p.metadata.name);
        const ready = (p.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True');
        if (!m || !ready || m.containers.some((c) => c.usage.cpu !== `${want}n`)) return false;
        return Date.parse(m.timestamp) >= Date.parse(ready.lastTransitionTime ?? '') + Number.parseInt(m.window, 10) * 1000;
      });
      return ok.length === count;
    },
    { timeoutMs, intervalMs: 100, what: `${count} pod(s) measured at ${cpu}` },
  );
}

/** Follows pods matching a selector over a watch and tracks how many are ready (and active) at every step. */
export class PodTracker {
  private readonly pods = new Map<string, P>();
  minReady = Infinity;
  maxActive = 0;
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly ns: string,
    private readonly selector: string,
  ) {}

  async start(): Promise<void> {
    const list = await this.client.list<P>(PODS, this.ns, { labelSelector: this.selector });
    for (const p of list.items) this.pods.set(p.metadata.name!, p);
    this.measure();
    const events = await this.client.watch(PODS, this.ns, { labelSelector: this.selector, resourceVersion: list.metadata.resourceVersion }, this.abort.signal);
    this.done = (async () => {
      try {
        for await (const ev of events) {
          if (ev.type === 'DELETED') this.pods.delete(ev.object.metadata.name!);
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.pods.set(ev.object.metadata.name!, ev.object as P);
          this.measure();
        }
      } catch {
        // aborted
      }
    })();
  }

  private measure(): void {
    const all = [...this.pods.values()];
    this.minReady = Math.min(this.minReady, all.filter(isReady).length);
    this.maxActive = Math.max(
      this.maxActive,
      all.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length,
    );
  }

  resetMin(): void {
    this.minReady = Infinity;
    this.measure();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

/** What the API shows about a Deployment and its pods, printed when a wait for it fails. */
export async function describeState(client: KubeClient, ns: string, app: string): Promise<string> {
  const lines: string[] = [];
  for (const d of (await client.list<D>(DEPLOYMENTS, ns)).items.filter((x) => x.metadata.name === app)) {
    lines.push(
      `deployment ${d.metadata.name} gen=${d.metadata.generation} spec.replicas=${d.spec?.replicas} status=${JSON.stringify({ ...d.status, conditions: undefined })} ann=${JSON.stringify(d.metadata.annotations)}`,
    );
  }
  for (const rs of (await client.list<RS>(REPLICASETS, ns, { labelSelector: `app=${app}` })).items) {
    lines.push(
      `rs ${rs.metadata.name} rv=${rs.metadata.resourceVersion} gen=${rs.metadata.generation} spec.replicas=${rs.spec?.replicas} status=${JSON.stringify({ ...rs.status, conditions: undefined })} exp=${rs.metadata.annotations?.['kumo.io/expectations'] ?? ''}`,
    );
  }
  for (const p of (await client.list<P>(PODS, ns, { labelSelector: `app=${app}` })).items) {
    lines.push(`pod ${p.metadata.name} node=${p.spec?.nodeName ?? ''} phase=${p.status?.phase} ready=${isReady(p)} deleting=${!!p.metadata.deletionTimestamp}`);
  }
  return lines.join('\n');
}

async function rolledOut(client: KubeClient, ns: string, name: string, replicas: number): Promise<D | undefined> {
  const d = await client.get<D>(DEPLOYMENTS, ns, name);
  const s = d.status ?? {};
  const ok =
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
    s.updatedReplicas === replicas &&
    s.replicas === replicas &&
    s.availableReplicas === replicas &&
    s.readyReplicas === replicas;
  return ok ? d : undefined;
}

export interface ScenarioOptions {
  /** Bound for each wait. @default 30 s */
  timeoutMs?: number;
  /** A fresh harness for every scenario (the emulator slows down as one table grows). @default false */
  isolated?: boolean;
  nodeGraceMs?: number;
  leaseRenewMs?: number;
  /** How often waits re-check the API. @default 50 ms */
  pollMs?: number;
  /** Smaller replica counts (the emulator's transactions slow down with every write). @default false */
  small?: boolean;
}

export function controlLoopScenarios(label: string, make: (opts: HarnessOptions) => Promise<Harness>, options: ScenarioOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.pollMs ?? 50;
  const big = options.small ? 6 : 10;
  const roll = options.small ? 3 : 4;
  const minRoll = 3; // replicas - maxUnavailable for both sizes: 4 - 1 and 3 - 0
  const harnessOptions: HarnessOptions = {
    nodes: ['node-a', 'node-b', 'node-c'],
    nodeGraceMs: options.nodeGraceMs ?? 1500,
    leaseRenewMs: options.leaseRenewMs ?? 300,
    tolerationSeconds: 1,
  };
  describe(`control loops (${label})`, () => {
    let h: Harness;
    if (options.isolated) {
      beforeEach(async () => {
        h = await make(harnessOptions);
      }, 60_000);
      afterEach(async () => {
        await h?.dispose();
      }, 60_000);
    } else {
      beforeAll(async () => {
        h = await make(harnessOptions);
      }, 60_000);
      afterAll(async () => {
        await h?.dispose();
      });
    }

    it(
      'runs the seed Deployment as 3 Running pods spread over the nodes',
      async () => {
        const ns = 'default';
        await h.client.create(DEPLOYMENTS, ns, seedDeployment('web'));
        const pods = await waitFor(
          async () => {
            const running = await runningPods(h.client, ns, 'app=web');
            return running.length === 3 ? running : undefined;
          },
          { timeoutMs, intervalMs, what: '3 running pods' },
        );
        expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(3);
        const d = await waitFor(() => rolledOut(h.client, ns, 'web', 3), { timeoutMs, intervalMs, what: 'web rolled out' });
        expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
        expect(d.metadata.annotations?.[REVISION]).toBe('1');
        const events = (await h.client.list(EVENTS, ns, { fieldSelector: `involvedObject.name=web` })).items;
        expect(events.map((e) => (e as KObject & { reason?: string }).reason)).toContain('ScalingReplicaSet');
      },
      timeoutMs * 2,
    );

    it(
      `scales to ${big} and back to 2 through the scale subresource`,
      async () => {
        const ns = 'default';
        await h.client.create(DEPLOYMENTS, ns, seedDeployment('scaler', 3));
        await waitFor(() => rolledOut(h.client, ns, 'scaler', 3), { timeoutMs, intervalMs, what: 'scaler at 3' });
        await h.client.patch(DEPLOYMENTS, ns, 'scaler', { spec: { replicas: big } }, 'merge', { subresource: 'scale' });
        await waitFor(async () => (await runningPods(h.client, ns, 'app=scaler')).length === big, { timeoutMs, intervalMs, what: `${big} running` });
        await waitFor(() => rolledOut(h.client, ns, 'scaler', big), { timeoutMs, intervalMs, what: `scaler at ${big}` });
        await h.client.patch(DEPLOYMENTS, ns, 'scaler', { spec: { replicas: 2 } }, 'merge', { subresource: 'scale' });
        await waitFor(() => rolledOut(h.client, ns, 'scaler', 2), { timeoutMs, intervalMs, what: 'scaler at 2' });
        await waitFor(async () => (await h.client.list<P>(PODS, ns, { labelSelector: 'app=scaler' })).items.length === 2, {
          timeoutMs,
          intervalMs,
          what: 'extra pods gone',
        });
      },
      timeoutMs * 3,
    );

    it(
      'rolls out a template change without dropping below replicas - maxUnavailable ready pods, and rolls back',
      async () => {
        const ns = 'default';
        const name = 'roll';
        await h.client.create(DEPLOYMENTS, ns, seedDeployment(name, roll));
        await waitFor(() => rolledOut(h.client, ns, name, roll), { timeoutMs, intervalMs, what: `roll at ${roll}` });
        const first = (await h.client.list<RS>(REPLICASETS, ns, { labelSelector: `app=${name}` })).items;
        expect(first).toHaveLength(1);
        const tracker = new PodTracker(h.client, ns, `app=${name}`);
        await tracker.start();
        // maxUnavailable 25% rounds down (4 → 1, 3 → 0), maxSurge 25% rounds up (1 either way).
        await h.client.patch(DEPLOYMENTS, ns, name, { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.17' }] } } } }, 'strategic');
        const d = await waitFor(
          async () => {
            const rolled = await rolledOut(h.client, ns, name, roll);
            if (!rolled) return undefined;
            const rs = (await h.client.list<RS>(REPLICASETS, ns, { labelSelector: `app=${name}` })).items;
            return rs.length === 2 && rs.every((r) => (r.status?.replicas ?? 0) === (r.spec?.replicas ?? 0)) ? rolled : undefined;
          },
          { timeoutMs, intervalMs, what: 'rollout to nginx:1.17' },
        ).catch(async (err: Error) => {
          throw new Error(`${err.message}\n${await describeState(h.client, ns, name)}`);
        });
        expect(d.metadata.annotations?.[REVISION]).toBe('2');
        expect(tracker.minReady).toBeGreaterThanOrEqual(minRoll);
        expect(tracker.maxActive).toBeLessThanOrEqual(roll + 1);
        const pods = await runningPods(h.client, ns, `app=${name}`);
        expect(pods.map((p) => p.spec?.containers?.[0]?.image)).toEqual(Array(roll).fill('nginx:1.17'));

        // Rollback the way `kubectl rollout undo` does it: put the old ReplicaSet's template back.
        tracker.resetMin();
        const old = first[0]!;
        const template = structuredClone(old.spec!.template!);
        delete template.metadata!.labels!['pod-template-hash'];
        const current = await h.client.get<D>(DEPLOYMENTS, ns, name);
        await h.client.patch(
          DEPLOYMENTS,
          ns,
          name,
          [
            { op: 'replace', path: '/spec/template', value: template },
            { op: 'replace', path: '/metadata/annotations', value: { ...(current.metadata.annotations ?? {}) } },
          ],
          'json',
        );
        const back = await waitFor(
          async () => {
            if (!(await rolledOut(h.client, ns, name, roll))) return undefined;
            const rs = await h.client.get<RS>(REPLICASETS, ns, old.metadata.name!);
            return rs.spec?.replicas === roll && rs.status?.availableReplicas === roll ? rs : undefined;
          },
          { timeoutMs, intervalMs, what: 'rollback to the first ReplicaSet' },
        ).catch(async (err: Error) => {
          throw new Error(`${err.message}\n${await describeState(h.client, ns, name)}`);
        });
        expect(back.metadata.uid).toBe(old.metadata.uid);
        expect(back.metadata.annotations?.[REVISION]).toBe('3');
        await tracker.stop();
        expect(tracker.minReady).toBeGreaterThanOrEqual(minRoll);
        const images = (await runningPods(h.client, ns, `app=${name}`)).map((p) => p.spec?.containers?.[0]?.image);
        expect(images).toEqual(Array(roll).fill('nginx:1.16'));
      },
      timeoutMs * 4,
    );

    it(
      'completes a Job with completions 5 and parallelism 2, never running more than 2 at once',
      async () => {
        const ns = 'default';
        const tracker = new PodTracker(h.client, ns, 'job-name=batch');
        await tracker.start();
        await h.client.create(JOBS, ns, {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'batch' },
          spec: {
            completions: 5,
            parallelism: 2,
            template: {
              metadata: { annotations: { 'kumo.io/sim-run-seconds': '0.2' } },
              spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['true'] }] },
            },
          },
        });
        const job = await waitFor(
          async () => {
            const j = await h.client.get<Job & KObject>(JOBS, ns, 'batch');
            return (j.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
          },
          { timeoutMs, intervalMs, what: 'job complete' },
        );
        await tracker.stop();
        expect(job.status?.succeeded).toBe(5);
        expect(job.status?.completionTime).toBeTruthy();
        expect(tracker.maxActive).toBeLessThanOrEqual(2);
        const pods = (await h.client.list<P>(PODS, ns, { labelSelector: 'job-name=batch' })).items;
        expect(pods.filter((p) => p.status?.phase === 'Succeeded')).toHaveLength(5);
      },
      timeoutMs * 2,
    );

    it(
      'fails a Job past its backoffLimit',
      async () => {
        const ns = 'default';
        await h.client.create(JOBS, ns, {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'doomed' },
          spec: {
            backoffLimit: 1,
            template: {
              metadata: { annotations: { 'kumo.io/sim-run-seconds': '0.1', 'kumo.io/sim-exit-code': '3' } },
              spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] },
            },
          },
        });
        const job = await waitFor(
          async () => {
            const j = await h.client.get<Job & KObject>(JOBS, ns, 'doomed');
            return (j.status?.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
          },
          { timeoutMs, intervalMs, what: 'job failed' },
        );
        expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
        expect(job.status?.failed).toBe(2);
      },
      timeoutMs * 2,
    );

    it(
      'reports pods that fit nowhere as Unschedulable with the per-filter counts (cpu, ephemeral-storage), and runs a Bitnami-style pod whose ephemeral-storage requests fit',
      async () => {
        const ns = 'default';
        await h.client.create(PODS, ns, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'huge' },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '64' } } }] },
        });
        const pod = await waitFor(
          async () => {
            const p = await h.client.get<P>(PODS, ns, 'huge');
            return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') ? p : undefined;
          },
          { timeoutMs, intervalMs, what: 'huge unschedulable' },
        );
        const cond = pod.status!.conditions!.find((c) => c.type === 'PodScheduled')!;
        expect(cond.reason).toBe('Unschedulable');
        const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
        expect(cond.message).toBe(message);
        const events = await waitFor(
          async () => {
            const list = (await h.client.list(EVENTS, ns, { fieldSelector: 'involvedObject.name=huge,reason=FailedScheduling' })).items;
            return list.length > 0 ? list : undefined;
          },
          { timeoutMs, intervalMs, what: 'FailedScheduling event' },
        );
        expect((events[0] as KObject & { message?: string }).message).toBe(message);
        await h.client.delete(PODS, ns, 'huge');

        // Bitnami's "nano" resources preset, as its charts render it.
        const resources = {
          requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '50Mi' },
          limits: { cpu: '150m', memory: '192Mi', 'ephemeral-storage': '2Gi' },
        };
        const podAsking = (name: string, r: object) => ({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: { containers: [{ name: 'redis', image: 'docker.io/bitnami/redis:8.2', resources: r }] },
        });
        await h.client.create(PODS, ns, podAsking('bitnami', resources));
        await h.client.create(PODS, ns, podAsking('hoarder', { requests: { 'ephemeral-storage': '200Gi' } }));
        await waitFor(async () => (await h.client.get<P>(PODS, ns, 'bitnami')).status?.phase === 'Running', {
          timeoutMs,
          intervalMs,
          what: 'bitnami running',
        });
        const pending = await waitFor(
          async () => {
            const p = await h.client.get<P>(PODS, ns, 'hoarder');
            return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
          },
          { timeoutMs, intervalMs, what: 'hoarder unschedulable' },
        );
        expect(pending.message).toBe(
          '0/3 nodes are available: 3 Insufficient ephemeral-storage. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
        );
        const node = await h.client.get(resourceByName('nodes')!, undefined, h.nodes[0]!);
        expect((node.status as { allocatable?: Record<string, string> }).allocatable).toMatchObject({
          'ephemeral-storage': '100Gi',
          'hugepages-1Gi': '0',
          'hugepages-2Mi': '0',
          pods: '110',
        });
        await h.client.delete(PODS, ns, 'bitnami');
        await h.client.delete(PODS, ns, 'hoarder');
      },
      timeoutMs * 2,
    );

    it(
      'deletes a Deployment with its ReplicaSets and pods',
      async () => {
        const ns = 'default';
        await h.client.create(DEPLOYMENTS, ns, seedDeployment('doomed-web', 2));
        await waitFor(() => rolledOut(h.client, ns, 'doomed-web', 2), { timeoutMs, intervalMs, what: 'doomed-web up' }).catch(async (err: Error) => {
          throw new Error(`${err.message}\n${await describeState(h.client, ns, 'doomed-web')}`);
        });
        await h.client.delete(DEPLOYMENTS, ns, 'doomed-web', { propagationPolicy: 'Background' });
        await waitFor(
          async () => {
            const rs = (await h.client.list(REPLICASETS, ns, { labelSelector: 'app=doomed-web' })).items;
            const pods = (await h.client.list(PODS, ns, { labelSelector: 'app=doomed-web' })).items;
            return rs.length === 0 && pods.length === 0;
          },
          { timeoutMs, intervalMs, what: 'dependents collected' },
        );
      },
      timeoutMs * 2,
    );

    it(
      "keeps a ReplicationController's pods under a PodDisruptionBudget: an eviction spends the budget, the next is refused with 429 until a replacement is Ready",
      async () => {
        const ns = 'default';
        const rc = seedDeployment('legacy', 2) as KObject & { spec: Record<string, unknown> };
        await h.client.create(REPLICATION_CONTROLLERS, ns, {
          apiVersion: 'v1',
          kind: 'ReplicationController',
          metadata: { name: 'legacy' },
          spec: { replicas: 2, template: rc.spec.template },
        });
        await h.client.create(POD_DISRUPTION_BUDGETS, ns, {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: { name: 'legacy' },
          spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'legacy' } } },
        });
        // expectedPods is the RC's scale (read through its scale subresource), 1 of 2 may go.
        const budget = (healthy: number, allowed: number) =>
          waitFor(
            async () => {
              const b = await h.client.get<PDB>(POD_DISRUPTION_BUDGETS, ns, 'legacy');
              const st = b.status;
              return st?.expectedPods === 2 && st.desiredHealthy === 1 && st.currentHealthy === healthy && st.disruptionsAllowed === allowed ? b : undefined;
            },
            { timeoutMs, intervalMs, what: `legacy budget with ${healthy} healthy, ${allowed} allowed` },
          );
        await budget(2, 1);
        const [first, second] = (await h.client.list<P>(PODS, ns, { labelSelector: 'app=legacy' })).items;
        const evict = (pod: P) =>
          h.client.call({
            method: 'POST',
            path: resourcePath(PODS, ns, pod.metadata.name, 'eviction'),
            body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: ns } },
          });
        await evict(first!);
        const refused = (await evict(second!).catch((err: unknown) => err)) as StatusError;
        expect(refused).toBeInstanceOf(StatusError);
        expect(refused.toStatus()).toMatchObject({ code: 429, reason: 'TooManyRequests', details: { causes: [{ reason: 'DisruptionBudget' }] } });
        // The RC replaces the evicted pod; once Ready, the budget allows one disruption again.
        await waitFor(
          async () => {
            const ready = (await h.client.list<P>(PODS, ns, { labelSelector: 'app=legacy' })).items.filter(isReady);
            return ready.length === 2 && !ready.some((p) => p.metadata.uid === first!.metadata.uid);
          },
          { timeoutMs, intervalMs, what: 'legacy pod replaced' },
        );
        await budget(2, 1);
        await evict(second!);
      },
      timeoutMs * 3,
    );

    it(
      'preempts a lower-priority pod for a pod that fits nowhere: the victim goes with a Preempted event, the preemptor runs in its place',
      async () => {
        const ns = 'preempt';
        await h.client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        const classes = resourceByName('priorityclasses')!;
        for (const [name, value] of [
          ['batch-low', 10],
          ['online-high', 1000],
        ] as const) {
          await h.client.create(classes, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value } as KObject);
        }
        // A filler pod of 3 of each node's 4 CPUs on every node.
        const pod = (name: string, priorityClassName: string, cpu: string): KObject => ({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { app: 'filler' } },
          spec: { priorityClassName, containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu } } }] },
        });
        for (let i = 0; i < 3; i++) await h.client.create(PODS, ns, pod(`filler-${i}`, 'batch-low', '3'));
        const before = await waitFor(
          async () => {
            const list = await runningPods(h.client, ns, 'app=filler');
            return list.length === 3 ? list : undefined;
          },
          { timeoutMs, intervalMs, what: 'fillers running' },
        );

        const urgent = await h.client.create<P>(PODS, ns, { ...pod('urgent', 'online-high', '2'), metadata: { name: 'urgent' } });
        const running = await waitFor(
          async () => {
            const p = await h.client.get<P>(PODS, ns, 'urgent');
            return p.status?.phase === 'Running' ? p : undefined;
          },
          { timeoutMs, intervalMs, what: 'urgent running' },
        );
        const node = running.spec!.nodeName!;
        const victim = before.find((p) => p.spec?.nodeName === node)!;
        const preempted = await waitFor(
          async () => {
            const events = (await h.client.list(EVENTS, ns, { fieldSelector: `involvedObject.name=${victim.metadata.name},reason=Preempted` })).items;
            return events[0] as (KObject & { message?: string }) | undefined;
          },
          { timeoutMs, intervalMs, what: 'Preempted event' },
        );
        expect(preempted.message).toBe(`Preempted by pod ${urgent.metadata.uid} on node ${node}`);
        expect(await h.client.find(PODS, ns, victim.metadata.name!)).toBeUndefined();
        // The other fillers keep running.
        expect((await runningPods(h.client, ns, 'app=filler')).map((p) => p.metadata.name).sort()).toEqual(
          before
            .filter((p) => p !== victim)
            .map((p) => p.metadata.name)
            .sort(),
        );
      },
      timeoutMs * 3,
    );

    it(
      'recreates the pods of a node that stops renewing its lease on the other nodes',
      async () => {
        const ns = 'failover';
        await h.client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        await h.client.create(DEPLOYMENTS, ns, seedDeployment('ha', 3));
        const before = await waitFor(
          async () => {
            const running = await runningPods(h.client, ns, 'app=ha');
            return running.length === 3 && new Set(running.map((p) => p.spec?.nodeName)).size === 3 ? running : undefined;
          },
          { timeoutMs, intervalMs, what: 'ha spread' },
        );
        const victim = before[0]!.spec!.nodeName!;
        h.fake.stopNode(victim);
        const after = await waitFor(
          async () => {
            const running = await runningPods(h.client, ns, 'app=ha');
            return running.length === 3 && running.every((p) => p.spec?.nodeName !== victim) ? running : undefined;
          },
          { timeoutMs, intervalMs, what: `pods moved off ${victim}` },
        );
        expect(after.map((p) => p.metadata.name)).not.toContain(before[0]!.metadata.name);
        const node = await h.client.get(resourceByName('nodes')!, undefined, victim);
        expect((node.spec as { taints?: { key: string }[] }).taints?.map((t) => t.key)).toContain('node.kubernetes.io/unreachable');
        await h.fake.resumeNode(victim);
        await waitFor(
          async () => {
            const n = await h.client.get(resourceByName('nodes')!, undefined, victim);
            return !((n.spec as { taints?: { key: string }[] }).taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable');
          },
          { timeoutMs, intervalMs, what: `${victim} untainted` },
        );
      },
      timeoutMs * 3,
    );

    statefulSetScenarios(() => h, { timeoutMs, intervalMs });
    it(
      'runs a DaemonSet pod on every node, on a node as soon as it joins, and rolls an image update over all of them',
      async () => {
        const ns = 'daemons';
        await h.client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        // Every node at once: one step (a pod stopped, created, scheduled and started per node); rolling limits are tested with kubectl.
        const ds = daemonSet('agent', 'busybox:1');
        (ds.spec as { updateStrategy?: unknown }).updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } };
        await h.client.create(DAEMONSETS, ns, ds);
        const onEveryNode = async (nodes: string[], image: string) =>
          waitFor(
            async () => {
              const running = (await runningPods(h.client, ns, 'app=agent')).filter((p) => p.spec?.containers?.[0]?.image === image);
              return running
                .map((p) => p.spec?.nodeName)
                .sort()
                .join() === [...nodes].sort().join()
                ? running
                : undefined;
            },
            { timeoutMs, intervalMs, what: `${image} on ${nodes.join()}` },
          );
        await onEveryNode(h.nodes, 'busybox:1');
        await h.fake.addNode('node-joined');
        await onEveryNode([...h.nodes, 'node-joined'], 'busybox:1');
        await h.client.patch(DAEMONSETS, ns, 'agent', { spec: { template: { spec: { containers: [{ name: 'agent', image: 'busybox:2' }] } } } }, 'strategic');
        await onEveryNode([...h.nodes, 'node-joined'], 'busybox:2');
        const status = await waitFor(
          async () => {
            const d = await h.client.get<KObject & { status?: Record<string, number> }>(DAEMONSETS, ns, 'agent');
            const st = d.status ?? {};
            return st.observedGeneration === 2 && st.updatedNumberScheduled === 4 && st.numberAvailable === 4 ? st : undefined;
          },
          { timeoutMs, intervalMs, what: 'agent rolled out' },
        );
        expect(status).toMatchObject({ desiredNumberScheduled: 4, currentNumberScheduled: 4, numberReady: 4, numberMisscheduled: 0 });
        const revisions = (await h.client.list<KObject & { revision?: number }>(CONTROLLER_REVISIONS, ns)).items;
        expect(revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
      },
      timeoutMs * 3,
    );

    it(
      "autoscales a Deployment on its pods' simulated CPU load, up and back down",
      async () => {
        const ns = 'autoscale';
        await h.client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        const d = seedDeployment('load', 1) as D;
        d.spec!.template!.metadata!.annotations = { 'kumo.io/sim-cpu': '200m' };
        d.spec!.template!.spec!.containers![0]!.resources = { requests: { cpu: '100m' } };
        await h.client.create(DEPLOYMENTS, ns, d);
        // The HPA is created (and later changed) once its pods' usage is measured, so the stream's event of that
        // change is what syncs it, without waiting for the scheduled resync.
        await measured(h.client, ns, 1, '200m', timeoutMs);
        await h.client.create(HPAS, ns, {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'load' },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'load' },
            maxReplicas: 2,
            metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
          },
        });
        // 200 % of the request against a 50 % target: four times the replicas, capped at 2.
        await waitFor(
          async () => {
            const running = await runningPods(h.client, ns, 'app=load');
            return running.length === 2 ? running : undefined;
          },
          { timeoutMs, intervalMs, what: '2 running pods' },
        );
        const up = await waitFor(
          async () => {
            const cur = await h.client.get<HorizontalPodAutoscaler & KObject>(HPAS, ns, 'load');
            return cur.status?.desiredReplicas === 2 && cur.status.currentMetrics?.[0]?.resource?.current?.averageUtilization === 200 ? cur : undefined;
          },
          { timeoutMs, intervalMs, what: 'the HPA status at 2 replicas' },
        );
        expect(up.status?.conditions?.find((c) => c.type === 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
        // The emulator's runs (options.small) stop here: the way down is the same code, and each stream round trip on
        // the emulator costs seconds.
        if (options.small) return;
        // The load goes away: the pods (rolled out again with the new annotation, so a pod replaced on the way
        // gets it too) drop to 5 % of their request, and one replica is enough once the scale-down
        // stabilization window (here none) allows it.
        await h.client.patch(DEPLOYMENTS, ns, 'load', { spec: { template: { metadata: { annotations: { 'kumo.io/sim-cpu': '5m' } } } } });
        await measured(h.client, ns, 2, '5m', timeoutMs);
        await h.client.patch(HPAS, ns, 'load', { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } } });
        await waitFor(async () => (await h.client.get<D>(DEPLOYMENTS, ns, 'load')).spec?.replicas === 1, { timeoutMs, intervalMs, what: 'load at 1 replica' });
        const hpa = await waitFor(
          async () => {
            const cur = await h.client.get<HorizontalPodAutoscaler & KObject>(HPAS, ns, 'load');
            return cur.status?.desiredReplicas === 1 ? cur : undefined;
          },
          { timeoutMs, intervalMs, what: 'the HPA status at 1 replica' },
        );
        expect(hpa.status?.conditions?.map((c) => [c.type, c.status])).toEqual([
          ['AbleToScale', 'True'],
          ['ScalingActive', 'True'],
          ['ScalingLimited', 'False'],
        ]);
      },
      timeoutMs * 4,
    );
  });
}
