/**
 * One scheduler at a time, as kube-scheduler's leader election has it: the
 * holder of the kube-system/kube-scheduler Lease schedules, the others wait.
 *
 * Why: each scheduler decides from a cache of its own, and a binding checks
 * the pod (bound once), not the node, so two schedulers deciding at once
 * from caches that miss each other's latest bindings can fill one node
 * twice. kube-scheduler never runs two active instances for that reason. In
 * the cloud every scheduler invocation is a scheduler of its own (a stream
 * batch and the resync, or a retry, run at once in separate containers), so
 * each takes the lease for its whole run, priming its cache after it holds
 * it: it sees every binding of the holders before it.
 *
 * A holder that dies without letting go (its container killed) holds the
 * lease until `durationMs` after it took it; callers set that to the most
 * an invocation can last, so the lease never passes to another while its
 * holder may still bind.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Lease } from '../api/coordination/v1/lease.js';
import type { KObject } from '../api/object.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { LEASES } from '../kinds/resources.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, microTime, systemClock } from '../util/clock.js';
import { sleep } from '../util/sleep.js';

/** Waits between looks at a held lease are never cut short. */
const UNINTERRUPTED = new AbortController().signal;

/** kube-scheduler's own lock object (its --leader-elect-resource-namespace and -name defaults). */
export const SCHEDULER_LEASE = { namespace: 'kube-system', name: 'kube-scheduler' } as const;

export interface LeaseLockOptions {
  /** Who holds it (holderIdentity): unique per holder. */
  identity: string;
  /** How long the lease is ours from when we take it, unless we let go before. */
  durationMs: number;
  /** How long to wait for another holder before giving up. */
  waitMs: number;
  /** How long to wait between looks at a held lease. @default 50 ms, doubling to 1 s */
  retryMs?: number;
  clock?: Clock;
}

type L = Lease & KObject;

/** Lambda's longest invocation (its timeout's upper bound): no scheduler holds the lease longer. */
const MAX_HOLD_MS = 15 * 60_000;

/** The lease's namespace does not exist: the cluster was never bootstrapped. */
const NO_CLUSTER = Symbol('no cluster');

/** Thrown when the lease stayed with another holder for all of `waitMs`. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
}

export class LeaseLock {
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaseLockOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Runs `fn` holding the lease, and lets go of it after, however `fn` ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const held = await this.acquire();
    if (!held) return fn();
    try {
      return await fn();
    } finally {
      await this.release(held);
    }
  }

  /**
   * The lease, once ours; undefined when the cluster has no kube-system yet:
   * the API server creates it before it serves anything, so no pod exists
   * either and there is nothing to schedule or to race for.
   */
  private async acquire(): Promise<L | undefined> {
    const deadline = this.clock.now() + this.opts.waitMs;
    let wait = this.opts.retryMs ?? 50;
    let holder = '';
    for (;;) {
      const taken = await this.tryAcquire();
      if (taken === NO_CLUSTER) return undefined;
      if (typeof taken !== 'string') return taken;
      holder = taken;
      if (this.clock.now() + wait > deadline) break;
      await sleep(wait, UNINTERRUPTED);
      wait = Math.min(wait * 2, 1000);
    }
    throw new LeaseHeldError(`the ${SCHEDULER_LEASE.namespace}/${SCHEDULER_LEASE.name} lease is held by ${holder}`);
  }

  /** The lease, now ours; or who holds it (or whom we lost a race to); or NO_CLUSTER. */
  private async tryAcquire(): Promise<L | string | typeof NO_CLUSTER> {
    const now = this.clock.now();
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.opts.durationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
    };
    const current = await this.client.find<L>(LEASES, SCHEDULER_LEASE.namespace, SCHEDULER_LEASE.name);
    try {
      if (!current) {
        const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...SCHEDULER_LEASE }, spec: { ...spec, leaseTransitions: 0 } };
        return await this.client.create<L>(LEASES, SCHEDULER_LEASE.namespace, lease).catch((err: unknown) => {
          if (isNotFound(err)) return NO_CLUSTER;
          throw err;
        });
      }
      const held = current.spec ?? {};
      // No holder keeps it past Lambda's longest invocation, whatever it wrote: a lease written by hand
      // (anyone allowed to write leases in kube-system) stalls scheduling for 15 minutes at the most.
      const expires = Date.parse(held.renewTime ?? '') + Math.min((held.leaseDurationSeconds ?? 0) * 1000, MAX_HOLD_MS);
      if (held.holderIdentity && held.holderIdentity !== this.opts.identity && expires > now) return held.holderIdentity;
      // Free, expired or ours: an update conditional on the version read, so of two takers one wins.
      return await this.client.update<L>(LEASES, { ...current, spec: { ...held, ...spec, leaseTransitions: (held.leaseTransitions ?? 0) + 1 } });
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return 'another taker';
      throw err;
    }
  }

  /** Lets go as kube's leader election does on release: no holder, a one-second lease. A lost race means it is no longer ours. */
  private async release(held: L): Promise<void> {
    const now = microTime(this.clock.now());
    try {
      await this.client.update<L>(LEASES, { ...held, spec: { ...held.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } });
    } catch (err) {
      if (!(isConflict(err) || isNotFound(err))) throw err;
    }
  }
}

/** The most a scheduler invocation lasts when Lambda does not say (the stack's stream consumer timeout). */
const INVOCATION_MAX_MS = 5 * 60_000;
/** What an invocation keeps for its own work after waiting for the lease. */
const INVOCATION_RESERVE_MS = 5_000;

/**
 * The lease for one scheduler invocation: held at most until the invocation
 * must end (so it passes on only once its holder cannot bind any more),
 * waited for while the invocation can still do its work after, under an
 * identity of its own (kube's `hostname_uuid`): a container's next
 * invocation is another holder.
 */
export function invocationLock(client: KubeClient, remainingMs?: () => number, clock?: Clock): LeaseLock {
  const left = remainingMs?.() ?? INVOCATION_MAX_MS;
  return new LeaseLock(client, {
    identity: `${hostname()}_${randomUUID()}`,
    durationMs: left,
    waitMs: Math.max(0, left - INVOCATION_RESERVE_MS),
    ...(clock ? { clock } : {}),
  });
}
