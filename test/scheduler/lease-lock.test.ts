/**
 * The scheduler lease (kube-system/kube-scheduler): one holder at a time, the
 * others wait; a dead holder's lease passes on once it expires; a holder lets
 * go however its work ends. In-process API on an in-memory store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Lease } from '#lib/api/coordination/v1/lease';
import type { KObject } from '#lib/api/object';
import { LEASES } from '#lib/kinds/resources';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { LeaseHeldError, LeaseLock, SCHEDULER_LEASE } from '#lib/scheduler/lease-lock';
import { SqliteStore } from '#lib/store/sqlite';
import { ManualClock, microTime } from '#lib/util/clock';

type L = Lease & KObject;

let client: KubeClient;
beforeEach(async () => {
  const api = new ApiServer({ store: new SqliteStore({ path: ':memory:' }) });
  await bootstrap(api.rest);
  client = new KubeClient(new InProcessTransport(api, ADMIN));
});

const lease = () => client.get<L>(LEASES, SCHEDULER_LEASE.namespace, SCHEDULER_LEASE.name);

/** The scheduler lease as `holder` wrote it at 10:00, and a clock standing there. */
async function heldBy(holder: string, leaseDurationSeconds: number, leaseTransitions = 0): Promise<ManualClock> {
  const clock = new ManualClock(Date.parse('2026-12-07T10:00:00Z'));
  await client.create(LEASES, SCHEDULER_LEASE.namespace, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...SCHEDULER_LEASE },
    spec: { holderIdentity: holder, leaseDurationSeconds, renewTime: microTime(clock.now()), leaseTransitions },
  });
  return clock;
}

describe('LeaseLock', () => {
  it('holds the lease while its work runs, one holder at a time, and lets go after', async () => {
    const order: string[] = [];
    let holders = 0;
    const work = (name: string) => async () => {
      holders++;
      order.push(`${name} starts holding ${(await lease()).spec?.holderIdentity}`);
      expect(holders).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 30));
      holders--;
    };
    await Promise.all(['a', 'b', 'c'].map((name) => new LeaseLock(client, { identity: name, durationMs: 60_000, waitMs: 10_000, retryMs: 5 }).run(work(name))));
    expect(order.sort()).toEqual(['a starts holding a', 'b starts holding b', 'c starts holding c']);
    expect((await lease()).spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 });
  });

  it('takes over the lease of a holder that died once it has expired, and not before', async () => {
    const clock = await heldBy('dead', 300, 4);
    const lock = new LeaseLock(client, { identity: 'next', durationMs: 60_000, waitMs: 0, clock });
    clock.advance(299_000);
    await expect(lock.run(async () => 'ran')).rejects.toThrow(new LeaseHeldError('the kube-system/kube-scheduler lease is held by dead'));
    expect((await lease()).spec?.holderIdentity).toBe('dead');

    clock.advance(2_000);
    const seen = await lock.run(async () => (await lease()).spec);
    expect(seen).toMatchObject({ holderIdentity: 'next', leaseDurationSeconds: 60, leaseTransitions: 5, acquireTime: '2026-12-07T10:05:01.000000Z' });
  });

  it("holds no lease past 15 minutes (Lambda's longest invocation), whatever duration its holder wrote", async () => {
    const clock = await heldBy('squatter', 1_000_000);
    const lock = new LeaseLock(client, { identity: 'scheduler', durationMs: 60_000, waitMs: 0, clock });
    clock.advance(14 * 60_000);
    await expect(lock.run(async () => 'ran')).rejects.toThrow(LeaseHeldError);
    clock.advance(60_001);
    await expect(lock.run(async () => 'ran')).resolves.toBe('ran');
  });

  it('lets go when its work fails', async () => {
    const lock = new LeaseLock(client, { identity: 'a', durationMs: 60_000, waitMs: 0 });
    await expect(
      lock.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await lease()).spec?.holderIdentity).toBe('');
    await expect(new LeaseLock(client, { identity: 'b', durationMs: 60_000, waitMs: 0 }).run(async () => 'ran')).resolves.toBe('ran');
  });

  it('runs without a lease in a cluster that has no kube-system yet (nothing was ever created through the API)', async () => {
    const bare = new KubeClient(new InProcessTransport(new ApiServer({ store: new SqliteStore({ path: ':memory:' }) }), ADMIN));
    await expect(new LeaseLock(bare, { identity: 'a', durationMs: 60_000, waitMs: 0 }).run(async () => 'ran')).resolves.toBe('ran');
    expect(await bare.find(LEASES, SCHEDULER_LEASE.namespace, SCHEDULER_LEASE.name)).toBeUndefined();
  });
});
