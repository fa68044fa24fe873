/**
 * State written before store keys carried the group still reads: a `kumo up`
 * state.db and a cloud DynamoDB table, each filled the way kumo wrote them
 * then (rows and items written here by hand, in the layout of that time, not
 * through today's code), opened by today's API server and used over HTTP:
 * get, list, field selectors through the node index, a watch that resumes
 * in the old log, and writes that carry on from the old revision counters.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { DynamoDbStore } from '#lib/store/dynamodb';
import { SqliteStore } from '#lib/store/sqlite';
import type { Store } from '#lib/store/types';
import { serveApi } from '../apiserver/harness.js';
import { ensureEmulator, newStoreTable } from '../helpers/moto.js';

const NOW = Date.now();
const stamp = new Date(NOW).toISOString().replace(/\.\d+Z$/, 'Z');

function meta(name: string, namespace: string | undefined, rv: number, extra: Record<string, unknown> = {}) {
  return { name, ...(namespace ? { namespace } : {}), uid: randomUUID(), resourceVersion: String(rv), creationTimestamp: stamp, ...extra };
}

function namespace(name: string, rv: number): KObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: meta(name, undefined, rv), spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

const web1: KObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: meta('web', 'default', 1, { generation: 1 }),
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
  },
};
const web2: KObject = { ...web1, metadata: { ...web1.metadata, resourceVersion: '2', labels: { tier: 'front' } } };
const lease: KObject = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: meta('n1', 'kube-node-lease', 1),
  spec: { holderIdentity: 'n1' },
};
const event: KObject = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: meta('web.1', 'default', 1),
  involvedObject: { kind: 'Deployment', namespace: 'default', name: 'web' },
  reason: 'ScalingReplicaSet',
  type: 'Normal',
};
const pod: KObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: meta('web-1', 'default', 1),
  spec: { nodeName: 'n1', containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
};

/** One logged change, as the old code wrote it: the resource's bare plural, its revision, the object after and before. */
interface OldChange {
  resource: string;
  type: 'ADDED' | 'MODIFIED';
  object: KObject;
  prev?: KObject;
}

/** The old data: objects under bare plurals, each resource counting its own revisions. */
const HISTORY: OldChange[] = [
  { resource: 'namespaces', type: 'ADDED', object: namespace('default', 1) },
  { resource: 'namespaces', type: 'ADDED', object: namespace('kube-node-lease', 2) },
  { resource: 'deployments', type: 'ADDED', object: web1 },
  { resource: 'deployments', type: 'MODIFIED', object: web2, prev: web1 },
  { resource: 'leases', type: 'ADDED', object: lease },
  { resource: 'events', type: 'ADDED', object: event },
  { resource: 'pods', type: 'ADDED', object: pod },
];

/** The objects as they stand after HISTORY: the last change of each key. */
function currentObjects(): { resource: string; object: KObject }[] {
  const last = new Map<string, { resource: string; object: KObject }>();
  for (const c of HISTORY) last.set(`${c.resource}/${c.object.metadata.namespace ?? ''}/${c.object.metadata.name}`, c);
  return [...last.values()];
}

function counters(): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of HISTORY) out.set(c.resource, Math.max(out.get(c.resource) ?? 0, Number(c.object.metadata.resourceVersion)));
  return out;
}

/** A state.db as kumo up wrote it before group-qualified keys: its DDL and rows, by hand. */
function writeOldStateDb(path: string): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE objects (
        resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        rev INTEGER NOT NULL, node TEXT, data TEXT NOT NULL,
        PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
      CREATE INDEX objects_by_node ON objects (resource, node, namespace, name) WHERE node IS NOT NULL;
      CREATE TABLE log (
        resource TEXT NOT NULL, rev INTEGER NOT NULL, type TEXT NOT NULL,
        namespace TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, prev TEXT, ts INTEGER NOT NULL,
        PRIMARY KEY (resource, rev)) WITHOUT ROWID;
      CREATE TABLE revisions (
        resource TEXT PRIMARY KEY, rev INTEGER NOT NULL, compacted INTEGER NOT NULL) WITHOUT ROWID;
    `);
    const log = db.prepare('INSERT INTO log (resource, rev, type, namespace, name, data, prev, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const c of HISTORY) {
      const m = c.object.metadata;
      log.run(c.resource, Number(m.resourceVersion), c.type, m.namespace ?? '', m.name, JSON.stringify(c.object), c.prev ? JSON.stringify(c.prev) : null, NOW);
    }
    const obj = db.prepare('INSERT INTO objects (resource, namespace, name, rev, node, data) VALUES (?, ?, ?, ?, ?, ?)');
    for (const { resource, object } of currentObjects()) {
      const node = resource === 'pods' ? ((object.spec as { nodeName?: string }).nodeName ?? null) : null;
      obj.run(resource, object.metadata.namespace ?? '', object.metadata.name, Number(object.metadata.resourceVersion), node, JSON.stringify(object));
    }
    const rev = db.prepare('INSERT INTO revisions (resource, rev, compacted) VALUES (?, ?, 0)');
    for (const [resource, n] of counters()) rev.run(resource, n);
  } finally {
    db.close();
  }
}

/** A store table as the cloud stack's API functions wrote it before group-qualified keys: its items, by hand. */
async function writeOldTable(tableName: string): Promise<void> {
  const client = new DynamoDBClient({});
  const put = (Item: Record<string, { S: string } | { N: string } | { B: Uint8Array }>) => client.send(new PutItemCommand({ TableName: tableName, Item }));
  try {
    for (const c of HISTORY) {
      const m = c.object.metadata;
      const data = c.prev ? `${JSON.stringify(c.object)}\n${JSON.stringify(c.prev)}` : JSON.stringify(c.object);
      await put({
        pk: { S: `l#${c.resource}` },
        sk: { S: m.resourceVersion!.padStart(20, '0') },
        type: { S: c.type },
        ns: { S: m.namespace ?? '' },
        name: { S: m.name! },
        data: { B: gzipSync(data) },
        ts: { N: String(NOW) },
        ttl: { N: String(Math.ceil(NOW / 1000) + 4 * 3600) },
      });
    }
    for (const { resource, object } of currentObjects()) {
      const nodeName = resource === 'pods' ? (object.spec as { nodeName?: string }).nodeName : undefined;
      const sk = `${object.metadata.namespace ?? ''}#${object.metadata.name}`;
      await put({
        pk: { S: `o#${resource}` },
        sk: { S: sk },
        rev: { N: object.metadata.resourceVersion! },
        data: { B: gzipSync(JSON.stringify(object)) },
        ...(nodeName ? { gsi1pk: { S: `pods@${nodeName}` }, gsi1sk: { S: sk } } : {}),
      });
    }
    for (const [resource, n] of counters()) {
      await put({ pk: { S: `c#${resource}` }, sk: { S: 'c' }, rev: { N: String(n) } });
      await put({ pk: { S: 'r' }, sk: { S: resource } });
    }
  } finally {
    client.destroy();
  }
}

/** What a user of the old cluster must still see and do. */
async function expectOldStateServed(store: Store): Promise<void> {
  const api = await serveApi(store);
  try {
    const dep = await api.get('/apis/apps/v1/namespaces/default/deployments/web');
    expect(dep.status).toBe(200);
    expect(dep.body.metadata).toMatchObject({ uid: web2.metadata.uid, resourceVersion: '2', labels: { tier: 'front' } });
    const deps = await api.get('/apis/apps/v1/deployments');
    expect(deps.body.items.map((d: KObject) => d.metadata.name)).toEqual(['web']);
    expect(deps.body.metadata.resourceVersion).toBe('2');

    const leases = await api.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
    expect(leases.body.items.map((l: KObject) => l.metadata.uid)).toEqual([lease.metadata.uid]);
    const events = await api.get('/api/v1/namespaces/default/events');
    expect(events.body.items.map((e: KObject) => e.metadata.uid)).toEqual([event.metadata.uid]);
    const onNode = await api.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    expect(onNode.body.items.map((p: KObject) => p.metadata.uid)).toEqual([pod.metadata.uid]);
    const namespaces = await api.get('/api/v1/namespaces/default');
    expect(namespaces.body.metadata.uid).toBe(HISTORY[0]!.object.metadata.uid);

    // A watch resumes inside the old log, then sees new writes, numbered on from the old counter.
    const watch = await api.watch('/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=1');
    const first = await watch.next();
    expect([first.type, first.object.metadata.resourceVersion]).toEqual(['MODIFIED', '2']);
    const patched = await api.patch(
      '/apis/apps/v1/namespaces/default/deployments/web',
      { metadata: { labels: { tier: 'back' } } },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(200);
    expect(patched.body.metadata.resourceVersion).toBe('3');
    const next = await watch.next();
    expect([next.type, next.object.metadata.resourceVersion, next.object.metadata.labels]).toEqual(['MODIFIED', '3', { tier: 'back' }]);
    watch.close();

    const created = await api.post('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'n2' },
      spec: { holderIdentity: 'n2' },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata.resourceVersion).toBe('2');
    expect((await api.del('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1')).status).toBe(200);
    expect((await api.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1')).status).toBe(404);
  } finally {
    await api.close();
  }
}

describe('state written before group-qualified store keys', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a kumo up state.db opens with all its objects, its history and its counters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-oldstate-'));
    dirs.push(dir);
    const path = join(dir, 'state.db');
    writeOldStateDb(path);
    await expectOldStateServed(new SqliteStore({ path }));
  });
});

const emulator = await ensureEmulator();
afterAll(async () => {
  await emulator?.stop();
});

describe.skipIf(!emulator)('a DynamoDB table written before group-qualified store keys', () => {
  it('reads with all its objects, its history and its counters', async () => {
    const tableName = await newStoreTable();
    await writeOldTable(tableName);
    await expectOldStateServed(new DynamoDbStore({ tableName, pollIntervalMs: 25, maxPollIntervalMs: 100 }));
  });
});
