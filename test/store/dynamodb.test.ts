/**
 * The DynamoDB store on a real emulator (moto_server, or whatever
 * AWS_ENDPOINT_URL names): the shared contract, then what only this backend
 * has: revisions allocated before they commit, gaps, and several API-server
 * instances ("Lambda containers") sharing one table.
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { KObject, ObjectKey } from '#lib/api/object';
import { DynamoDbStore, type DynamoDbStoreOptions } from '#lib/store/dynamodb';
import { counterKey, decodeLogImage, decodeObjectImage, encodeChange, encodeLogChange, encodeObject, logPk, logSk } from '#lib/store/dynamodb-table';
import { CompactedError, type Store, type StoreEvent, TooLargeError } from '#lib/store/types';
import { ManualClock } from '#lib/util/clock';
import { ensureEmulator, newStoreTable as newTable } from '../helpers/moto.js';
import { storeContract } from './contract.js';

const emulator = await ensureEmulator();
afterAll(async () => {
  await emulator?.stop();
});

const FAST = { pollIntervalMs: 25, maxPollIntervalMs: 100 } satisfies Partial<DynamoDbStoreOptions>;

if (emulator) {
  const tables = new WeakMap<Store, string>();
  storeContract(
    'dynamodb',
    {
      async make({ clock, retentionMs }) {
        const tableName = await newTable();
        const store = new DynamoDbStore({ tableName, clock, ...FAST, ...(retentionMs !== undefined ? { retentionMs } : {}) });
        tables.set(store, tableName);
        return store;
      },
      async reopen(store) {
        await store.close();
        return new DynamoDbStore({ tableName: tables.get(store)!, ...FAST });
      },
      revisions: 'allocated',
    },
    () => new ManualClock(),
  );
}

function pod(name: string, labels: Record<string, string> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

function key(name: string): ObjectKey {
  return { resource: 'pods', namespace: 'default', name };
}

/** A store whose next write stalls between allocating its revision and committing, until resumed: a frozen Lambda, a slow network. */
class StallingStore extends DynamoDbStore {
  private gate: { allocated: (rev: number) => void; resume: Promise<void> } | undefined;

  stallNextWrite(): { allocated: Promise<number>; resume: () => void } {
    let allocated!: (rev: number) => void;
    let resume!: () => void;
    const allocatedP = new Promise<number>((r) => (allocated = r));
    const resumeP = new Promise<void>((r) => (resume = r));
    this.gate = { allocated, resume: resumeP };
    return { allocated: allocatedP, resume };
  }

  protected override async allocate(resource: string): Promise<number> {
    const rev = await super.allocate(resource);
    const gate = this.gate;
    if (gate) {
      this.gate = undefined;
      gate.allocated(rev);
      await gate.resume;
    }
    return rev;
  }
}

/** A client that counts the SDK calls made through it, by command. */
function countingClient(): {
  client: DynamoDBClient;
  calls: Record<string, number>;
  reset(): void;
  onCall(fn: (command: string, input: unknown) => void): void;
} {
  const client = new DynamoDBClient({});
  const calls: Record<string, number> = {};
  const listeners: ((command: string, input: unknown) => void)[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      calls[name] = (calls[name] ?? 0) + 1;
      for (const l of listeners) l(name, args.input);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return {
    client,
    calls,
    reset: () => {
      for (const k of Object.keys(calls)) delete calls[k];
    },
    onCall: (fn) => listeners.push(fn),
  };
}

/** Reads events one at a time from a watch. */
function reader(iterable: AsyncIterable<StoreEvent>): (timeoutMs?: number) => Promise<StoreEvent> {
  const it = iterable[Symbol.asyncIterator]();
  return async (timeoutMs = 10_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no watch event within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const next = await Promise.race([it.next(), timeout]);
      if (next.done) throw new Error('watch ended');
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  };
}

const names = (r: { items: KObject[] }) => r.items.map((o) => o.metadata.name);

describe.skipIf(!emulator)('DynamoDbStore on the emulator', () => {
  it('declares a revision whose writer never writes abandoned after the gap timeout, and watchers move past it', async () => {
    const tableName = await newTable();
    const store = new DynamoDbStore({ tableName, gapTimeoutMs: 300, ...FAST });
    const raw = new DynamoDBClient({});
    const ac = new AbortController();
    try {
      await store.create(key('a'), pod('a'));
      // A writer allocates revision 2 and dies before writing anything.
      const allocated = await raw.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: counterKey('pods'),
          UpdateExpression: 'ADD #rev :one',
          ExpressionAttributeNames: { '#rev': 'rev' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      expect(allocated.Attributes?.rev?.N).toBe('2');
      const next = reader(store.watch('pods', { fromRevision: 1, signal: ac.signal }));
      await store.create(key('b'), pod('b'));

      const event = await next();
      expect([event.type, event.object.metadata.name, event.revision]).toEqual(['ADDED', 'b', 3]);
      const slot = await raw.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: logPk('pods') }, sk: { S: logSk(2) } }, ConsistentRead: true }));
      expect(slot.Item?.type?.S).toBe('GAP');
      const list = await store.list('pods');
      expect(list.resourceVersion).toBe('3');
      expect(names(list)).toEqual(['a', 'b']);
    } finally {
      ac.abort();
      raw.destroy();
      await store.close();
    }
  });

  it("refuses a stalled writer's commit at its abandoned revision and retries it under a new one", async () => {
    const tableName = await newTable();
    const store = new DynamoDbStore({ tableName, gapTimeoutMs: 300, ...FAST });
    const slow = new StallingStore({ tableName, gapTimeoutMs: 300, ...FAST });
    const ac = new AbortController();
    try {
      await store.create(key('a'), pod('a'));
      const stall = slow.stallNextWrite();
      const slowCreate = slow.create(key('slow'), pod('slow'));
      expect(await stall.allocated).toBe(2);
      const next = reader(store.watch('pods', { fromRevision: 1, signal: ac.signal }));
      await store.create(key('b'), pod('b'));

      // The watcher gives up on revision 2 and delivers 3.
      const first = await next();
      expect([first.object.metadata.name, first.revision]).toEqual(['b', 3]);

      // The writer wakes: revision 2 is closed to it, so it commits under 4.
      stall.resume();
      const created = await slowCreate;
      expect(created.metadata.resourceVersion).toBe('4');
      const second = await next();
      expect([second.type, second.object.metadata.name, second.revision]).toEqual(['ADDED', 'slow', 4]);
      expect((await store.get(key('slow')))?.metadata.resourceVersion).toBe('4');
    } finally {
      ac.abort();
      await slow.close();
      await store.close();
    }
  });

  it('lists at a revision that covers a write in flight when the list began', async () => {
    const tableName = await newTable();
    const counted = countingClient();
    // A long gap timeout: the in-flight write lands while the list waits for it.
    const store = new DynamoDbStore({ tableName, client: counted.client, gapTimeoutMs: 20_000, ...FAST });
    const slow = new StallingStore({ tableName, ...FAST });
    const ac = new AbortController();
    try {
      await store.create(key('a'), pod('a'));
      const stall = slow.stallNextWrite();
      const slowCreate = slow.create(key('slow'), pod('slow'));
      await stall.allocated;
      await store.create(key('b'), pod('b'));
      // Resume the writer once the list is walking the log up to the revision it read.
      counted.onCall((command, input) => {
        if (command === 'QueryCommand' && JSON.stringify(input).includes(logPk('pods'))) stall.resume();
      });
      const list = await store.list('pods');
      expect(list.resourceVersion).toBe('3');
      expect(names(list)).toEqual(['a', 'b', 'slow']);
      expect((await slowCreate).metadata.resourceVersion).toBe('2');

      const next = reader(store.watch('pods', { fromRevision: Number(list.resourceVersion), signal: ac.signal }));
      await store.create(key('c'), pod('c'));
      const event = await next();
      expect([event.object.metadata.name, event.revision]).toEqual(['c', 4]);
    } finally {
      ac.abort();
      await slow.close();
      await store.close();
      counted.client.destroy();
    }
  });

  it('delivers a write abandoned by a list to watchers from that list, under its new revision', async () => {
    const tableName = await newTable();
    const store = new DynamoDbStore({ tableName, gapTimeoutMs: 300, ...FAST });
    const slow = new StallingStore({ tableName, ...FAST });
    const ac = new AbortController();
    try {
      await store.create(key('a'), pod('a'));
      const stall = slow.stallNextWrite();
      const slowCreate = slow.create(key('slow'), pod('slow'));
      await stall.allocated;
      await store.create(key('b'), pod('b'));
      const list = await store.list('pods');
      expect(list.resourceVersion).toBe('3');
      expect(names(list)).toEqual(['a', 'b']);

      const next = reader(store.watch('pods', { fromRevision: 3, signal: ac.signal }));
      stall.resume();
      expect((await slowCreate).metadata.resourceVersion).toBe('4');
      const event = await next();
      expect([event.type, event.object.metadata.name, event.revision]).toEqual(['ADDED', 'slow', 4]);
    } finally {
      ac.abort();
      await slow.close();
      await store.close();
    }
  });

  it('does not make a list wait for the revision of a write that was refused', async () => {
    const tableName = await newTable();
    const counted = countingClient();
    // Gap timeouts far beyond the test's: only the refused writer giving its revision back lets the list finish.
    const store = new DynamoDbStore({ tableName, client: counted.client, gapTimeoutMs: 20_000, ...FAST });
    const slow = new StallingStore({ tableName, gapTimeoutMs: 20_000, ...FAST });
    try {
      const v1 = await store.create(key('a'), pod('a'));
      const v2 = await store.update(key('a'), { ...v1, metadata: { ...v1.metadata, labels: { v: '2' } } }, v1);
      expect(v2.ok).toBe(true);
      const stall = slow.stallNextWrite();
      const stale = slow.update(key('a'), { ...v1, metadata: { ...v1.metadata, labels: { v: 'stale' } } }, v1);
      expect(await stall.allocated).toBe(3);
      counted.onCall((command, input) => {
        if (command === 'QueryCommand' && JSON.stringify(input).includes(logPk('pods'))) stall.resume();
      });
      const list = await store.list('pods');
      expect(list.resourceVersion).toBe('2');
      expect(list.items.map((o) => o.metadata.labels)).toEqual([{ v: '2' }]);
      const refused = await stale;
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.current?.metadata.resourceVersion).toBe('2');
      expect((await store.create(key('b'), pod('b'))).metadata.resourceVersion).toBe('3');
    } finally {
      await slow.close();
      await store.close();
      counted.client.destroy();
    }
  });

  it('ends a watch that fell behind compaction with CompactedError', async () => {
    const tableName = await newTable();
    const clock = new ManualClock();
    const store = new DynamoDbStore({ tableName, clock, retentionMs: 1000, ...FAST });
    const ac = new AbortController();
    try {
      await store.create(key('a'), pod('a'));
      const next = reader(store.watch('pods', { fromRevision: 0, signal: ac.signal }));
      expect((await next()).revision).toBe(1);
      await store.create(key('b'), pod('b'));
      await store.create(key('c'), pod('c'));
      clock.advance(5000);
      await store.create(key('d'), pod('d'));
      await store.compact();
      await expect(next()).rejects.toBeInstanceOf(CompactedError);
      // A watch from the compacted revision itself still works.
      const again = reader(store.watch('pods', { fromRevision: 3, signal: ac.signal }));
      expect((await again()).object.metadata.name).toBe('d');
    } finally {
      ac.abort();
      await store.close();
    }
  });

  it('lets two store instances racing on one object succeed exactly once per version', async () => {
    const tableName = await newTable();
    const instances = [new DynamoDbStore({ tableName, ...FAST }), new DynamoDbStore({ tableName, ...FAST })];
    const ac = new AbortController();
    try {
      const created = await instances[0]!.create(key('x'), pod('x'));
      const wins: { base: string; rv: string; writer: number }[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async (_, writer) => {
          const store = instances[writer % 2]!;
          for (let attempt = 0; attempt < 4; attempt++) {
            const cur = (await store.get(key('x')))!;
            const r = await store.update(key('x'), { ...cur, metadata: { ...cur.metadata, labels: { writer: String(writer) } } }, cur);
            if (r.ok) wins.push({ base: cur.metadata.resourceVersion!, rv: r.object.metadata.resourceVersion!, writer });
            else expect(r.current?.metadata.resourceVersion).not.toBe(cur.metadata.resourceVersion);
          }
        }),
      );
      // One success per base version, and the successes form one chain from the creation.
      const bases = wins.map((w) => w.base);
      expect(new Set(bases).size).toBe(bases.length);
      const chain = [...wins].sort((p, q) => Number(p.rv) - Number(q.rv));
      chain.forEach((w, i) => expect(w.base).toBe(i === 0 ? created.metadata.resourceVersion : chain[i - 1]!.rv));
      const final = await instances[1]!.get(key('x'));
      expect(final?.metadata.resourceVersion).toBe(chain.at(-1)!.rv);
      expect(final?.metadata.labels).toEqual({ writer: String(chain.at(-1)!.writer) });
      // Both instances agree on the revision, and a watch replays exactly the successes.
      const rv = await instances[0]!.currentRevision('pods');
      expect(await instances[1]!.currentRevision('pods')).toBe(rv);
      const next = reader(instances[1]!.watch('pods', { fromRevision: 1, signal: ac.signal }));
      for (const w of chain) {
        const e = await next();
        expect([e.type, e.revision, e.object.metadata.labels]).toEqual(['MODIFIED', Number(w.rv), { writer: String(w.writer) }]);
      }
    } finally {
      ac.abort();
      for (const s of instances) await s.close();
    }
  });

  it('refuses an object over the item size limit with TooLargeError and changes nothing', async () => {
    const tableName = await newTable();
    const store = new DynamoDbStore({ tableName, ...FAST });
    try {
      // Random text does not compress: well over DynamoDB's 400 KB per item.
      const big = { ...pod('big'), metadata: { name: 'big', namespace: 'default', annotations: { blob: randomText(800_000) } } };
      await expect(store.create(key('big'), big)).rejects.toBeInstanceOf(TooLargeError);
      expect(await store.get(key('big'))).toBeUndefined();
      expect(await store.currentRevision('pods')).toBe(0);
      expect((await store.create(key('small'), pod('small'))).metadata.resourceVersion).toBe('1');
    } finally {
      await store.close();
    }
  });

  it('costs one counter update and one transaction per write on a warm instance', async () => {
    const tableName = await newTable();
    const counted = countingClient();
    const store = new DynamoDbStore({ tableName, client: counted.client, ...FAST });
    try {
      const measure = async <T>(fn: () => Promise<T>): Promise<Record<string, number>> => {
        counted.reset();
        await fn();
        return { ...counted.calls };
      };
      // The first write of a resource in an instance also registers the resource for compaction.
      expect(await measure(() => store.create(key('a'), pod('a')))).toEqual({ PutItemCommand: 1, UpdateItemCommand: 1, TransactWriteItemsCommand: 1 });
      let b!: KObject;
      expect(await measure(async () => (b = await store.create(key('b'), pod('b'))))).toEqual({ UpdateItemCommand: 1, TransactWriteItemsCommand: 1 });
      let b2!: KObject;
      expect(
        await measure(async () => {
          const r = await store.update(key('b'), { ...b, metadata: { ...b.metadata, labels: { v: '2' } } }, b);
          if (r.ok) b2 = r.object;
        }),
      ).toEqual({ UpdateItemCommand: 1, TransactWriteItemsCommand: 1 });
      // A refused write gives its revision back: one more counter update.
      expect(await measure(() => store.update(key('b'), b, b))).toEqual({ UpdateItemCommand: 2, TransactWriteItemsCommand: 1 });
      expect(await measure(() => store.delete(key('b'), b2))).toEqual({ UpdateItemCommand: 1, TransactWriteItemsCommand: 1 });
      expect(await measure(() => store.get(key('a')))).toEqual({ GetItemCommand: 1 });
      // A list on an instance that has seen the log up to the counter: the counter, then the objects.
      await store.list('pods');
      expect(await measure(() => store.list('pods'))).toEqual({ GetItemCommand: 1, QueryCommand: 1 });
    } finally {
      await store.close();
      counted.client.destroy();
    }
  });
});

describe('DynamoDB item images', () => {
  it('decodes log and object images as a Lambda stream event carries them (binary as base64)', () => {
    const before = { ...pod('a'), metadata: { ...pod('a').metadata, resourceVersion: '6' } };
    const after = { ...before, metadata: { ...before.metadata, resourceVersion: '7', labels: { v: '2' } } };
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const log = decodeLogImage({
      pk: { S: 'l#pods' },
      sk: { S: logSk(7) },
      type: { S: 'MODIFIED' },
      data: { B: b64(encodeChange(after, before)) },
    });
    expect(log).toEqual({ resource: 'pods', type: 'MODIFIED', revision: 7, object: after, prev: before });
    expect(decodeLogImage({ pk: { S: 'l#pods' }, sk: { S: logSk(8) }, type: { S: 'GAP' } })).toBeUndefined();
    // A deletion's entry holds the object once; its previous revision rebuilds the previous object.
    const gone = { ...after, metadata: { ...after.metadata, resourceVersion: '9' } };
    const deletion = encodeLogChange({ type: 'DELETED', object: gone, prev: after });
    expect(deletion.prevRev).toEqual({ N: '7' });
    expect(
      decodeLogImage({ pk: { S: 'l#pods' }, sk: { S: logSk(9) }, type: { S: 'DELETED' }, data: { B: b64(deletion.data!.B!) }, prevRev: deletion.prevRev! }),
    ).toEqual({
      resource: 'pods',
      type: 'DELETED',
      revision: 9,
      object: gone,
      prev: after,
    });
    expect(decodeObjectImage({ pk: { S: 'o#pods' }, sk: { S: 'default#a' }, data: { B: encodeObject(after) } })).toEqual({
      resource: 'pods',
      namespace: 'default',
      name: 'a',
      object: after,
    });
    expect(decodeObjectImage({ pk: { S: 'c#pods' }, sk: { S: 'c' } })).toBeUndefined();
  });
});

function randomText(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64')
    .slice(0, length);
}
