/**
 * The cloud store: one DynamoDB table (layout in dynamodb-table.ts, design and
 * consistency argument in docs/store.md).
 *
 * A write allocates a revision from the resource's counter item, then commits
 * the object change and its log entry in ONE transaction, each under its own
 * condition: the object's (create: absent; update/delete: still at the
 * expected revision) and the log slot's (still empty). Revisions therefore
 * commit out of order, and a slot whose writer died stays empty: readers of
 * the log treat an empty slot below a committed one as a gap, wait for it a
 * little, then fill it with a GAP entry, which the late writer's own log
 * condition then refuses (it retries with a new revision). Every slot is thus
 * eventually either a committed change or a GAP, and never changes after.
 *
 * The endpoint, region and credentials come from the AWS SDK's standard
 * configuration (AWS_ENDPOINT_URL, AWS_REGION, ...), so the same code runs on
 * AWS, LocalStack and moto.
 */
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { KObject, ObjectKey } from '../api/object.js';
import { type Clock, systemClock } from '../util/clock.js';
import { sleep } from '../util/sleep.js';
import { isDefiniteRejection, mapCancellation, mapError } from './dynamodb-errors.js';
import {
  BY_NODE_INDEX,
  DIRECTORY_PK,
  type Item,
  type LogEntry,
  counterKey,
  decodeLogChange,
  encodeLogChange,
  encodeObject,
  logPk,
  logSk,
  nodePk,
  num,
  objectOfItem,
  objectPk,
  objectSk,
  parseLogEntry,
  splitObjectSk,
} from './dynamodb-table.js';
import { type LoggedChange, objectsAt, pageAt } from './history.js';
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
  StoreBusyError,
  type StoreEvent,
  type WatchEventType,
  type WatchOptions,
} from './types.js';

export interface DynamoDbStoreOptions {
  tableName: string;
  /** @default a client configured from the environment (AWS_ENDPOINT_URL, AWS_REGION, credentials chain) */
  client?: DynamoDBClient;
  /** Time for log timestamps and retention. Gap timeouts use the process's monotonic time. */
  clock?: Clock;
  /** How long log entries are kept for watches to resume from. @default 10 minutes */
  retentionMs?: number;
  /** How long a reader waits for an allocated revision's writer before declaring it abandoned. @default 2000 */
  gapTimeoutMs?: number;
  /** How often a watcher polls the log while changes arrive. @default 200 */
  pollIntervalMs?: number;
  /** The longest pause between polls of an idle watcher (the interval doubles while idle). @default max(1000, pollIntervalMs) */
  maxPollIntervalMs?: number;
  /**
   * A writer gives up a revision it has not sent its transaction for within
   * this long of allocating it. Compaction relies on it: a slot older than
   * the retention window can no longer be written. Keep it well below retentionMs.
   * @default 30 s
   */
  commitDeadlineMs?: number;
}

interface Counter {
  /** The highest revision allocated. */
  rev: number;
  /** Log entries at or below this revision may be gone. */
  compacted: number;
  /** A hint: every revision at or below it is committed or abandoned. */
  head: number;
}

type Change =
  { kind: 'create'; obj: KObject } | { kind: 'update'; obj: KObject; prev: KObject; expected: number } | { kind: 'delete'; prev: KObject; expected: number };

type Outcome = { ok: true; event: StoreEvent } | { ok: false; current: KObject | undefined };

type Attempt = 'committed' | 'slot-taken' | { current: KObject | undefined };

/** What a reader may conclude about an empty log slot below the counter. */
type HoleState = 'final' | 'present' | 'released' | 'wait';

/** Revisions a single write may burn on slots that watchers declared abandoned before it gives up. */
const MAX_ALLOCATIONS = 8;
/** Retries of a transaction that lost to a concurrent transaction on the same item. */
const MAX_CONFLICT_RETRIES = 4;
/** Log entries outlive the retention window by this much before DynamoDB's TTL removes them: TTL is only the backstop for compaction. */
const TTL_SLACK_MS = 60 * 60_000;
/** A list that walked this far past the persisted head hint moves the hint up, so cold instances start near the top. */
const HINT_STRIDE = 256;
const WATCH_PAGE = 100;
const SETTLE_PAGE = 1000;
const MAX_PAGE = 1000;

export class DynamoDbStore implements Store {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private readonly gapTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly commitDeadlineMs: number;
  /** Per resource: every revision at or below it is known committed or abandoned (this instance's view; only grows). */
  private readonly heads = new Map<string, number>();
  /** When this instance first saw each still-open hole (`resource\0revision` → monotonic ms). */
  private readonly holesSeen = new Map<string, number>();
  /** Resources whose directory entry this instance has written. */
  private readonly registered = new Set<string>();
  private readonly closing = new AbortController();

  constructor(opts: DynamoDbStoreOptions) {
    this.tableName = opts.tableName;
    this.ownsClient = !opts.client;
    this.client = opts.client ?? new DynamoDBClient({});
    this.clock = opts.clock ?? systemClock;
    this.retentionMs = opts.retentionMs ?? 10 * 60_000;
    this.gapTimeoutMs = opts.gapTimeoutMs ?? 2000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 200;
    this.maxPollIntervalMs = opts.maxPollIntervalMs ?? Math.max(1000, this.pollIntervalMs);
    this.commitDeadlineMs = opts.commitDeadlineMs ?? 30_000;
  }

  // ---- reads ----

  async get(key: ObjectKey): Promise<KObject | undefined> {
    const out = await this.call(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: objectPk(key.resource) }, sk: { S: objectSk(key.namespace, key.name) } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? objectOfItem(out.Item) : undefined;
  }

  async list(resource: string, opts: ListOptions = {}): Promise<ListResult> {
    let after: ContinueToken | undefined;
    if (opts.continue) {
      after = decodeContinue(opts.continue);
      if (!after) throw new InvalidContinueError('continue token is not valid');
    }
    const revision = after?.revision ?? opts.revision;
    if (revision !== undefined) return this.listAt(resource, revision, opts, after);
    // The revision first, then the objects: every change at or below it is
    // committed before the objects are read, so the items reflect it.
    const resourceVersion = await this.settledRevision(resource);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const items: KObject[] = [];
    let last: ContinueToken | undefined;
    let more = false;
    // Each item is a candidate: a predicate drops some, so pages are read larger than what is left to fill.
    const pageSize = () => (limit === Infinity ? MAX_PAGE : (limit + 1 - items.length) * (opts.predicate ? 4 : 1));
    for await (const { obj, key } of this.objectsInRange(resource, opts.namespace, opts.index, after, pageSize)) {
      if (opts.predicate && !opts.predicate(obj)) continue;
      if (items.length >= limit) {
        more = true;
        break;
      }
      items.push(obj);
      last = key;
    }
    const result: ListResult = { items, resourceVersion: String(resourceVersion) };
    if (more && last) result.continue = encodeContinue(last);
    return result;
  }

  /** The objects of a key range in key order: a namespace (or all), through the node index or not, after a continue key. */
  private async *objectsInRange(
    resource: string,
    namespace: string | undefined,
    index: ListOptions['index'],
    after: ContinueToken | undefined,
    pageSize: () => number,
  ): AsyncGenerator<{ obj: KObject; key: ContinueToken }> {
    const prefix = namespace !== undefined ? objectSk(namespace, '') : undefined;
    let startKey: Item | undefined;
    if (after) {
      const afterSk = objectSk(after.namespace, after.name);
      if (prefix !== undefined && !afterSk.startsWith(prefix)) {
        // A token from outside the namespace: resume at the namespace's start, or nothing is left.
        if (afterSk > prefix) return;
      } else {
        startKey = { pk: { S: objectPk(resource) }, sk: { S: afterSk } };
        if (index) startKey = { ...startKey, gsi1pk: { S: nodePk(index.nodeName) }, gsi1sk: { S: afterSk } };
      }
    }

    const names: Record<string, string> = { '#pk': index ? 'gsi1pk' : 'pk' };
    const values: Item = { ':pk': { S: index ? nodePk(index.nodeName) : objectPk(resource) } };
    let condition = '#pk = :pk';
    if (prefix !== undefined) {
      condition += ' AND begins_with(#sk, :prefix)';
      names['#sk'] = index ? 'gsi1sk' : 'sk';
      values[':prefix'] = { S: prefix };
    }
    const base: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      // The node index is eventually consistent (GSIs cannot be read
      // consistently): its users (the agent) relist periodically.
      ...(index ? { IndexName: BY_NODE_INDEX } : { ConsistentRead: true }),
    };

    do {
      const out = await this.call(() =>
        this.client.send(
          new QueryCommand({ ...base, Limit: Math.min(MAX_PAGE, Math.max(pageSize(), 1)), ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
        ),
      );
      for (const item of out.Items ?? []) {
        const obj = objectOfItem(item);
        if (!obj || (index && item.pk?.S !== objectPk(resource))) continue;
        yield { obj, key: splitObjectSk(item.sk!.S!) };
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * A list at an earlier revision (history.ts): the revision must be settled
   * (every slot up to it final) and not compacted; the objects are read,
   * then the log after the revision, whose first slot must still be there
   * (compaction or TTL may have taken it).
   */
  private async listAt(resource: string, revision: number, opts: ListOptions, after: ContinueToken | undefined): Promise<ListResult> {
    const settled = await this.settledRevision(resource);
    if (revision > settled) throw new FutureRevisionError(revision, settled);
    const current: KObject[] = [];
    for await (const { obj } of this.objectsInRange(resource, opts.namespace, undefined, after, () => MAX_PAGE)) current.push(obj);
    const inRange = (namespace: string, name: string) =>
      (opts.namespace === undefined || namespace === opts.namespace) &&
      (!after || namespace > after.namespace || (namespace === after.namespace && name > after.name));
    const changes: LoggedChange[] = [];
    let first = true;
    for (let position = revision; ;) {
      const entries = await this.readLog(resource, position, MAX_PAGE, false);
      if (first && revision < settled && entries[0]?.revision !== revision + 1) throw new CompactedError(revision, (entries[0]?.revision ?? revision + 1) - 1);
      first = false;
      for (const entry of entries) {
        if (entry.type === 'GAP') continue;
        const ns = entry.item.ns?.S ?? '';
        const name = entry.item.name?.S ?? '';
        if (!inRange(ns, name)) continue;
        changes.push({ revision: entry.revision, type: entry.type, namespace: ns, name, prev: eventOf(entry).prev });
      }
      if (entries.length < MAX_PAGE) break;
      position = entries[entries.length - 1]!.revision;
    }
    const counter = await this.readCounter(resource);
    if (revision < counter.compacted) throw new CompactedError(revision, counter.compacted);
    return pageAt(revision, objectsAt(revision, current, changes), opts);
  }

  async currentRevision(resource: string): Promise<number> {
    return this.settledRevision(resource);
  }

  // ---- writes ----

  async create(key: ObjectKey, obj: KObject): Promise<KObject> {
    const out = await this.commit(key, { kind: 'create', obj });
    if (!out.ok) throw new AlreadyExistsError(key, out.current);
    return out.event.object;
  }

  async update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    const expected = revisionOf(prev);
    if (expected === undefined) return { ok: false, current: await this.get(key) };
    const out = await this.commit(key, { kind: 'update', obj, prev, expected });
    return out.ok ? { ok: true, object: out.event.object } : out;
  }

  async delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    const expected = revisionOf(prev);
    if (expected === undefined) return { ok: false, current: await this.get(key) };
    const out = await this.commit(key, { kind: 'delete', prev, expected });
    return out.ok ? { ok: true, object: out.event.object } : out;
  }

  /**
   * Allocates the next revision of `resource`. Protected so tests can stall a
   * writer between allocation and commit, the window this design is about.
   */
  protected async allocate(resource: string): Promise<number> {
    if (!this.registered.has(resource)) {
      // Written before the first allocation so compaction always finds every
      // resource that has a log.
      await this.call(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: { pk: { S: DIRECTORY_PK }, sk: { S: resource } } })));
      this.registered.add(resource);
    }
    const out = await this.call(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: counterKey(resource),
          UpdateExpression: 'ADD #rev :one',
          ExpressionAttributeNames: { '#rev': 'rev' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return Number(out.Attributes!.rev!.N);
  }

  private async commit(key: ObjectKey, change: Change): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      // Taken before the counter moves: readers may see the hole from then on.
      const allocatedAt = performance.now();
      const rev = await this.allocate(key.resource);
      const event = eventFor(change, rev);
      const attempted = await this.attempt(key, change, event, allocatedAt);
      if (attempted === 'committed') return { ok: true, event };
      if (attempted !== 'slot-taken') return { ok: false, current: attempted.current };
      // A reader declared the slot abandoned; the object condition still holds, so go again.
      if (attempt >= MAX_ALLOCATIONS) throw new StoreBusyError(`gave up after ${attempt} revisions were declared abandoned before commit`);
    }
  }

  /** Runs the write's transaction at `event.revision`; every path out leaves the slot committed, abandoned, or released. */
  private async attempt(key: ObjectKey, change: Change, event: StoreEvent, allocatedAt: number): Promise<Attempt> {
    const rev = event.revision;
    const items = this.transactItems(key, change, event);
    for (let conflicts = 0; ; conflicts++) {
      const left = this.commitDeadlineMs - (performance.now() - allocatedAt);
      if (left <= 0) {
        await this.release(key.resource, rev, allocatedAt);
        return 'slot-taken';
      }
      const tries = { uncertain: false };
      try {
        await this.client.send(this.transaction(items, tries), { abortSignal: AbortSignal.timeout(Math.ceil(left)) });
        return 'committed';
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) {
          // A definite rejection (throttling) speaks only for the SDK's last try. When every try was rejected so,
          // nothing applied and the revision is given back. When one had an unknown outcome (a lost response, a
          // timeout), it may have committed: close the slot with a GAP, whose put fails on our own entry if one
          // is there. A slot left open then is an unknown outcome, never a 429.
          if (isDefiniteRejection(err) && !tries.uncertain) await this.release(key.resource, rev, allocatedAt);
          else {
            const closed = await this.abandon(key.resource, rev);
            if (closed === 'ours') return 'committed';
            if (closed === 'unknown' && isDefiniteRejection(err)) throw new Error(`write outcome unknown: ${(err as Error).message}`, { cause: err });
          }
          throw mapError(err);
        }
        const reasons = err.CancellationReasons ?? [];
        const [objectReason, logReason] = reasons;
        const slotTaken = logReason?.Code === 'ConditionalCheckFailed';
        // Only this writer ever puts a non-GAP entry at `rev`: finding one means
        // an earlier try of this very transaction (an SDK retry) committed.
        if (slotTaken && logReason.Item && logReason.Item.type?.S !== 'GAP') return 'committed';
        if (objectReason?.Code === 'ConditionalCheckFailed') {
          if (!slotTaken) await this.release(key.resource, rev, allocatedAt);
          return { current: objectReason.Item ? objectOfItem(objectReason.Item) : undefined };
        }
        if (slotTaken) return 'slot-taken';
        if (reasons.some((r) => r.Code === 'TransactionConflict') && conflicts < MAX_CONFLICT_RETRIES) {
          await sleep(10 * 2 ** conflicts * (0.5 + Math.random()));
          continue;
        }
        await this.release(key.resource, rev, allocatedAt);
        throw mapCancellation(err, reasons);
      }
    }
  }

  /**
   * The write's TransactWriteItems command, with a probe inside the SDK's
   * retry loop that notes whether any try failed without a definite
   * rejection (that try may have committed).
   */
  private transaction(items: TransactWriteItem[], tries: { uncertain: boolean }): TransactWriteItemsCommand {
    const command = new TransactWriteItemsCommand({ TransactItems: items });
    command.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (!(err instanceof TransactionCanceledException) && !isDefiniteRejection(err)) tries.uncertain = true;
          throw err;
        }
      },
      { step: 'deserialize', priority: 'high', name: 'kumoTryOutcome' },
    );
    return command;
  }

  private transactItems(key: ObjectKey, change: Change, event: StoreEvent): TransactWriteItem[] {
    const rev = event.revision;
    const sk = objectSk(key.namespace, key.name);
    const keyItem: Item = { pk: { S: objectPk(key.resource) }, sk: { S: sk } };
    let objectOp: TransactWriteItem;
    if (change.kind === 'delete') {
      objectOp = {
        Delete: {
          TableName: this.tableName,
          Key: keyItem,
          ConditionExpression: '#rev = :expected',
          ExpressionAttributeNames: { '#rev': 'rev' },
          ExpressionAttributeValues: { ':expected': { N: String(change.expected) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      };
    } else {
      const item: Item = { ...keyItem, rev: { N: String(rev) }, data: { B: encodeObject(event.object) } };
      const node = nodeIndexValue(key.resource, event.object);
      if (node !== undefined) {
        item.gsi1pk = { S: nodePk(node) };
        item.gsi1sk = { S: sk };
      }
      objectOp = {
        Put: {
          TableName: this.tableName,
          Item: item,
          ...(change.kind === 'create'
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
            : {
                ConditionExpression: '#rev = :expected',
                ExpressionAttributeNames: { '#rev': 'rev' },
                ExpressionAttributeValues: { ':expected': { N: String(change.expected) } },
              }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      };
    }
    const now = this.clock.now();
    const logItem: Item = {
      pk: { S: logPk(key.resource) },
      sk: { S: logSk(rev) },
      type: { S: event.type },
      ns: { S: key.namespace },
      name: { S: key.name },
      ...encodeLogChange(event),
      ts: { N: String(now) },
      ttl: { N: String(this.expiry(now)) },
    };
    const logOp: TransactWriteItem = {
      Put: {
        TableName: this.tableName,
        Item: logItem,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
    return [objectOp, logOp];
  }

  /**
   * Gives back a revision whose transaction certainly did not apply. While it
   * is still the newest allocation and young (no reader can have waited out
   * the gap timeout on it yet), the counter steps back, so a refused write
   * leaves no trace; otherwise the slot is closed with a GAP.
   */
  private async release(resource: string, rev: number, allocatedAt: number): Promise<void> {
    if (performance.now() - allocatedAt < this.gapTimeoutMs / 2) {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: counterKey(resource),
            UpdateExpression: 'SET #rev = :below',
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': { N: String(rev) }, ':below': { N: String(rev - 1) } },
          }),
        );
        return;
      } catch {
        // Someone allocated after us (or the call failed): close the slot instead.
      }
    }
    await this.abandon(resource, rev);
  }

  /**
   * Closes a slot with a GAP entry, best effort (readers close it after the
   * gap timeout anyway). Returns 'ours' when the slot turned out to hold a
   * real entry, which only the revision's own writer can have put there;
   * 'gap' when the slot is closed; 'unknown' when the put itself failed.
   */
  private async abandon(resource: string, rev: number): Promise<'gap' | 'ours' | 'unknown'> {
    try {
      await this.putGap(resource, rev);
      return 'gap';
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) || !err.Item) return 'unknown';
      return err.Item.type?.S !== 'GAP' ? 'ours' : 'gap';
    }
  }

  private async putGap(resource: string, rev: number): Promise<void> {
    const now = this.clock.now();
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: logPk(resource) },
          sk: { S: logSk(rev) },
          type: { S: 'GAP' },
          ts: { N: String(now) },
          ttl: { N: String(this.expiry(now)) },
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  }

  private expiry(nowMs: number): number {
    return Math.ceil((nowMs + this.retentionMs + TTL_SLACK_MS) / 1000);
  }

  // ---- the log ----

  private async readCounter(resource: string): Promise<Counter> {
    const out = await this.call(() => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: counterKey(resource), ConsistentRead: true })));
    return { rev: num(out.Item?.rev) ?? 0, compacted: num(out.Item?.compacted) ?? 0, head: num(out.Item?.head) ?? 0 };
  }

  private async readLog(resource: string, after: number, limit: number, keysOnly: boolean): Promise<LogEntry[]> {
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk > :after',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', ...(keysOnly ? { '#type': 'type', '#ts': 'ts' } : {}) },
          ExpressionAttributeValues: { ':pk': { S: logPk(resource) }, ':after': { S: logSk(after) } },
          ...(keysOnly ? { ProjectionExpression: '#sk, #type, #ts' } : {}),
          ConsistentRead: true,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map(parseLogEntry);
  }

  /**
   * The revision a list reports: the counter's value once every revision up
   * to it is committed or abandoned (walking the log from the known head), or
   * lower if the newest allocations were given back meanwhile.
   */
  private async settledRevision(resource: string): Promise<number> {
    const counter = await this.readCounter(resource);
    let target = counter.rev;
    let head = Math.max(this.heads.get(resource) ?? 0, counter.head, counter.compacted);
    while (head < target) {
      const entries = await this.readLog(resource, head, Math.min(SETTLE_PAGE, target - head), true);
      for (const e of entries) {
        if (e.revision !== head + 1) break;
        head = e.revision;
      }
      if (head >= target) break;
      const successor = entries.find((e) => e.revision > head + 1);
      const state = await this.resolveHole(resource, head + 1, successor, 'settle');
      if (state === 'final') head += 1;
      else if (state === 'released') target = head;
      else if (state === 'wait') await this.pause(Math.min(this.pollIntervalMs, this.gapTimeoutMs / 4));
    }
    this.advanceHead(resource, head);
    if (head - counter.head >= HINT_STRIDE) await this.raiseHint(resource, head).catch(() => undefined);
    return Math.max(target, head);
  }

  /**
   * Decides about the empty slot `rev`, the lowest revision not yet known
   * committed or abandoned. `successor` is the next entry above it, if seen.
   */
  private async resolveHole(resource: string, rev: number, successor: LogEntry | undefined, mode: 'watch' | 'settle'): Promise<HoleState> {
    // An entry above the hole older than the retention window means the slot
    // is older still: its writer is long past its commit deadline, and the
    // slot may be empty because the log expired (TTL) rather than abandoned.
    if (successor && successor.ts < this.clock.now() - this.retentionMs) {
      if (mode === 'watch') throw new CompactedError(rev - 1, successor.revision - 1);
      return 'final';
    }
    const counter = await this.readCounter(resource);
    if (rev <= counter.compacted) {
      if (mode === 'watch') throw new CompactedError(rev - 1, counter.compacted);
      return 'final';
    }
    const id = `${resource}\0${rev}`;
    if (counter.rev < rev) {
      // Given back by its writer (see release): nothing is in flight there,
      // and whoever allocates it next starts a new wait.
      this.holesSeen.delete(id);
      if (mode === 'settle') return 'released';
    }
    const now = performance.now();
    const seen = this.holesSeen.get(id);
    if (seen === undefined) {
      if (this.holesSeen.size > 10_000) this.holesSeen.clear();
      this.holesSeen.set(id, now);
    }
    if (counter.rev >= rev && now - (seen ?? now) < this.gapTimeoutMs) return 'wait';
    try {
      await this.putGap(resource, rev);
      this.holesSeen.delete(id);
      return 'final';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        this.holesSeen.delete(id);
        return 'present';
      }
      throw mapError(err);
    }
  }

  private advanceHead(resource: string, head: number): void {
    if (head > (this.heads.get(resource) ?? 0)) this.heads.set(resource, head);
  }

  private async raiseHint(resource: string, head: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: counterKey(resource),
          UpdateExpression: 'SET #head = :head',
          ConditionExpression: 'attribute_not_exists(#head) OR #head < :head',
          ExpressionAttributeNames: { '#head': 'head' },
          ExpressionAttributeValues: { ':head': { N: String(head) } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  watch(resource: string, opts: WatchOptions): AsyncIterable<StoreEvent> {
    return this.follow(resource, opts);
  }

  private async *follow(resource: string, opts: WatchOptions): AsyncGenerator<StoreEvent> {
    const counter = await this.readCounter(resource);
    if (opts.fromRevision < counter.compacted) throw new CompactedError(opts.fromRevision, counter.compacted);
    const signal = AbortSignal.any([opts.signal, this.closing.signal]);
    let position = opts.fromRevision;
    let idle = this.pollIntervalMs;
    while (!signal.aborted) {
      const entries = await unlessAborted(signal, () => this.readLog(resource, position, WATCH_PAGE, false));
      if (!entries) return;
      let progressed = false;
      let hole: LogEntry | undefined;
      for (const entry of entries) {
        if (entry.revision !== position + 1) {
          hole = entry;
          break;
        }
        position = entry.revision;
        progressed = true;
        if (entry.type !== 'GAP') {
          yield eventOf(entry);
          if (signal.aborted) return;
        }
      }
      this.advanceHead(resource, position);
      if (hole) {
        const state = await unlessAborted(signal, () => this.resolveHole(resource, position + 1, hole, 'watch'));
        if (!state) return;
        if (state === 'final') position += 1;
        else if (state === 'wait') await this.pause(Math.min(this.pollIntervalMs, this.gapTimeoutMs / 4), signal);
        continue;
      }
      if (progressed && entries.length === WATCH_PAGE) continue;
      idle = progressed ? this.pollIntervalMs : Math.min(this.maxPollIntervalMs, idle * 2);
      await this.pause(idle, signal);
    }
  }

  // ---- maintenance ----

  /**
   * Drops log entries older than the retention window. The compacted mark is
   * raised before anything is deleted, so a watcher never finds an entry gone
   * without the mark covering it; empty slots below an old entry are final
   * (their writers are past their commit deadline), so no waiting is needed.
   */
  async compact(): Promise<void> {
    const cutoff = this.clock.now() - this.retentionMs;
    for (const resource of await this.resources()) {
      const counter = await this.readCounter(resource);
      let mark = counter.compacted;
      const doomed: string[] = [];
      scan: for (let after = counter.compacted; ;) {
        const entries = await this.readLog(resource, after, SETTLE_PAGE, true);
        for (const e of entries) {
          if (e.ts >= cutoff) break scan;
          mark = e.revision;
          doomed.push(logSk(e.revision));
        }
        if (entries.length < SETTLE_PAGE) break;
        after = entries[entries.length - 1]!.revision;
      }
      if (mark <= counter.compacted) continue;
      try {
        await this.call(() =>
          this.client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: counterKey(resource),
              UpdateExpression: 'SET #compacted = :mark',
              ConditionExpression: 'attribute_not_exists(#compacted) OR #compacted < :mark',
              ExpressionAttributeNames: { '#compacted': 'compacted' },
              ExpressionAttributeValues: { ':mark': { N: String(mark) } },
            }),
          ),
        );
      } catch (err) {
        // Another compactor got further: it deletes its own range.
        if (err instanceof ConditionalCheckFailedException) continue;
        throw err;
      }
      await this.raiseHint(resource, mark);
      await this.deleteLogEntries(resource, doomed);
    }
  }

  private async resources(): Promise<string[]> {
    const out: string[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': 'pk' },
            ExpressionAttributeValues: { ':pk': { S: DIRECTORY_PK } },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) if (item.sk?.S) out.push(item.sk.S);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  private async deleteLogEntries(resource: string, sks: string[]): Promise<void> {
    for (let i = 0; i < sks.length; i += 25) {
      let requests: { DeleteRequest: { Key: Item } }[] = sks
        .slice(i, i + 25)
        .map((sk) => ({ DeleteRequest: { Key: { pk: { S: logPk(resource) }, sk: { S: sk } } } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
        if (round > 8) throw new StoreBusyError('compaction could not delete log entries: DynamoDB kept them unprocessed');
        const out = await this.call(() => this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } })));
        requests = (out.UnprocessedItems?.[this.tableName] ?? []).flatMap((r) =>
          r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : [],
        );
      }
    }
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    if (this.ownsClient) this.client.destroy();
  }

  // ---- plumbing ----

  private async call<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw mapError(err);
    }
  }

  /** Sleeps, waking early when the store closes or `signal` aborts. */
  private pause(ms: number, signal: AbortSignal = this.closing.signal): Promise<void> {
    return sleep(ms, signal);
  }
}

/** The revision an object was read at; undefined when it carries none (no stored object can match it). */
function revisionOf(obj: KObject): number | undefined {
  const rv = obj.metadata.resourceVersion;
  return rv !== undefined && /^[1-9]\d*$/.test(rv) ? Number(rv) : undefined;
}

function eventFor(change: Change, rev: number): StoreEvent {
  switch (change.kind) {
    case 'create':
      return { type: 'ADDED', object: withResourceVersion(change.obj, rev), revision: rev };
    case 'update':
      return { type: 'MODIFIED', object: withResourceVersion(change.obj, rev), prev: change.prev, revision: rev };
    case 'delete':
      return { type: 'DELETED', object: withResourceVersion(change.prev, rev), prev: change.prev, revision: rev };
  }
}

function eventOf(entry: LogEntry): StoreEvent {
  return { type: entry.type as WatchEventType, revision: entry.revision, ...decodeLogChange(entry.type, entry.item) };
}

/** Runs a watcher's request; a failure after the watch was stopped (or the store closed under it) just ends the watch. */
async function unlessAborted<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (signal.aborted) return undefined;
    throw err;
  }
}
