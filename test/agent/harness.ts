/**
 * A local cluster with in-process agents for the agent tests, a recorder of
 * every pod status the API showed (for assertions about states a pod passed
 * through, like Init:0/2 or CrashLoopBackOff), and small pod helpers.
 */
import type { AgentOptions } from '#lib/agent/agent';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import type { KubeClient } from '#lib/client/client';
import { Informer } from '#lib/client/informer';
import type { LocalClusterOptions } from '#lib/local/cluster';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { EVENTS, PODS } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';

export type P = Pod & KObject;

/** Agent timings for tests: quick relists and back-offs, frequent heartbeats. */
export const FAST_AGENT: Partial<AgentOptions> = {
  relistMs: 200,
  leaseRenewMs: 1_000,
  nodeStatusIntervalMs: 1_000,
  restartBackoff: { initialMs: 1_000, maxMs: 8_000 },
  imagePullBackoff: { initialMs: 1_000, maxMs: 4_000 },
  resyncMs: 5_000,
  storageCheckMs: 500,
};

/**
 * A cluster with in-process agents. Its DNS server (docker runtime) listens on a random 169.254.20.x unless
 * the test says otherwise: test files run side by side, and each cluster then has a server of its own.
 */
export async function agentCluster(opts: Partial<LocalClusterOptions> & { runtime: 'docker' | 'process' }) {
  const dns = { address: `169.254.20.${11 + Math.floor(Math.random() * 240)}` };
  return startCluster({ controllers: true, resyncIntervalMs: 2_000, dns, ...opts, agent: { ...FAST_AGENT, ...(opts.agent ?? {}) } });
}

export function podObject(name: string, spec: Pod['spec'], meta: Partial<KObject['metadata']> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec } as KObject;
}

/** Polls the pod until `pred` holds (bounded). */
export async function waitPod(client: KubeClient, name: string, pred: (p: P) => boolean, what: string, timeoutMs = 30_000, namespace = 'default'): Promise<P> {
  return waitFor(
    async () => {
      const p = await client.find<P>(PODS, namespace, name);
      return p && pred(p) ? p : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `pod ${name}: ${what}` },
  );
}

export async function waitGone(client: KubeClient, name: string, timeoutMs = 30_000, namespace = 'default'): Promise<void> {
  await waitFor(async () => !(await client.find(PODS, namespace, name)), { timeoutMs, intervalMs: 100, what: `pod ${name} to be gone` });
}

export function ready(p: P): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function containerStatus(p: P, name: string) {
  return [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find((s) => s.name === name);
}

/** Every version of every pod the watch delivered, in order. */
export class PodHistory {
  readonly seen: P[] = [];
  private readonly informer: Informer;

  constructor(client: KubeClient, namespace = 'default') {
    this.informer = new Informer(client, PODS, { namespace, onChange: (_t, obj) => void this.seen.push(structuredClone(obj) as P), logger: silentLogger });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  of(name: string): P[] {
    return this.seen.filter((p) => p.metadata.name === name);
  }
}

/** The Events recorded for an object, as `Reason: message` lines. */
export async function eventsOf(client: KubeClient, name: string, namespace = 'default'): Promise<string[]> {
  const list = await client.list<KObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENTS, namespace);
  return list.items.filter((e) => e.involvedObject?.name === name).map((e) => `${e.reason}: ${e.message}`);
}
