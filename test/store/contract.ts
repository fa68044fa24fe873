/**
 * The store contract: every backend must pass this same suite. Each test gets
 * a fresh, empty store, so revisions can be asserted exactly.
 */
import { describe, expect, it } from 'vitest';
import type { KObject, ObjectKey } from '#lib/api/object';
import { storeResource } from '#lib/api/store-key';
import { AlreadyExistsError, CompactedError, InvalidContinueError, type Store, type StoreEvent } from '#lib/store/types';
import type { ManualClock } from '#lib/util/clock';

export interface StoreFactory {
  /** A new empty store. `clock` drives log retention where the backend supports it. */
  make(opts: { clock: ManualClock; retentionMs?: number }): Promise<Store>;
  /** Opens a second handle on the same data (durability across restarts). */
  reopen?(store: Store): Promise<Store>;
  /**
   * How the backend numbers racing writes. 'serial' (the default): a
   * revision is taken only by a write that succeeds, so N racing writers
   * leave no holes and the winner's revision is known in advance.
   * 'allocated': a revision is allocated before the write is tried, so the
   * winner of a race may hold any of the racers' revisions and losers leave
   * holes (never visible: watches skip them). Every other assertion holds
   * for both.
   */
  revisions?: 'serial' | 'allocated';
}

function pod(name: string, namespace = 'default', nodeName?: string, labels: Record<string, string> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
  };
}

function key(name: string, namespace = 'default', resource = 'pods'): ObjectKey {
  return { resource, namespace, name };
}

async function collect(iter: AsyncIterable<StoreEvent>, n: number, signal: AbortController, timeoutMs = 5000): Promise<StoreEvent[]> {
  const out: StoreEvent[] = [];
  const timer = setTimeout(() => signal.abort(), timeoutMs);
  try {
    for await (const e of iter) {
      out.push(e);
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export function storeContract(name: string, factory: StoreFactory, newClock: () => ManualClock): void {
  describe(`Store contract: ${name}`, () => {
    const open = (retentionMs?: number) => {
      const clock = newClock();
      return factory.make({ clock, ...(retentionMs !== undefined ? { retentionMs } : {}) }).then((store) => ({ store, clock }));
    };

    it('stamps a new object with revision 1 and reads it back', async () => {
      const { store } = await open();
      try {
        const created = await store.create(key('a'), pod('a'));
        expect(created.metadata.resourceVersion).toBe('1');
        const got = await store.get(key('a'));
        expect(got).toEqual(created);
        expect(await store.get(key('missing'))).toBeUndefined();
      } finally {
        await store.close();
      }
    });

    it('refuses to create an existing key and changes nothing', async () => {
      const { store } = await open();
      try {
        await store.create(key('a'), pod('a'));
        await expect(store.create(key('a'), pod('a', 'default', 'other'))).rejects.toBeInstanceOf(AlreadyExistsError);
        const got = await store.get(key('a'));
        expect((got!.spec as { nodeName?: string }).nodeName).toBeUndefined();
        expect(await store.currentRevision('pods')).toBe(1);
      } finally {
        await store.close();
      }
    });

    it('updates only from the current version and returns the current object on a miss', async () => {
      const { store } = await open();
      try {
        const v1 = await store.create(key('a'), pod('a'));
        const r2 = await store.update(key('a'), { ...v1, metadata: { ...v1.metadata, labels: { x: '1' } } }, v1);
        expect(r2.ok).toBe(true);
        if (!r2.ok) return;
        expect(r2.object.metadata.resourceVersion).toBe('2');
        const stale = await store.update(key('a'), { ...v1, metadata: { ...v1.metadata, labels: { x: 'stale' } } }, v1);
        expect(stale.ok).toBe(false);
        if (stale.ok) return;
        expect(stale.current?.metadata.resourceVersion).toBe('2');
        expect(stale.current?.metadata.labels).toEqual({ x: '1' });
        const gone = await store.update(key('nope'), v1, { ...v1, metadata: { ...v1.metadata, name: 'nope' } });
        expect(gone).toEqual({ ok: false, current: undefined });
      } finally {
        await store.close();
      }
    });

    it('deletes only from the current version and stamps the deletion revision', async () => {
      const { store } = await open();
      try {
        const v1 = await store.create(key('a'), pod('a'));
        const r2 = await store.update(key('a'), v1, v1);
        expect(r2.ok).toBe(true);
        const stale = await store.delete(key('a'), v1);
        expect(stale.ok).toBe(false);
        if (!r2.ok) return;
        const del = await store.delete(key('a'), r2.object);
        expect(del.ok).toBe(true);
        if (!del.ok) return;
        expect(del.object.metadata.resourceVersion).toBe('3');
        expect(await store.get(key('a'))).toBeUndefined();
        expect(await store.delete(key('a'), r2.object)).toEqual({ ok: false, current: undefined });
      } finally {
        await store.close();
      }
    });

    it('counts revisions per resource', async () => {
      const { store } = await open();
      try {
        await store.create(key('a'), pod('a'));
        await store.create(key('b'), pod('b'));
        const lease = await store.create(key('n1', 'kube-node-lease', 'leases'), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'n1', namespace: 'kube-node-lease' },
        });
        expect(lease.metadata.resourceVersion).toBe('1');
        expect(await store.currentRevision('pods')).toBe(2);
        expect(await store.currentRevision('leases')).toBe(1);
        expect(await store.currentRevision('services')).toBe(0);
      } finally {
        await store.close();
      }
    });

    it("keeps two groups' resources of one plural apart: objects, revisions, lists, history and watches", async () => {
      const { store } = await open();
      const builtIn = storeResource({ group: 'coordination.k8s.io', resource: 'leases' });
      const custom = storeResource({ group: 'example.com', resource: 'leases' });
      const lease = (apiVersion: string, holder: string): KObject => ({
        apiVersion,
        kind: 'Lease',
        metadata: { name: 'n1', namespace: 'kube-node-lease' },
        spec: { holderIdentity: holder },
      });
      const ac = new AbortController();
      try {
        const builtInEvents = collect(store.watch(builtIn, { fromRevision: 0, signal: ac.signal }), 2, ac);
        const customEvents = collect(store.watch(custom, { fromRevision: 0, signal: ac.signal }), 2, ac);
        // The same namespace and name in each: two objects, each at its resource's first revision.
        const a = await store.create(key('n1', 'kube-node-lease', builtIn), lease('coordination.k8s.io/v1', 'node'));
        const b = await store.create(key('n1', 'kube-node-lease', custom), lease('example.com/v1', 'custom'));
        expect([a.metadata.resourceVersion, b.metadata.resourceVersion]).toEqual(['1', '1']);
        expect(await store.get(key('n1', 'kube-node-lease', builtIn))).toEqual(a);
        expect(await store.get(key('n1', 'kube-node-lease', custom))).toEqual(b);
        expect((await store.list(builtIn)).items).toEqual([a]);
        expect((await store.list(custom, { namespace: 'kube-node-lease' })).items).toEqual([b]);

        const b2 = await store.update(key('n1', 'kube-node-lease', custom), { ...b, spec: { holderIdentity: 'moved' } }, b);
        if (!b2.ok) throw new Error('update failed');
        const gone = await store.delete(key('n1', 'kube-node-lease', builtIn), a);
        expect(gone.ok).toBe(true);

        expect(await store.get(key('n1', 'kube-node-lease', builtIn))).toBeUndefined();
        expect(await store.get(key('n1', 'kube-node-lease', custom))).toEqual(b2.object);
        expect((await store.list(builtIn)).items).toEqual([]);
        expect((await store.list(custom)).items).toEqual([b2.object]);
        expect(await store.currentRevision(builtIn)).toBe(2);
        expect(await store.currentRevision(custom)).toBe(2);
        // Each one's history is its own: at revision 1 each list holds only its object.
        expect((await store.list(builtIn, { revision: 1 })).items).toEqual([a]);
        expect((await store.list(custom, { revision: 1 })).items).toEqual([b]);

        const seenBuiltIn = await builtInEvents;
        const seenCustom = await customEvents;
        expect(seenBuiltIn.map((e) => [e.type, e.object.apiVersion, e.revision])).toEqual([
          ['ADDED', 'coordination.k8s.io/v1', 1],
          ['DELETED', 'coordination.k8s.io/v1', 2],
        ]);
        expect(seenCustom.map((e) => [e.type, e.object.apiVersion, e.revision])).toEqual([
          ['ADDED', 'example.com/v1', 1],
          ['MODIFIED', 'example.com/v1', 2],
        ]);
      } finally {
        ac.abort();
        await store.close();
      }
    });

    it('lists by namespace and across namespaces in key order, with the current revision', async () => {
      const { store } = await open();
      try {
        await store.create(key('b', 'ns1'), pod('b', 'ns1'));
        await store.create(key('a', 'ns2'), pod('a', 'ns2'));
        await store.create(key('a', 'ns1'), pod('a', 'ns1'));
        const all = await store.list('pods');
        expect(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['ns1/a', 'ns1/b', 'ns2/a']);
        expect(all.resourceVersion).toBe('3');
        expect(all.continue).toBeUndefined();
        const ns1 = await store.list('pods', { namespace: 'ns1' });
        expect(ns1.items.map((o) => o.metadata.name)).toEqual(['a', 'b']);
        expect((await store.list('services')).items).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('orders namespaces before longer namespaces they prefix', async () => {
      const { store } = await open();
      try {
        await store.create(key('b', 'kube-system'), pod('b', 'kube-system'));
        await store.create(key('a', 'kube'), pod('a', 'kube'));
        await store.create(key('c', 'kube0'), pod('c', 'kube0'));
        const all = await store.list('pods');
        expect(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['kube/a', 'kube-system/b', 'kube0/c']);
        const first = await store.list('pods', { limit: 1 });
        const rest = await store.list('pods', { limit: 5, continue: first.continue! });
        expect(rest.items.map((o) => o.metadata.name)).toEqual(['b', 'c']);
        expect((await store.list('pods', { namespace: 'kube' })).items.map((o) => o.metadata.name)).toEqual(['a']);
      } finally {
        await store.close();
      }
    });

    it('pages with limit and continue, counting only objects the predicate keeps', async () => {
      const { store } = await open();
      try {
        for (let i = 0; i < 7; i++) await store.create(key(`p${i}`), pod(`p${i}`, 'default', undefined, { even: String(i % 2 === 0) }));
        const even = (o: KObject) => o.metadata.labels?.even === 'true';
        const p1 = await store.list('pods', { limit: 2, predicate: even });
        expect(p1.items.map((o) => o.metadata.name)).toEqual(['p0', 'p2']);
        expect(p1.continue).toBeTruthy();
        const p2 = await store.list('pods', { limit: 2, predicate: even, continue: p1.continue! });
        expect(p2.items.map((o) => o.metadata.name)).toEqual(['p4', 'p6']);
        const p3 = p2.continue ? await store.list('pods', { limit: 2, predicate: even, continue: p2.continue }) : { items: [] };
        expect(p3.items).toEqual([]);
        await expect(store.list('pods', { continue: 'not-a-token' })).rejects.toBeInstanceOf(InvalidContinueError);
      } finally {
        await store.close();
      }
    });

    it('lists pods by node through the index, following moves', async () => {
      const { store } = await open();
      try {
        await store.create(key('a'), pod('a', 'default', 'n1'));
        await store.create(key('b', 'other'), pod('b', 'other', 'n1'));
        const c = await store.create(key('c'), pod('c'));
        await store.create(key('d'), pod('d', 'default', 'n2'));
        expect((await store.list('pods', { index: { nodeName: 'n1' } })).items.map((o) => o.metadata.name)).toEqual(['a', 'b']);
        const bound = await store.update(key('c'), { ...c, spec: { ...(c.spec as object), nodeName: 'n1' } }, c);
        expect(bound.ok).toBe(true);
        expect((await store.list('pods', { index: { nodeName: 'n1' } })).items.map((o) => o.metadata.name)).toEqual(['a', 'c', 'b']);
        expect((await store.list('pods', { index: { nodeName: 'n1' }, namespace: 'other' })).items.map((o) => o.metadata.name)).toEqual(['b']);
      } finally {
        await store.close();
      }
    });

    it('watches every change after a revision, in order, with the previous object', async () => {
      const { store } = await open();
      try {
        const a = await store.create(key('a'), pod('a'));
        const list = await store.list('pods');
        const ac = new AbortController();
        const events = collect(store.watch('pods', { fromRevision: Number(list.resourceVersion), signal: ac.signal }), 3, ac);
        const a2 = await store.update(key('a'), { ...a, metadata: { ...a.metadata, labels: { v: '2' } } }, a);
        await store.create(key('b'), pod('b'));
        if (!a2.ok) throw new Error('update failed');
        await store.delete(key('a'), a2.object);
        const got = await events;
        ac.abort();
        expect(got.map((e) => [e.type, e.object.metadata.name, e.revision])).toEqual([
          ['MODIFIED', 'a', 2],
          ['ADDED', 'b', 3],
          ['DELETED', 'a', 4],
        ]);
        expect(got[0]!.prev?.metadata.resourceVersion).toBe('1');
        expect(got[2]!.object.metadata.resourceVersion).toBe('4');
        expect(got[2]!.object.metadata.labels).toEqual({ v: '2' });
        expect(got[2]!.prev).toEqual(a2.object);
        expect(got[1]!.prev).toBeUndefined();
      } finally {
        await store.close();
      }
    });

    it('lists the objects as they were at a revision, paging at that revision', async () => {
      const { store } = await open();
      try {
        const a = await store.create(key('a'), pod('a', 'default', undefined, { app: 'x' }));
        const b = await store.create(key('b'), pod('b', 'default', undefined, { app: 'x' }));
        const c = await store.create(key('c', 'other'), pod('c', 'other', undefined, { app: 'x' }));
        const at = 3;
        const a2 = await store.update(key('a'), { ...a, metadata: { ...a.metadata, labels: { app: 'y' } } }, a);
        await store.delete(key('b'), b);
        await store.create(key('d'), pod('d', 'default', undefined, { app: 'x' }));
        if (!a2.ok) throw new Error('update failed');
        await store.update(key('a'), { ...a2.object, spec: { ...(a2.object.spec as object), nodeName: 'n1' } }, a2.object);

        const then = await store.list('pods', { revision: at });
        expect(then.resourceVersion).toBe('3');
        expect(then.items).toEqual([a, b, c]);
        expect((await store.list('pods', { revision: at, namespace: 'default' })).items).toEqual([a, b]);
        // The predicate sees the objects as they were.
        expect((await store.list('pods', { revision: at, predicate: (o) => o.metadata.labels?.app === 'x' })).items.map((o) => o.metadata.name)).toEqual([
          'a',
          'b',
          'c',
        ]);
        expect((await store.list('pods', { revision: 0 })).items).toEqual([]);
        expect((await store.list('pods', { revision: await store.currentRevision('pods') })).items).toEqual((await store.list('pods')).items);

        const p1 = await store.list('pods', { revision: at, limit: 2 });
        expect(p1.items.map((o) => o.metadata.name)).toEqual(['a', 'b']);
        await store.delete(key('c', 'other'), c);
        // Later pages are read at the first page's revision, whatever changed since.
        const p2 = await store.list('pods', { limit: 2, continue: p1.continue! });
        expect(p2.resourceVersion).toBe('3');
        expect(p2.items).toEqual([c]);
        expect(p2.continue).toBeUndefined();
      } finally {
        await store.close();
      }
    });

    it('refuses a list at a revision above the current one or compacted away', async () => {
      const { store, clock } = await open(1000);
      try {
        for (let i = 0; i < 3; i++) await store.create(key(`p${i}`), pod(`p${i}`));
        await expect(store.list('pods', { revision: 4 })).rejects.toMatchObject({ name: 'FutureRevisionError', requested: 4, current: 3 });
        const page = await store.list('pods', { revision: 2, limit: 1 });
        expect(page.continue).toBeTruthy();
        clock.advance(5000);
        await store.create(key('late'), pod('late'));
        await store.compact();
        await expect(store.list('pods', { revision: 1 })).rejects.toBeInstanceOf(CompactedError);
        await expect(store.list('pods', { continue: page.continue! })).rejects.toBeInstanceOf(CompactedError);
        expect((await store.list('pods', { revision: 3 })).items.map((o) => o.metadata.name)).toEqual(['p0', 'p1', 'p2']);
      } finally {
        await store.close();
      }
    });

    it('replays the log from revision 0', async () => {
      const { store } = await open();
      try {
        await store.create(key('a'), pod('a'));
        await store.create(key('b'), pod('b'));
        const ac = new AbortController();
        const got = await collect(store.watch('pods', { fromRevision: 0, signal: ac.signal }), 2, ac);
        ac.abort();
        expect(got.map((e) => e.object.metadata.name)).toEqual(['a', 'b']);
      } finally {
        await store.close();
      }
    });

    it('lets exactly one of N racing writers win each version', async () => {
      const { store } = await open();
      try {
        const base = await store.create(key('a'), pod('a'));
        const writers = 8;
        const results = await Promise.all(
          Array.from({ length: writers }, (_, i) => store.update(key('a'), { ...base, metadata: { ...base.metadata, labels: { w: String(i) } } }, base)),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        const final = await store.get(key('a'));
        const winner = winners[0]!;
        if (factory.revisions === 'allocated') {
          expect(Number(final!.metadata.resourceVersion)).toBeGreaterThan(1);
          if (winner.ok) expect(final!.metadata.resourceVersion).toBe(winner.object.metadata.resourceVersion);
        } else {
          expect(final!.metadata.resourceVersion).toBe('2');
        }
        if (winner.ok) expect(final!.metadata.labels).toEqual(winner.object.metadata.labels);
        for (const r of results.filter((x) => !x.ok)) if (!r.ok) expect(r.current?.metadata.resourceVersion).toBe(final!.metadata.resourceVersion);
      } finally {
        await store.close();
      }
    });

    it('loses no increment when N writers retry from fresh state', async () => {
      const { store } = await open();
      try {
        await store.create(key('counter'), { ...pod('counter'), metadata: { name: 'counter', namespace: 'default', annotations: { n: '0' } } });
        const writers = 6;
        const perWriter = 3;
        await Promise.all(
          Array.from({ length: writers }, async () => {
            for (let done = 0; done < perWriter;) {
              const cur = (await store.get(key('counter')))!;
              const n = Number(cur.metadata.annotations!.n) + 1;
              const r = await store.update(key('counter'), { ...cur, metadata: { ...cur.metadata, annotations: { n: String(n) } } }, cur);
              if (r.ok) done++;
            }
          }),
        );
        const final = await store.get(key('counter'));
        expect(final!.metadata.annotations!.n).toBe(String(writers * perWriter));
        if (factory.revisions !== 'allocated') expect(final!.metadata.resourceVersion).toBe(String(1 + writers * perWriter));
        // A watch from the creation sees every increment once, in order, ending at the final version.
        const ac = new AbortController();
        const events = await collect(store.watch('pods', { fromRevision: 1, signal: ac.signal }), writers * perWriter, ac);
        ac.abort();
        expect(events.map((e) => e.object.metadata.annotations!.n)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => String(i + 1)));
        expect(events.at(-1)!.object.metadata.resourceVersion).toBe(final!.metadata.resourceVersion);
      } finally {
        await store.close();
      }
    });

    it('refuses to watch from a compacted revision', async () => {
      const { store, clock } = await open(1000);
      try {
        for (let i = 0; i < 3; i++) await store.create(key(`p${i}`), pod(`p${i}`));
        clock.advance(5000);
        await store.create(key('late'), pod('late'));
        await store.compact();
        const ac = new AbortController();
        let error: unknown;
        try {
          for await (const _ of store.watch('pods', { fromRevision: 1, signal: ac.signal })) break;
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(CompactedError);
        // The newest change is still served.
        const got = await collect(store.watch('pods', { fromRevision: 3, signal: ac.signal }), 1, ac);
        ac.abort();
        expect(got.map((e) => e.object.metadata.name)).toEqual(['late']);
      } finally {
        await store.close();
      }
    });

    if (factory.reopen) {
      it('keeps everything written across a restart', async () => {
        const { store } = await open();
        const created = await store.create(key('a'), pod('a'));
        const r = await store.update(key('a'), { ...created, metadata: { ...created.metadata, labels: { kept: 'yes' } } }, created);
        expect(r.ok).toBe(true);
        const again = await factory.reopen!(store);
        try {
          const got = await again.get(key('a'));
          expect(got?.metadata.labels).toEqual({ kept: 'yes' });
          expect(await again.currentRevision('pods')).toBe(2);
          const next = await again.create(key('b'), pod('b'));
          expect(next.metadata.resourceVersion).toBe('3');
        } finally {
          await again.close();
        }
      });
    }
  });
}
