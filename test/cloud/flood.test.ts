/**
 * Ten times the usual request rate at the deployed API bundle, while
 * DynamoDB throttles and loses responses (injected at the emulator boundary,
 * test/cloud/chaos-proxy.ts). The API may refuse work, but only with a
 * Status (429 when the store refused for load, 5xx when the outcome is
 * unknown): every write it acknowledged is in the store exactly as
 * acknowledged, every write it refused with 429 is absent, no object is ever
 * half-written, and the change log (what watches replay) holds exactly the
 * writes that happened.
 */
import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbStore } from '#lib/store/dynamodb';
import type { StoreEvent } from '#lib/store/types';
import { ChaosProxy } from './chaos-proxy.js';
import { type ApiModule, type CloudAccount, deployToEmulator, invoke, loadBundle, type Wire } from './harness.js';
import { sleep } from '#lib/util/sleep';

const bundles = inject('cloudBundles');

/**
 * The usual rate for a small cluster: three agents renewing leases and
 * posting status, the control loops' writes, and a user's kubectl, about five
 * requests a second. The flood is ten times that, for five seconds, served
 * by eight execution environments (as Lambda would scale out to).
 */
const USUAL_RATE = 5;
const FLOOD_RATE = USUAL_RATE * 10;
const FLOOD_SECONDS = 5;
const CONTAINERS = 8;
const COUNTERS = 4;
const NS = 'flood';
const CM = `/api/v1/namespaces/${NS}/configmaps`;

const account: CloudAccount | undefined = await deployToEmulator();

interface Outcome {
  kind: 'create' | 'increment' | 'list';
  name: string;
  status: number;
  body: Wire;
}

function checksum(i: number): string {
  return createHash('sha256').update(`flood-${i}`).digest('hex');
}

function configMap(i: number): Wire {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `flood-${i}`, labels: { flood: 'yes' } },
    data: { n: String(i), sum: checksum(i), pad: 'x'.repeat(512) },
  };
}

function retryMap(name: string): Wire {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } };
}

describe.runIf(account)('a flood at the deployed API while DynamoDB throttles', () => {
  const a = account!;
  const proxy = new ChaosProxy(a.emulator.endpoint);
  const containers: ApiModule[] = [];
  const outcomes: Outcome[] = [];
  let startRevision = 0;

  async function call(api: ApiModule, method: string, path: string, body?: unknown) {
    return invoke(api, method, path, { token: a.adminToken, ...(body !== undefined ? { body } : {}) });
  }

  /** One request of the mix: mostly creates, some read-modify-write increments of shared counters, some lists. */
  async function request(api: ApiModule, i: number): Promise<void> {
    const slot = i % 10;
    if (slot < 6) {
      const r = await call(api, 'POST', CM, configMap(i));
      outcomes.push({ kind: 'create', name: `flood-${i}`, ...r });
    } else if (slot < 8) {
      const name = `counter-${i % COUNTERS}`;
      const cur = await call(api, 'GET', `${CM}/${name}`);
      if (cur.status !== 200) {
        outcomes.push({ kind: 'increment', name, ...cur });
        return;
      }
      const next = { ...cur.body, data: { n: String(Number(cur.body.data.n) + 1) } };
      const r = await call(api, 'PUT', `${CM}/${name}`, next);
      outcomes.push({ kind: 'increment', name, ...r });
    } else {
      const r = await call(api, 'GET', `${CM}?labelSelector=flood%3Dyes&limit=20`);
      outcomes.push({ kind: 'list', name: '', ...r });
    }
  }

  /** Requests i0..i1-1, each released at its time in an open loop, served by whichever container is free. */
  async function flood(i0: number, count: number, rate: number): Promise<void> {
    const t0 = Date.now();
    let next = i0;
    await Promise.all(
      containers.map(async (api) => {
        while (next < i0 + count) {
          const i = next++;
          const at = t0 + ((i - i0) * 1000) / rate;
          if (at > Date.now()) await sleep(at - Date.now());
          await request(api, i);
        }
      }),
    );
  }

  beforeAll(async () => {
    const url = await proxy.start();
    // The functions' SDK clients are built on their cold start: from now on they talk through the proxy.
    process.env.AWS_ENDPOINT_URL = url;
    for (let c = 0; c < CONTAINERS; c++) containers.push(await loadBundle<ApiModule>(bundles.api));
    const first = containers[0]!;
    expect((await call(first, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status).toBe(201);
    for (let k = 0; k < COUNTERS; k++) {
      expect((await call(first, 'POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `counter-${k}` }, data: { n: '0' } })).status).toBe(201);
    }
    for (const api of containers) expect((await call(api, 'GET', `${CM}/counter-0`)).status).toBe(200);
    startRevision = Number((await call(first, 'GET', CM)).body.metadata.resourceVersion);
  });

  afterAll(async () => {
    await proxy.stop();
    await a.dispose();
  });

  it('acknowledges a write whose response was lost even when every retry is then throttled', async () => {
    const api = containers[0]!;
    const tx = (fault: 'throttle' | 'lose') => ({ op: 'TransactWriteItems', fault });
    // Applied, answered 500; the SDK's retries of the same transaction are all refused for load.
    proxy.script = [tx('lose'), ...Array.from({ length: 20 }, () => tx('throttle'))];
    const lost = await call(api, 'POST', CM, retryMap('retry-1'));
    const scriptLeft = proxy.script.length;
    proxy.script = [];
    expect(scriptLeft, 'the SDK gave up before the script ran out').toBeGreaterThan(0);
    expect(lost.status, JSON.stringify(lost.body)).toBe(201);
    const stored = await call(api, 'GET', `${CM}/retry-1`);
    expect(stored.body.metadata.uid).toBe(lost.body.metadata.uid);
    // Its revision was not given back: the next write gets a newer one, and both stay.
    const next = await call(api, 'POST', CM, retryMap('retry-2'));
    expect(Number(next.body.metadata.resourceVersion)).toBeGreaterThan(Number(lost.body.metadata.resourceVersion));
    expect((await call(api, 'GET', `${CM}/retry-1`)).status).toBe(200);
  });

  it('refuses with 429, and stores nothing, a write DynamoDB throttles on every try', async () => {
    const api = containers[1]!;
    proxy.script = Array.from({ length: 20 }, () => ({ op: 'TransactWriteItems', fault: 'throttle' as const }));
    const refused = await call(api, 'POST', CM, retryMap('retry-3'));
    proxy.script = [];
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    expect((await call(api, 'GET', `${CM}/retry-3`)).status).toBe(404);
  });

  it('refuses only with 429 or 5xx Status errors, and loses, duplicates or corrupts no write', async () => {
    const floodCount = FLOOD_RATE * FLOOD_SECONDS;
    proxy.faults = { throttle: 0.2, lostResponse: 0.05 };
    await flood(0, floodCount, FLOOD_RATE);
    // A burst of creates while DynamoDB refuses nearly everything: the store gives up and says so.
    proxy.faults = { throttle: 0.9, lostResponse: 0 };
    await flood(10_000, 30, FLOOD_RATE);
    proxy.faults = { throttle: 0, lostResponse: 0 };

    // Every answer is a success, a conflict of the read-modify-write, or a Status refusal for load or an unknown outcome.
    for (const o of outcomes) {
      if (o.status < 300) continue;
      expect([409, 429, 500, 503, 504], JSON.stringify(o)).toContain(o.status);
      expect(o.body, JSON.stringify(o)).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: o.status });
      if (o.status === 409) expect(o.kind).toBe('increment');
    }
    const byStatus = (kind: Outcome['kind'], ok: (s: number) => boolean) => outcomes.filter((o) => o.kind === kind && ok(o.status));
    expect(byStatus('create', (s) => s === 429).length, 'the throttling burst ends in 429s').toBeGreaterThan(0);
    expect(proxy.counts.throttled).toBeGreaterThan(0);
    expect(proxy.counts.lost).toBeGreaterThan(0);

    // What is stored now, read without faults.
    const api = containers[0]!;
    const stored = new Map<string, Wire>();
    for (let cont: string | undefined = ''; cont !== undefined;) {
      const page = await call(api, 'GET', `${CM}?limit=200${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      expect(page.status).toBe(200);
      for (const item of page.body.items) stored.set(item.metadata.name, item);
      cont = page.body.metadata.continue || undefined;
    }

    for (const o of outcomes.filter((x) => x.kind === 'create')) {
      const i = Number(o.name.slice('flood-'.length));
      const obj = stored.get(o.name);
      if (o.status === 201) {
        // Acknowledged: there, exactly as acknowledged.
        expect(obj, o.name).toBeDefined();
        expect(obj.data).toEqual(configMap(i).data);
        expect(o.body.metadata.uid).toBe(obj.metadata.uid);
      } else if (o.status === 429) {
        expect(obj, `${o.name} was refused with 429 but stored`).toBeUndefined();
      } else if (obj) {
        // Unknown outcome: either absent or whole.
        expect(obj.data).toEqual(configMap(i).data);
      }
    }
    for (const name of stored.keys())
      if (name.startsWith('flood-'))
        expect(
          outcomes.some((o) => o.name === name && o.status !== 429),
          name,
        ).toBe(true);

    // Counters: every acknowledged increment applied once; unknown outcomes may or may not have applied.
    for (let k = 0; k < COUNTERS; k++) {
      const name = `counter-${k}`;
      const acked = outcomes.filter((o) => o.kind === 'increment' && o.name === name && o.status === 200).length;
      const unknown = outcomes.filter((o) => o.kind === 'increment' && o.name === name && o.status >= 500).length;
      const n = Number(stored.get(name).data.n);
      expect(n, name).toBeGreaterThanOrEqual(acked);
      expect(n, name).toBeLessThanOrEqual(acked + unknown);
    }

    // The change log, as a watch from before the flood replays it: each stored object's history, nothing else.
    const store = new DynamoDbStore({
      tableName: a.tableName,
      client: new DynamoDBClient({ endpoint: a.emulator.endpoint }),
      pollIntervalMs: 20,
      maxPollIntervalMs: 50,
    });
    const head = await store.currentRevision('configmaps');
    const abort = new AbortController();
    const events: StoreEvent[] = [];
    // The newest revision may be a GAP (an abandoned write), which a watch skips: stop at it, or after a bound.
    const bound = setTimeout(() => abort.abort(), 20_000);
    try {
      for await (const ev of store.watch('configmaps', { fromRevision: startRevision, signal: abort.signal })) {
        events.push(ev);
        if (ev.revision >= head) break;
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      clearTimeout(bound);
      abort.abort();
    }
    await store.close();
    const added = events.filter((e) => e.type === 'ADDED' && e.object.metadata.name?.startsWith('flood-')).map((e) => e.object.metadata.name);
    expect(new Set(added).size).toBe(added.length);
    expect(new Set(added)).toEqual(new Set([...stored.keys()].filter((n) => n.startsWith('flood-'))));
    for (let k = 0; k < COUNTERS; k++) {
      const name = `counter-${k}`;
      const changes = events.filter((e) => e.type === 'MODIFIED' && e.object.metadata.name === name);
      expect(changes.length, name).toBe(Number(stored.get(name).data.n));
      expect(changes.at(-1)?.object.data).toEqual(stored.get(name).data);
    }
    console.log(
      `flood: ${outcomes.length} requests, ${JSON.stringify(Object.fromEntries([...new Set(outcomes.map((o) => o.status))].map((s) => [s, outcomes.filter((o) => o.status === s).length])))}; proxy ${JSON.stringify(proxy.counts)}`,
    );
  }, 300_000);
});
