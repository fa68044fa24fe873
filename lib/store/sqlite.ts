/**
 * The embedded store for `kumo up`: one SQLite file, durable across restarts.
 *
 * better-sqlite3 is synchronous, so every write runs start to finish inside
 * one SQLite transaction on the event loop: the revision counter, the object
 * row and the log row change together, and revisions commit in order (no gaps
 * for watchers to wait out). Watchers read recent events from an in-memory
 * buffer and older ones from the log table.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KObject, ObjectKey } from '../api/object.js';
import { type Clock, systemClock } from '../util/clock.js';
import { objectsAt, pageAt } from './history.js';
import { type ContinueToken, decodeContinue, encodeContinue, nodeIndexValue, withResourceVersion } from './indexes.js';
import {
  AlreadyExistsError,
  type CasResult,
  CompactedError,
  FutureRevisionError,
  InvalidContinueError,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type WatchEventType,
  type WatchOptions,
} from './types.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** How long log entries are kept for watches to resume from. @default 10 minutes */
  retentionMs?: number;
  /** Parsed events kept in memory per resource for watchers. @default 10000 */
  bufferSize?: number;
  clock?: Clock;
}

interface LogRow {
  rev: number;
  type: WatchEventType;
  namespace: string;
  data: string;
  prev: string | null;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly retentionMs: number;
  private readonly bufferSize: number;
  private readonly clock: Clock;
  /** Recent events per resource, ascending by revision. Shared by watchers: must not be mutated. */
  private readonly buffers = new Map<string, StoreEvent[]>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly stmts;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    this.retentionMs = opts.retentionMs ?? 10 * 60_000;
    this.bufferSize = opts.bufferSize ?? 10_000;
    this.clock = opts.clock ?? systemClock;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (
        resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        rev INTEGER NOT NULL, node TEXT, data TEXT NOT NULL,
        PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS objects_by_node ON objects (resource, node, namespace, name) WHERE node IS NOT NULL;
      CREATE TABLE IF NOT EXISTS log (
        resource TEXT NOT NULL, rev INTEGER NOT NULL, type TEXT NOT NULL,
        namespace TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, prev TEXT, ts INTEGER NOT NULL,
        PRIMARY KEY (resource, rev)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS revisions (
        resource TEXT PRIMARY KEY, rev INTEGER NOT NULL, compacted INTEGER NOT NULL) WITHOUT ROWID;
    `);
    this.stmts = {
      getRev: this.db.prepare<[string], { rev: number; compacted: number }>('SELECT rev, compacted FROM revisions WHERE resource = ?'),
      bumpRev: this.db.prepare<[string]>(
        'INSERT INTO revisions (resource, rev, compacted) VALUES (?, 1, 0) ON CONFLICT (resource) DO UPDATE SET rev = rev + 1 RETURNING rev',
      ),
      getObj: this.db.prepare<[string, string, string], { rev: number; data: string }>(
        'SELECT rev, data FROM objects WHERE resource = ? AND namespace = ? AND name = ?',
      ),
      insertObj: this.db.prepare('INSERT INTO objects (resource, namespace, name, rev, node, data) VALUES (?, ?, ?, ?, ?, ?)'),
      updateObj: this.db.prepare('UPDATE objects SET rev = ?, node = ?, data = ? WHERE resource = ? AND namespace = ? AND name = ? AND rev = ?'),
      deleteObj: this.db.prepare('DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ? AND rev = ?'),
      insertLog: this.db.prepare('INSERT INTO log (resource, rev, type, namespace, name, data, prev, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      logAfter: this.db.prepare<[string, number, number], LogRow>(
        'SELECT rev, type, namespace, data, prev FROM log WHERE resource = ? AND rev > ? ORDER BY rev LIMIT ?',
      ),
      changesAfter: this.db.prepare<[string, number], { rev: number; type: WatchEventType; namespace: string; name: string; prev: string | null }>(
        'SELECT rev, type, namespace, name, prev FROM log WHERE resource = ? AND rev > ? ORDER BY rev',
      ),
      compactable: this.db.prepare<[number], { resource: string; maxRev: number }>(
        'SELECT resource, MAX(rev) AS maxRev FROM log WHERE ts < ? GROUP BY resource',
      ),
      deleteLog: this.db.prepare('DELETE FROM log WHERE resource = ? AND rev <= ?'),
      setCompacted: this.db.prepare('UPDATE revisions SET compacted = MAX(compacted, ?) WHERE resource = ?'),
    };
  }

  async create(key: ObjectKey, obj: KObject): Promise<KObject> {
    const event = this.db.transaction(() => {
      const existing = this.stmts.getObj.get(key.resource, key.namespace, key.name);
      if (existing) throw new AlreadyExistsError(key, JSON.parse(existing.data) as KObject);
      const stored = withResourceVersion(obj, this.nextRevision(key.resource));
      const data = JSON.stringify(stored);
      this.stmts.insertObj.run(
        key.resource,
        key.namespace,
        key.name,
        Number(stored.metadata.resourceVersion),
        nodeIndexValue(key.resource, stored) ?? null,
        data,
      );
      return this.log(key, 'ADDED', stored, data, undefined);
    })();
    this.publish(key.resource, event);
    return event.object;
  }

  async get(key: ObjectKey): Promise<KObject | undefined> {
    const row = this.stmts.getObj.get(key.resource, key.namespace, key.name);
    return row ? (JSON.parse(row.data) as KObject) : undefined;
  }

  async update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    const expected = Number(prev.metadata.resourceVersion);
    return this.casWrite(key, expected, (rev) => {
      const stored = withResourceVersion(obj, rev);
      const data = JSON.stringify(stored);
      this.stmts.updateObj.run(rev, nodeIndexValue(key.resource, stored) ?? null, data, key.resource, key.namespace, key.name, expected);
      return this.log(key, 'MODIFIED', stored, data, prev);
    });
  }

  async delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    const expected = Number(prev.metadata.resourceVersion);
    return this.casWrite(key, expected, (rev) => {
      this.stmts.deleteObj.run(key.resource, key.namespace, key.name, expected);
      const last = withResourceVersion(prev, rev);
      return this.log(key, 'DELETED', last, JSON.stringify(last), prev);
    });
  }

  async list(resource: string, opts: ListOptions = {}): Promise<ListResult> {
    let after: ContinueToken | undefined;
    if (opts.continue) {
      after = decodeContinue(opts.continue);
      if (!after) throw new InvalidContinueError('continue token is not valid');
    }
    const revision = after?.revision ?? opts.revision;
    if (revision !== undefined) return this.listAt(resource, revision, opts, after);
    const { sql, params } = this.rangeQuery(resource, opts.namespace, opts.index, after);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const items: KObject[] = [];
    let last: { namespace: string; name: string } | undefined;
    let more = false;
    // One read transaction: the rows and the revision are a consistent snapshot.
    const read = this.db.transaction(() => {
      for (const row of this.db.prepare<(string | number)[], { namespace: string; name: string; data: string }>(sql).iterate(...params)) {
        const obj = JSON.parse(row.data) as KObject;
        if (opts.predicate && !opts.predicate(obj)) continue;
        if (items.length >= limit) {
          more = true;
          break;
        }
        items.push(obj);
        last = { namespace: row.namespace, name: row.name };
      }
      return this.stmts.getRev.get(resource)?.rev ?? 0;
    });
    const rev = read();
    const result: ListResult = { items, resourceVersion: String(rev) };
    if (more && last) result.continue = encodeContinue(last);
    return result;
  }

  /** The objects of a key range: a namespace (or all), through the node index or not, after a continue key. */
  private rangeQuery(resource: string, namespace: string | undefined, index: ListOptions['index'], after: ContinueToken | undefined) {
    const clauses = ['resource = ?'];
    const params: (string | number)[] = [resource];
    if (index) {
      clauses.push('node = ?');
      params.push(index.nodeName);
    }
    if (namespace !== undefined) {
      clauses.push('namespace = ?');
      params.push(namespace);
    }
    if (after) {
      clauses.push('(namespace, name) > (?, ?)');
      params.push(after.namespace, after.name);
    }
    return { sql: `SELECT namespace, name, data FROM objects WHERE ${clauses.join(' AND ')} ORDER BY namespace, name`, params };
  }

  /** A list at an earlier revision (history.ts), read in one transaction. */
  private listAt(resource: string, revision: number, opts: ListOptions, after: ContinueToken | undefined): ListResult {
    const { sql, params } = this.rangeQuery(resource, opts.namespace, undefined, after);
    const inRange = (namespace: string, name: string) =>
      (opts.namespace === undefined || namespace === opts.namespace) &&
      (!after || namespace > after.namespace || (namespace === after.namespace && name > after.name));
    const objects = this.db.transaction(() => {
      const counter = this.stmts.getRev.get(resource) ?? { rev: 0, compacted: 0 };
      if (revision > counter.rev) throw new FutureRevisionError(revision, counter.rev);
      if (revision < counter.compacted) throw new CompactedError(revision, counter.compacted);
      const current = this.db
        .prepare<(string | number)[], { data: string }>(sql)
        .all(...params)
        .map((row) => JSON.parse(row.data) as KObject);
      const changes = this.stmts.changesAfter
        .all(resource, revision)
        .filter((row) => inRange(row.namespace, row.name))
        .map((row) => ({
          revision: row.rev,
          type: row.type,
          namespace: row.namespace,
          name: row.name,
          prev: row.prev ? (JSON.parse(row.prev) as KObject) : undefined,
        }));
      return objectsAt(revision, current, changes);
    })();
    return pageAt(revision, objects, opts);
  }

  async currentRevision(resource: string): Promise<number> {
    return this.stmts.getRev.get(resource)?.rev ?? 0;
  }

  watch(resource: string, opts: WatchOptions): AsyncIterable<StoreEvent> {
    const compacted = this.stmts.getRev.get(resource)?.compacted ?? 0;
    if (opts.fromRevision < compacted) throw new CompactedError(opts.fromRevision, compacted);
    return this.follow(resource, opts);
  }

  private async *follow(resource: string, opts: WatchOptions): AsyncGenerator<StoreEvent> {
    let position = opts.fromRevision;
    while (!opts.signal.aborted && !this.closed) {
      const events = this.eventsAfter(resource, position, 1000);
      if (events.length === 0) {
        await this.changed(resource, opts.signal);
        continue;
      }
      for (const event of events) {
        position = event.revision;
        yield event;
        if (opts.signal.aborted) return;
      }
    }
  }

  async compact(): Promise<void> {
    const cutoff = this.clock.now() - this.retentionMs;
    const run = this.db.transaction(() => {
      for (const { resource, maxRev } of this.stmts.compactable.all(cutoff)) {
        this.stmts.deleteLog.run(resource, maxRev);
        this.stmts.setCompacted.run(maxRev, resource);
        const buffer = this.buffers.get(resource);
        if (buffer)
          this.buffers.set(
            resource,
            buffer.filter((e) => e.revision > maxRev),
          );
      }
    });
    run();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of set) wake();
    this.db.close();
  }

  /** Events after `revision`, from the in-memory buffer when it reaches back that far, else from the log table. */
  private eventsAfter(resource: string, revision: number, max: number): StoreEvent[] {
    const buffer = this.buffers.get(resource) ?? [];
    const oldest = buffer[0];
    if (oldest && oldest.revision <= revision + 1) {
      const start = lowerBound(buffer, revision + 1);
      return buffer.slice(start, start + max);
    }
    return this.stmts.logAfter.all(resource, revision, max).map((row) => ({
      type: row.type,
      revision: row.rev,
      object: JSON.parse(row.data) as KObject,
      ...(row.prev ? { prev: JSON.parse(row.prev) as KObject } : {}),
    }));
  }

  private changed(resource: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(resource);
      if (!set) this.waiters.set(resource, (set = new Set()));
      const wake = () => {
        set.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      set.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private nextRevision(resource: string): number {
    return (this.stmts.bumpRev.get(resource) as { rev: number }).rev;
  }

  private casWrite(key: ObjectKey, expected: number, apply: (rev: number) => StoreEvent): CasResult {
    const miss: { current?: KObject } = {};
    const result = this.db.transaction((): StoreEvent | undefined => {
      const row = this.stmts.getObj.get(key.resource, key.namespace, key.name);
      if (!row || row.rev !== expected) {
        miss.current = row ? (JSON.parse(row.data) as KObject) : undefined;
        return undefined;
      }
      return apply(this.nextRevision(key.resource));
    })();
    if (!result) return { ok: false, current: miss.current };
    this.publish(key.resource, result);
    return { ok: true, object: result.object };
  }

  private log(key: ObjectKey, type: WatchEventType, object: KObject, data: string, prev: KObject | undefined): StoreEvent {
    const rev = Number(object.metadata.resourceVersion);
    this.stmts.insertLog.run(key.resource, rev, type, key.namespace, key.name, data, prev ? JSON.stringify(prev) : null, this.clock.now());
    return { type, object, revision: rev, ...(prev ? { prev } : {}) };
  }

  private publish(resource: string, event: StoreEvent): void {
    let buffer = this.buffers.get(resource);
    if (!buffer) this.buffers.set(resource, (buffer = []));
    buffer.push(event);
    if (buffer.length > this.bufferSize) buffer.splice(0, buffer.length - this.bufferSize);
    const set = this.waiters.get(resource);
    if (set) for (const wake of [...set]) wake();
  }
}

function lowerBound(events: StoreEvent[], revision: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.revision < revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
