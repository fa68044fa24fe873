/**
 * Pod startup latency as ClusterLoader2 measures it: a watch on the pods,
 * noting for each pod when it was created and when the watch first showed
 * all of its containers running. Two creation times are kept: the pod's
 * creationTimestamp (second precision, ClusterLoader2's reference) and the
 * moment the watch delivered the pod's ADDED event (precise; it lags the
 * write by the same delivery delay as the running event, so the difference
 * is the control plane's work).
 */
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { PODS } from '#lib/kinds/resources';
import type { KubeClient } from '#lib/client/client';
import { sleep } from '#lib/util/sleep';

export interface PodTiming {
  name: string;
  /** creationTimestamp (second precision). */
  created: number;
  /** When the watch first delivered the pod. */
  seen: number;
  /** When the store committed the pod's creation (ms precision, from its change log), when known. */
  committed?: number;
  running?: number;
}

function allRunning(pod: Pod): boolean {
  const want = pod.spec?.containers?.length ?? 0;
  const statuses = pod.status?.containerStatuses ?? [];
  return want > 0 && statuses.length >= want && statuses.every((s) => !!s.state?.running);
}

export class PodStartupWatch {
  readonly pods = new Map<string, PodTiming>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly labelSelector: string,
  ) {}

  async start(): Promise<void> {
    const list = await this.client.list(PODS, this.namespace, { labelSelector: this.labelSelector });
    let rv = list.metadata.resourceVersion;
    this.loop = (async () => {
      while (!this.abort.signal.aborted) {
        try {
          const events = await this.client.watch(
            PODS,
            this.namespace,
            { labelSelector: this.labelSelector, resourceVersion: rv, allowBookmarks: true, timeoutSeconds: 600 },
            this.abort.signal,
          );
          for await (const ev of events) {
            const now = Date.now();
            const pod = ev.object as Pod & KObject;
            if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
            if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
            const name = pod.metadata.name!;
            let t = this.pods.get(name);
            if (!t) {
              t = { name, created: Date.parse(pod.metadata.creationTimestamp ?? '') || now, seen: now };
              this.pods.set(name, t);
            }
            if (t.running === undefined && allRunning(pod)) t.running = now;
          }
        } catch {
          if (this.abort.signal.aborted) return;
          await sleep(100);
        }
      }
    })();
  }

  running(): number {
    let n = 0;
    for (const t of this.pods.values()) if (t.running !== undefined) n++;
    return n;
  }

  /** Resolves when `n` pods are running, or rejects after `timeoutMs`. */
  async waitRunning(n: number, timeoutMs: number, progress?: (running: number) => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    while (this.running() < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.running()} of ${n} pods running after ${timeoutMs / 1000} s`);
      await sleep(100);
      const r = this.running();
      if (progress && r !== last && Date.now() % 5 < 1) progress(r);
      last = r;
    }
  }

  /** Sets the store's commit time of each pod's creation (read from its change log after the run). */
  setCommitted(times: Map<string, number>): void {
    for (const [name, ms] of times) {
      const t = this.pods.get(name);
      if (t) t.committed = ms;
    }
  }

  /**
   * Latencies in seconds, for the pods that ran: from the creation's commit
   * (precise; the running time is when this watch saw it, so delivery delay
   * counts against the figure), from creationTimestamp (ClusterLoader2's
   * reference, second precision), and from the watch's first sight.
   */
  latencies(): { fromCommit: number[]; fromCreation: number[]; fromSeen: number[] } {
    const fromCommit: number[] = [];
    const fromSeen: number[] = [];
    const fromCreation: number[] = [];
    for (const t of this.pods.values()) {
      if (t.running === undefined) continue;
      fromSeen.push((t.running - t.seen) / 1000);
      fromCreation.push((t.running - t.created) / 1000);
      fromCommit.push((t.running - (t.committed ?? t.seen)) / 1000);
    }
    return { fromCommit, fromCreation, fromSeen };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
