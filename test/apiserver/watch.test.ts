/**
 * Watches over HTTP, as kubectl and client-go use them: changes in order
 * from a list's resourceVersion, the initial state (plain and watch-list with
 * its bookmark), bookmarks, timeouts, selector transitions, expired
 * resourceVersions and Table events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#lib/util/clock';
import { configMap, CONFIGMAPS, pod, PODS, startApi, type TestApi, type Wire } from './harness.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

let t: TestApi;

beforeAll(async () => {
  t = await startApi({ bookmarkIntervalMs: 100 });
});

afterAll(async () => {
  await t?.close();
});

function summary(ev: Wire): string {
  return `${ev.type} ${ev.object.metadata.name ?? ''}`.trim();
}

async function listRv(path: string): Promise<string> {
  const r = await t.get(path);
  expect(r.status).toBe(200);
  return r.body.metadata.resourceVersion;
}

describe('watch from a resourceVersion', () => {
  it('streams ADDED, MODIFIED and DELETED in order, each at its own resourceVersion', async () => {
    const ns = '/api/v1/namespaces/default/configmaps';
    const rv = await listRv(ns);
    const w = await t.watch(`${ns}?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    expect(w.headers.get('content-type')).toContain('application/json');

    const created = (await t.post(ns, configMap('w1', { a: '1' }))).body;
    const modified = (await t.patch(`${ns}/w1`, { data: { a: '2' } }, 'application/merge-patch+json')).body;
    expect((await t.del(`${ns}/w1`)).status).toBe(200);

    const added = await w.next();
    expect(added.type).toBe('ADDED');
    expect(added.object).toEqual(created);
    const changed = await w.next();
    expect(changed.type).toBe('MODIFIED');
    expect(changed.object).toEqual(modified);
    const deleted = await w.next();
    expect(deleted.type).toBe('DELETED');
    expect(deleted.object.metadata.name).toBe('w1');
    expect(Number(deleted.object.metadata.resourceVersion)).toBeGreaterThan(Number(modified.metadata.resourceVersion));
    expect(deleted.object.data).toEqual({ a: '2' });
    w.close();
  });

  it('replays what happened after the resourceVersion even if the watch starts later', async () => {
    const rv = await listRv(CONFIGMAPS);
    await t.post(CONFIGMAPS, configMap('before-watch-1'));
    await t.post(CONFIGMAPS, configMap('before-watch-2'));
    const w = await t.watch(`${CONFIGMAPS}?watch=true&resourceVersion=${rv}`);
    expect(summary(await w.next())).toBe('ADDED before-watch-1');
    expect(summary(await w.next())).toBe('ADDED before-watch-2');
    w.close();
  });

  it('sees only its namespace', async () => {
    await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    const rv = await listRv('/api/v1/configmaps');
    const w = await t.watch(`${CONFIGMAPS}?watch=true&resourceVersion=${rv}`);
    await t.post('/api/v1/namespaces/other/configmaps', configMap('elsewhere'));
    await t.post(CONFIGMAPS, configMap('here'));
    expect(summary(await w.next())).toBe('ADDED here');
    w.close();
  });

  it('starts with the current objects as ADDED when no resourceVersion is given', async () => {
    await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'initial' } });
    const path = '/api/v1/namespaces/initial/configmaps';
    await t.post(path, configMap('one'));
    await t.post(path, configMap('two'));
    const w = await t.watch(`${path}?watch=true`);
    expect(summary(await w.next())).toBe('ADDED one');
    expect(summary(await w.next())).toBe('ADDED two');
    await t.post(path, configMap('three'));
    expect(summary(await w.next())).toBe('ADDED three');
    w.close();
  });

  it('watches one object by name with resourceVersion=0, as kubectl get -w NAME does', async () => {
    await t.post(PODS, pod('watched-one'));
    await t.post(PODS, pod('not-watched'));
    const w = await t.watch(`${PODS}?fieldSelector=${encodeURIComponent('metadata.name=watched-one')}&resourceVersion=0&watch=true`);
    expect(summary(await w.next())).toBe('ADDED watched-one');
    await t.patch(`${PODS}/not-watched`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    await t.patch(`${PODS}/watched-one`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    const ev = await w.next();
    expect(summary(ev)).toBe('MODIFIED watched-one');
    expect(ev.object.metadata.labels).toEqual({ x: 'y' });
    w.close();
  });
});

describe('watch-list (sendInitialEvents)', () => {
  it('sends the current objects, then a bookmark with k8s.io/initial-events-end, then changes', async () => {
    await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watchlist' } });
    const path = '/api/v1/namespaces/watchlist/pods';
    await t.post(path, pod('a'));
    await t.post(path, pod('b'));
    const w = await t.watch(`${path}?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=30&watch=true`);
    expect(summary(await w.next())).toBe('ADDED a');
    expect(summary(await w.next())).toBe('ADDED b');
    const end = await w.next();
    expect(end).toEqual({
      type: 'BOOKMARK',
      object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: await listRv(path), annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
    await t.del(`${path}/a`);
    let ev = await w.next();
    while (ev.type === 'BOOKMARK') ev = await w.next();
    expect(summary(ev)).toBe('DELETED a');
    w.close();
  });

  it('sends the bookmark right away for an empty collection (kubectl delete --wait of a gone object)', async () => {
    const w = await t.watch(
      `${PODS}?allowWatchBookmarks=true&fieldSelector=${encodeURIComponent('metadata.name=gone')}&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=true`,
    );
    const ev = await w.next();
    expect(ev.type).toBe('BOOKMARK');
    expect(ev.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    w.close();
  });

  it('refuses sendInitialEvents without resourceVersionMatch=NotOlderThan with a 4xx Status, so kubectl falls back to list+watch', async () => {
    const r = await t.get(`${PODS}?sendInitialEvents=true&watch=true`);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid' });
  });
});

describe('bookmarks and timeouts', () => {
  it('sends progress bookmarks only when allowWatchBookmarks=true', async () => {
    const rv = await listRv(CONFIGMAPS);
    const plain = await t.watch(`${CONFIGMAPS}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    const withBookmarks = await t.watch(`${CONFIGMAPS}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
    const bm = await withBookmarks.next();
    expect(bm).toEqual({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: rv } } });
    withBookmarks.close();
    expect(await plain.rest()).toEqual([]);
  });

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const w = await t.watch(`${CONFIGMAPS}?watch=true&resourceVersion=${await listRv(CONFIGMAPS)}&timeoutSeconds=1`);
    expect(await w.ended(5000)).toBe(true);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(4000);
  });
});

describe('clients that leave', () => {
  it('ends a watch whose client left before the first read, rather than at its timeout', async () => {
    const gone = new AbortController();
    gone.abort();
    const rv = await listRv(CONFIGMAPS);
    const out = await t.api.handle({
      method: 'GET',
      path: CONFIGMAPS,
      query: new URLSearchParams(`watch=true&resourceVersion=${rv}`),
      headers: {},
      signal: gone.signal,
    });
    expect('events' in out).toBe(true);
    const events: unknown[] = [];
    const read = (async () => {
      for await (const ev of (out as { events: AsyncIterable<unknown> }).events) events.push(ev);
      return 'ended';
    })();
    const outcome = await Promise.race([read, new Promise((resolve) => setTimeout(() => resolve('still open'), 2000))]);
    expect(outcome).toBe('ended');
    expect(events).toEqual([]);
  });
});

describe('label selector transitions', () => {
  it('reports an object entering the selection as ADDED and leaving it as DELETED', async () => {
    const rv = await listRv(CONFIGMAPS);
    const w = await t.watch(`${CONFIGMAPS}?watch=true&resourceVersion=${rv}&labelSelector=${encodeURIComponent('app=web')}`);
    await t.post(CONFIGMAPS, configMap('moving', {}, { app: 'db' }));
    await t.patch(`${CONFIGMAPS}/moving`, { metadata: { labels: { app: 'web' } } }, 'application/merge-patch+json');
    await t.patch(`${CONFIGMAPS}/moving`, { data: { k: 'v' } }, 'application/merge-patch+json');
    await t.patch(`${CONFIGMAPS}/moving`, { metadata: { labels: { app: 'db' } } }, 'application/merge-patch+json');
    await t.del(`${CONFIGMAPS}/moving`);
    await t.post(CONFIGMAPS, configMap('marker', {}, { app: 'web' }));

    const entered = await w.next();
    expect(summary(entered)).toBe('ADDED moving');
    expect(entered.object.metadata.labels).toEqual({ app: 'web' });
    const changed = await w.next();
    expect(summary(changed)).toBe('MODIFIED moving');
    expect(changed.object.data).toEqual({ k: 'v' });
    const left = await w.next();
    expect(summary(left)).toBe('DELETED moving');
    expect(left.object.metadata.labels).toEqual({ app: 'db' });
    // The real delete of an object outside the selection is not reported; the next event is the marker.
    expect(summary(await w.next())).toBe('ADDED marker');
    w.close();
  });
});

describe('expired resourceVersions', () => {
  it('answers a watch from a compacted resourceVersion with an ERROR event: 410 Expired', async () => {
    const clock = new ManualClock();
    const api = await startApi({}, { clock, retentionMs: 1000 });
    try {
      const ns = CONFIGMAPS;
      const first = (await api.post(ns, configMap('old'))).body.metadata.resourceVersion;
      await api.post(ns, configMap('newer'));
      clock.advance(5000);
      await api.post(ns, configMap('newest'));
      await api.store.compact();
      const w = await api.watch(`${ns}?watch=true&resourceVersion=${first}`);
      expect(w.status).toBe(200);
      const ev = await w.next();
      expect(ev.type).toBe('ERROR');
      expect(ev.object).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 });
      expect(ev.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
      expect(await w.ended()).toBe(true);
      // A list still works, and watching from its resourceVersion works again.
      const rv = (await api.get(ns)).body.metadata.resourceVersion;
      const again = await api.watch(`${ns}?watch=true&resourceVersion=${rv}`);
      await api.post(ns, configMap('after'));
      expect(summary(await again.next())).toBe('ADDED after');
      again.close();
    } finally {
      await api.close();
    }
  });
});

describe('Table watches', () => {
  it('sends each change as a one-row Table, with column definitions only on the first', async () => {
    const rv = await listRv(PODS);
    const w = await t.watch(`${PODS}?watch=true&resourceVersion=${rv}`, { accept: TABLE });
    await t.post(PODS, pod('table-1'));
    await t.post(PODS, pod('table-2'));
    const first = await w.next();
    expect(first.type).toBe('ADDED');
    expect(first.object.kind).toBe('Table');
    expect(first.object.apiVersion).toBe('meta.k8s.io/v1');
    expect(first.object.columnDefinitions.map((c: Wire) => c.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
    expect(first.object.rows).toHaveLength(1);
    expect(first.object.rows[0].cells.slice(0, 4)).toEqual(['table-1', '0/1', 'Pending', '0']);
    const second = await w.next();
    expect(second.object.columnDefinitions).toBeNull();
    expect(second.object.rows[0].cells[0]).toBe('table-2');
    w.close();
  });
});
