/**
 * API latency for create / get / list / update / patch / delete under 1, 10
 * and 50 concurrent clients, each verb beside the raw store call it wraps,
 * measured in the same run at the same concurrency:
 * - local: `kumo up` in its own process, reached over HTTP like kubectl,
 *   beside the SQLite statement on a database of the same schema (and, as a
 *   second peer, an HTTP round trip to /version on the same server);
 * - cloud: the API function (functions/api.ts, called with Function URL
 *   events) on DynamoDB on the emulator, beside the SDK call on the same
 *   endpoint and table shape (PutItem, GetItem, Query, DeleteItem).
 * Objects are ConfigMaps of about 1 KB, which no controller acts on, so the
 * figures are the request path alone.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { CONFIGMAPS, NAMESPACES } from '#lib/kinds/resources';
import type { KObject } from '#lib/api/object';
import type { KubeClient } from '#lib/client/client';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { SqliteStore } from '#lib/store/sqlite';
import { CloudPlane } from '../lib/cloud-plane.js';
import { ClusterProcess } from '../lib/cluster-process.js';
import { summarize, type Summary } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import { type Ctx, type Figure, figure, type Scenario, type Table } from '../lib/types.js';
import { parallel } from './scheduler.js';

const VERBS = ['create', 'get', 'list', 'update', 'patch', 'delete'] as const;
type Verb = (typeof VERBS)[number];
const PAYLOAD = 'x'.repeat(1000);
const LIST_SIZE = 100;
/** ConfigMaps in the listed namespace: locally always LIST_SIZE; on the emulator fewer with --quick (moto copies its whole state on every transaction). */
const listSize = { local: LIST_SIZE, cloud: LIST_SIZE };
const TARGET_RATIO = 3;

function configMap(name: string): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'api' } }, data: { payload: PAYLOAD } };
}

/** Runs `total` calls of `op` split over `clients` concurrent loops; returns per-call latencies in ms. */
async function timed(clients: number, total: number, op: (client: number, k: number) => Promise<unknown> | unknown): Promise<number[]> {
  const per = Math.max(1, Math.floor(total / clients));
  const out: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let k = 0; k < per; k++) {
        const t0 = performance.now();
        await op(c, k);
        out.push(performance.now() - t0);
      }
    }),
  );
  return out;
}

type Results = Record<Verb, { api: Summary; raw: Summary }>;

/**
 * What one kumo write sends to DynamoDB, issued raw: the revision counter's
 * UpdateItem, then a TransactWriteItems of the object and its change-log
 * entry (docs/store.md). The emulator's cost of that pair is the floor of any
 * cloud write here.
 */
async function dynamoStoreWrite(clients: number, total: number, tag: string): Promise<number[]> {
  const ddb = new DynamoDBClient({});
  const table = `kumo-rawtx-${tag}-${Date.now()}`;
  await createStoreTable(ddb, table);
  const data = { B: new Uint8Array(Buffer.from(JSON.stringify(configMap('x')))) };
  let rev = 0;
  try {
    return await timed(clients, total, async (c, k) => {
      await ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'c#configmaps' }, sk: { S: 'c' } },
          UpdateExpression: 'ADD rev :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const r = ++rev;
      await ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: { pk: { S: 'o#configmaps' }, sk: { S: `bench-api#${tag}-${c}-${k}` }, rev: { N: String(r) }, data },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table,
                Item: { pk: { S: 'l#configmaps' }, sk: { S: String(r).padStart(20, '0') }, type: { S: 'ADDED' }, data },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    });
  } finally {
    ddb.destroy();
  }
}

/** The API side: each client works on its own objects, one verb at a time across all clients. */
async function apiPhase(client: KubeClient, ns: string, clients: number, total: number, tag: string): Promise<Record<Verb, number[]>> {
  const objs = new Map<string, KObject>();
  const name = (c: number, k: number) => `${tag}-${c}-${k}`;
  const out = {} as Record<Verb, number[]>;
  out.create = await timed(clients, total, async (c, k) => objs.set(name(c, k), await client.create(CONFIGMAPS, ns, configMap(name(c, k)))));
  out.get = await timed(clients, total, (c, k) => client.get(CONFIGMAPS, ns, name(c, k)));
  out.list = await timed(clients, total, () => client.list(CONFIGMAPS, 'bench-list'));
  out.update = await timed(clients, total, async (c, k) => {
    const cur = objs.get(name(c, k))!;
    objs.set(name(c, k), await client.update(CONFIGMAPS, { ...cur, data: { payload: PAYLOAD, updated: String(k) } }));
  });
  out.patch = await timed(clients, total, (c, k) => client.patch(CONFIGMAPS, ns, name(c, k), { data: { patched: String(k) } }));
  out.delete = await timed(clients, total, (c, k) => client.delete(CONFIGMAPS, ns, name(c, k)));
  return out;
}

async function prepare(client: KubeClient, size: number): Promise<void> {
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-list' } });
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-api' } });
  await parallel(size, 8, (i) => client.create(CONFIGMAPS, 'bench-list', configMap(`cm-${i}`)).then(() => undefined));
}

/** The raw side locally: the SQLite statement each verb wraps, on a database of the store's own schema. */
async function sqliteRaw(dir: string, clients: number, total: number, tag: string): Promise<Record<Verb, number[]>> {
  const path = join(dir, `raw-${tag}.db`);
  await new SqliteStore({ path }).close(); // the store's own schema and pragmas
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const data = JSON.stringify(configMap('x'));
  const insert = db.prepare('INSERT INTO objects (resource, namespace, name, rev, node, data) VALUES (?, ?, ?, ?, NULL, ?)');
  const get = db.prepare('SELECT rev, data FROM objects WHERE resource = ? AND namespace = ? AND name = ?');
  const list = db.prepare('SELECT namespace, name, data FROM objects WHERE resource = ? AND namespace = ? ORDER BY namespace, name');
  const update = db.prepare('UPDATE objects SET rev = ?, data = ? WHERE resource = ? AND namespace = ? AND name = ? AND rev = ?');
  const del = db.prepare('DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ? AND rev = ?');
  for (let i = 0; i < listSize.local; i++) insert.run('configmaps', 'bench-list', `cm-${i}`, 1, data);
  const name = (c: number, k: number) => `${tag}-${c}-${k}`;
  const out = {} as Record<Verb, number[]>;
  try {
    out.create = await timed(clients, total, (c, k) => insert.run('configmaps', 'bench-api', name(c, k), 1, data));
    out.get = await timed(clients, total, (c, k) => JSON.parse((get.get('configmaps', 'bench-api', name(c, k)) as { data: string }).data));
    out.list = await timed(clients, total, () => list.all('configmaps', 'bench-list').map((r) => JSON.parse((r as { data: string }).data)));
    out.update = await timed(clients, total, (c, k) => update.run(2, data, 'configmaps', 'bench-api', name(c, k), 1));
    out.patch = await timed(clients, total, (c, k) => update.run(3, data, 'configmaps', 'bench-api', name(c, k), 2));
    out.delete = await timed(clients, total, (c, k) => del.run('configmaps', 'bench-api', name(c, k), 3));
  } finally {
    db.close();
  }
  return out;
}

/** The raw side in the cloud: the SDK call each verb wraps, on the same emulator, items shaped like the store's. */
async function dynamoRaw(clients: number, total: number, tag: string): Promise<Record<Verb, number[]>> {
  const ddb = new DynamoDBClient({});
  const table = `kumo-raw-${tag}-${Date.now()}`;
  await createStoreTable(ddb, table);
  const data = { B: new Uint8Array(Buffer.from(JSON.stringify(configMap('x')))) };
  const key = (sk: string) => ({ pk: { S: 'o#configmaps' }, sk: { S: sk } });
  const name = (c: number, k: number) => `bench-api#${tag}-${c}-${k}`;
  for (let i = 0; i < listSize.cloud; i++)
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key(`bench-list#cm-${i}`), rev: { N: '1' }, data } }));
  const out = {} as Record<Verb, number[]>;
  try {
    out.create = await timed(clients, total, (c, k) =>
      ddb.send(new PutItemCommand({ TableName: table, Item: { ...key(name(c, k)), rev: { N: '1' }, data }, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    out.get = await timed(clients, total, (c, k) => ddb.send(new GetItemCommand({ TableName: table, Key: key(name(c, k)), ConsistentRead: true })));
    out.list = await timed(clients, total, () =>
      ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ns)',
          ExpressionAttributeValues: { ':pk': { S: 'o#configmaps' }, ':ns': { S: 'bench-list#' } },
          ConsistentRead: true,
        }),
      ),
    );
    const cas = (c: number, k: number, from: number) =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { ...key(name(c, k)), rev: { N: String(from + 1) }, data },
          ConditionExpression: 'rev = :rev',
          ExpressionAttributeValues: { ':rev': { N: String(from) } },
        }),
      );
    out.update = await timed(clients, total, (c, k) => cas(c, k, 1));
    out.patch = await timed(clients, total, (c, k) => cas(c, k, 2));
    out.delete = await timed(clients, total, (c, k) =>
      ddb.send(
        new DeleteItemCommand({ TableName: table, Key: key(name(c, k)), ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': { N: '3' } } }),
      ),
    );
  } finally {
    ddb.destroy();
  }
  return out;
}

function summarizeAll(api: Record<Verb, number[]>, raw: Record<Verb, number[]>): Results {
  return Object.fromEntries(VERBS.map((v) => [v, { api: summarize(api[v]), raw: summarize(raw[v]) }])) as Results;
}

const rawLabel = (mode: 'local' | 'cloud', verb: Verb): string => RAW_LABELS()[mode][verb];
const RAW_LABELS = (): Record<'local' | 'cloud', Record<Verb, string>> => ({
  local: {
    create: 'SQLite INSERT',
    get: 'SQLite SELECT by key (+ JSON.parse)',
    list: `SQLite SELECT of ${listSize.local} rows (+ JSON.parse)`,
    update: 'SQLite UPDATE … WHERE rev = ?',
    patch: 'SQLite UPDATE … WHERE rev = ?',
    delete: 'SQLite DELETE … WHERE rev = ?',
  },
  cloud: {
    create: 'SDK PutItem (conditional)',
    get: 'SDK GetItem (consistent)',
    list: `SDK Query of ${listSize.cloud} items (consistent)`,
    update: 'SDK PutItem (conditional)',
    patch: 'SDK PutItem (conditional)',
    delete: 'SDK DeleteItem (conditional)',
  },
});

export const apiLatency: Scenario = {
  name: 'api-latency',
  title: 'API latency beside the raw store call (local SQLite and cloud DynamoDB)',
  estimate: { quick: '1.5 min', full: '6 min' },
  async run(ctx: Ctx) {
    const concurrencies = [1, 10, 50];
    listSize.cloud = ctx.quick ? 20 : LIST_SIZE;
    const localTotal = ctx.quick ? 200 : 1000;
    // On the emulator every write queues behind moto's one-at-a-time proxy: --quick runs 10 calls per verb at 1 and 10
    // clients, and 50 (one per client) at 50.
    const cloudTotal = (c: number) => (ctx.quick ? Math.max(c, 10) : 200);
    const local: Record<number, Results> = {};
    const cloud: Record<number, Results> = {};
    const cloudStoreWrite: Record<number, Summary> = {};
    const httpFloor: Record<number, Summary> = {};
    const notes: string[] = [];

    const cluster = await ClusterProcess.start({ dataDir: join(ctx.workDir, 'local') });
    try {
      await prepare(cluster.client, listSize.local);
      for (const c of concurrencies) {
        const api = await apiPhase(cluster.client, 'bench-api', c, localTotal, `c${c}`);
        const raw = await sqliteRaw(ctx.workDir, c, localTotal, `c${c}`);
        httpFloor[c] = summarize(await timed(c, localTotal, () => cluster.client.call({ method: 'GET', path: '/version' })));
        local[c] = summarizeAll(api, raw);
        ctx.log(`local, ${c} client(s): ${VERBS.map((v) => `${v} ${local[c]![v].api.p50.toFixed(2)}/${local[c]![v].raw.p50.toFixed(3)} ms`).join(', ')}`);
      }
    } finally {
      await cluster.stop();
    }

    for (const c of concurrencies) {
      // A fresh emulator per concurrency: moto's transactions copy everything it stores (one shared emulator made the
      // 50-client phase several times slower than a fresh one).
      const plane = await CloudPlane.start({ controlLoops: false });
      try {
        const client = plane.client();
        await prepare(client, listSize.cloud);
        const api = await apiPhase(client, 'bench-api', c, cloudTotal(c), `c${c}`);
        const raw = await dynamoRaw(c, cloudTotal(c), `c${c}`);
        cloudStoreWrite[c] = summarize(await dynamoStoreWrite(c, cloudTotal(c), `c${c}`));
        cloud[c] = summarizeAll(api, raw);
        ctx.log(`cloud, ${c} client(s): ${VERBS.map((v) => `${v} ${cloud[c]![v].api.p50.toFixed(1)}/${cloud[c]![v].raw.p50.toFixed(1)} ms`).join(', ')}`);
      } finally {
        await plane.stop();
      }
    }

    const figures: Figure[] = [];
    for (const [mode, res] of [
      ['local', local],
      ['cloud', cloud],
    ] as const) {
      for (const c of concurrencies) {
        for (const v of VERBS) {
          const r = res[c]![v];
          figures.push(
            figure(`api.${mode}.${v}.c${c}.p50`, `${mode} ${v}, ${c} client(s): p50`, r.api.p50, 'ms', {
              peer: { label: rawLabel(mode, v), value: r.raw.p50, kind: 'peer' },
              target: { on: 'ratio', op: '<=', value: TARGET_RATIO, label: 'issue: overhead ≤ 3× the raw call' },
            }),
            figure(`api.${mode}.${v}.c${c}.p99`, `${mode} ${v}, ${c} client(s): p99`, r.api.p99, 'ms', {
              peer: { label: `${rawLabel(mode, v)}, p99`, value: r.raw.p99, kind: 'peer' },
            }),
          );
        }
      }
    }
    for (const c of concurrencies) {
      figures.push(
        figure(`api.local.get.c${c}.vs-http`, `local get, ${c} client(s): p50 beside an HTTP round trip to /version`, local[c]!.get.api.p50, 'ms', {
          peer: { label: 'GET /version on the same server, p50', value: httpFloor[c]!.p50, kind: 'peer' },
        }),
      );
    }
    for (const c of concurrencies) {
      figures.push(
        figure(
          `api.local.http-floor.c${c}`,
          `HTTP round trip alone (GET /version), ${c} client(s): p50, beside the SQLite SELECT a get wraps`,
          httpFloor[c]!.p50,
          'ms',
          {
            peer: { label: rawLabel('local', 'get'), value: local[c]!.get.raw.p50, kind: 'peer' },
          },
        ),
      );
    }
    for (const c of concurrencies) {
      figures.push(
        figure(
          `api.cloud.create.c${c}.vs-store-write`,
          `cloud create, ${c} client(s): p50 beside the SDK calls one kumo write makes`,
          cloud[c]!.create.api.p50,
          'ms',
          {
            peer: { label: 'UpdateItem (counter) + TransactWriteItems (object + log entry), raw, p50', value: cloudStoreWrite[c]!.p50, kind: 'peer' },
          },
        ),
      );
    }
    const table = (mode: 'local' | 'cloud', res: Record<number, Results>): Table => ({
      title: `${mode}: latency in ms (API p50 / p99 beside the raw call p50 / p99; ratio at p50)`,
      columns: ['verb', ...concurrencies.flatMap((c) => [`${c} client(s) API p50/p99`, 'raw p50/p99', 'ratio'])],
      rows: VERBS.map((v) => [
        v,
        ...concurrencies.flatMap((c) => {
          const r = res[c]![v];
          return [
            `${r.api.p50.toFixed(2)} / ${r.api.p99.toFixed(2)}`,
            `${r.raw.p50.toFixed(3)} / ${r.raw.p99.toFixed(3)}`,
            `${(r.api.p50 / r.raw.p50).toFixed(1)}×`,
          ];
        }),
      ]),
    });
    notes.push(
      `Operations per verb and concurrency: ${localTotal} locally, ${concurrencies.map((c) => `${cloudTotal(c)} at ${c}`).join(', ')} on the emulator (split evenly over the clients; a fresh emulator per concurrency). Each client works on its own objects; list reads a namespace of ${listSize.local} ConfigMaps locally, ${listSize.cloud} on the emulator${ctx.quick ? ' (100 in full runs)' : ''}.`,
      'Local: the raw SQLite call runs in the benchmark process (microseconds, no I/O wait), while the API call crosses HTTP, decodes and validates the object, records managedFields and runs a three-statement transaction (revision counter, object, change log). The HTTP round trip alone (GET /version) is the second peer: the floor any HTTP API pays.',
      'Cloud: every API write is an UpdateItem on the revision counter plus a TransactWriteItems of the object and its change-log entry (docs/store.md), update/patch/delete first read the object and create reads the namespace; the raw call is one request. moto serves one request at a time behind the serializing proxy, so at 10 and 50 clients both sides queue there, and moto copies its whole state on every TransactWriteItems, so its transactions cost several times a PutItem: the third peer issues exactly the SDK calls of one kumo write. The controller and scheduler functions are not fed during this scenario, so only the request path is measured.',
    );
    {
      // Why the ratios miss: the floor each side pays that the raw call does not.
      const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
      const floor1 = httpFloor[1]!.p50;
      const localMiss = VERBS.filter((v) => concurrencies.some((c) => local[c]![v].api.p50 / local[c]![v].raw.p50 > TARGET_RATIO));
      if (localMiss.length > 0) {
        notes.push(
          `Why local misses ≤ ${TARGET_RATIO}×: the raw peer is an in-process SQLite statement of ${(local[1]!.create.raw.p50 * 1000).toFixed(0)} µs (INSERT) / ${(local[1]!.get.raw.p50 * 1000).toFixed(0)} µs (SELECT), while an HTTP round trip that does nothing (GET /version on the same server) already takes ${floor1.toFixed(2)} ms at 1 client: ${ratio(floor1, local[1]!.get.raw.p50)} the SELECT and ${ratio(floor1, local[1]!.create.raw.p50)} the INSERT. No HTTP API can come within ${TARGET_RATIO}× of a statement that runs in the caller's process. Beside that floor, kumo's get costs ${concurrencies.map((c) => `${ratio(local[c]!.get.api.p50, httpFloor[c]!.p50)} at ${c}`).join(', ')} client(s), and a write (create) ${concurrencies.map((c) => `${ratio(local[c]!.create.api.p50, httpFloor[c]!.p50)} at ${c}`).join(', ')} (validation, managedFields, a three-statement transaction and the change feed). List, whose raw peer reads and parses ${listSize.local} rows, comes closest (${concurrencies.map((c) => ratio(local[c]!.list.api.p50, local[c]!.list.raw.p50)).join(' / ')}).`,
        );
      }
      const cloudWrites = (['create', 'update', 'patch', 'delete'] as const).filter((v) =>
        concurrencies.some((c) => cloud[c]![v].api.p50 / cloud[c]![v].raw.p50 > TARGET_RATIO),
      );
      if (cloudWrites.length > 0) {
        notes.push(
          `Why cloud writes miss ≤ ${TARGET_RATIO}× while reads meet it: the raw peer of a write is one conditional PutItem/DeleteItem, but one kumo write is a read of the object (or namespace) + an UpdateItem on the revision counter + a TransactWriteItems of the object and its change-log entry, and moto copies its whole state on every transaction. The exact SDK calls of one kumo write, issued raw, already cost ${concurrencies.map((c) => `${ratio(cloudStoreWrite[c]!.p50, cloud[c]!.create.raw.p50)} a PutItem at ${c}`).join(', ')} client(s); beside those, create is ${concurrencies.map((c) => ratio(cloud[c]!.create.api.p50, cloudStoreWrite[c]!.p50)).join(' / ')}.`,
        );
      }
    }
    const chartFor = (mode: 'local' | 'cloud', res: Record<number, Results>) => ({
      id: `api-latency-${mode}`,
      title: `API latency p50, ${mode}`,
      svg: barChart({
        title: `${mode}: p50 latency, API beside the raw store call`,
        unit: 'ms',
        log: true,
        groups: VERBS.flatMap((v) => concurrencies.map((c) => `${v} ×${c}`)),
        series: [
          { name: 'API p50', values: VERBS.flatMap((v) => concurrencies.map((c) => res[c]![v].api.p50)) },
          { name: 'raw store call p50', values: VERBS.flatMap((v) => concurrencies.map((c) => res[c]![v].raw.p50)) },
          { name: 'API p99', values: VERBS.flatMap((v) => concurrencies.map((c) => res[c]![v].api.p99)) },
        ],
      }),
    });
    return {
      method: `
Local: \`kumo up\` (its own process, controllers running) reached over HTTP with keep-alive from the benchmark process, which
also runs the raw SQLite statements on a database file of the store's schema. Cloud: the API function module called with
Function URL events in the benchmark process (the network hop to a Function URL is not included), its DynamoDB store on moto,
and the raw SDK calls on another table of the same shape on the same emulator. For each concurrency (1, 10, 50 clients) the
verbs run one after another over all clients; latency is per call, measured by the caller.
`,
      figures,
      tables: [table('local', local), table('cloud', cloud)],
      charts: [chartFor('local', local), chartFor('cloud', cloud)],
      notes,
      data: { local, cloud, httpFloor },
    };
  },
};
