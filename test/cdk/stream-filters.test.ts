/**
 * The event source mappings' filters (lib/cloud/stream-filters.ts) against
 * the reconcilers' own watches: every change a reconciler would queue a key
 * for passes its function's filter, and what the filters drop (lease
 * renewals, new events, object and counter items, GAPs, compaction's
 * deletions) is what no reconciler acts on. Records are built as Lambda
 * delivers them (binary as base64) and decoded by the stream driver itself.
 */
import { describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { resourceOfStoreKey, resourceTypes } from '#lib/kinds/resources';
import { storeResource } from '#lib/api/store-key';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { CONTROLLER_FILTERS, passesFilters, SCHEDULER_FILTERS, type FilterPattern } from '#lib/cloud/stream-filters';
import { controllerReconcilers, schedulerReconciler } from '#lib/assembly/control-plane';
import { keysFor, type Reconciler } from '#lib/controller-runtime/reconciler';
import { changeOf, type StreamRecord } from '#lib/controller-runtime/stream-driver';
import { encodeChange, logSk } from '#lib/store/dynamodb-table';
import { SqliteStore } from '#lib/store/sqlite';

const client = new KubeClient(new InProcessTransport(new ApiServer({ store: new SqliteStore({ path: ':memory:' }) }), ADMIN));
const consumers: { name: string; filters: readonly FilterPattern[]; reconcilers: Reconciler[] }[] = [
  { name: 'controllers', filters: CONTROLLER_FILTERS, reconcilers: controllerReconcilers(client) },
  { name: 'scheduler', filters: SCHEDULER_FILTERS, reconcilers: [schedulerReconciler(client)] },
];

type LogType = 'ADDED' | 'MODIFIED' | 'DELETED';
const TYPES: LogType[] = ['ADDED', 'MODIFIED', 'DELETED'];

/** A log item's INSERT record, as a DynamoDB stream event source mapping hands it to Lambda. */
function logRecord(resource: string, type: string, object: KObject, prev?: KObject): StreamRecord & Record<string, unknown> {
  return {
    eventID: '1',
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: '100',
      NewImage: {
        pk: { S: `l#${resource}` },
        sk: { S: logSk(7) },
        type: { S: type },
        ns: { S: object.metadata.namespace ?? '' },
        name: { S: object.metadata.name ?? '' },
        data: { B: Buffer.from(encodeChange(object, prev)).toString('base64') },
        ts: { N: '1767225600000' },
        ttl: { N: '1767229800' },
      },
    },
  };
}

/** Objects of a resource in the shapes the reconcilers distinguish: owned, orphaned, terminating, bound or not. */
function variants(rt: (typeof resourceTypes)[number]): { object: KObject; prev: KObject }[] {
  const base = (extra: Partial<KObject['metadata']>, spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KObject => ({
    apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version,
    kind: rt.kind,
    metadata: { name: 'x', ...(rt.namespaced ? { namespace: 'default' } : {}), uid: 'u-1', resourceVersion: '7', labels: { app: 'web' }, ...extra },
    spec,
    status,
  });
  const owner = (kind: string) => [{ apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1', kind, name: 'owner', uid: 'o-1', controller: true }];
  const out = [
    base({}),
    base({ ownerReferences: owner('ReplicaSet') }, { nodeName: 'node-a' }),
    base({ ownerReferences: owner('Deployment') }),
    base({ ownerReferences: owner('Job') }, {}, { phase: 'Succeeded' }),
    base({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }),
    base({}, { nodeName: 'node-a' }, { phase: 'Failed' }),
  ];
  // prev: the same object before the change (unbound, running, no deletion).
  return out.map((object) => ({
    object,
    prev: { ...object, metadata: { ...object.metadata, deletionTimestamp: undefined }, spec: {}, status: { phase: 'Running' } } as KObject,
  }));
}

describe('event filters of the stream mappings', () => {
  for (const c of consumers) {
    it(`let through every change the ${c.name} would queue a key for`, async () => {
      const missed: string[] = [];
      for (const rt of resourceTypes) {
        for (const type of TYPES) {
          for (const { object, prev } of variants(rt)) {
            const record = logRecord(rt.resource, type, object, type === 'MODIFIED' ? prev : undefined);
            const event = changeOf(record)!;
            expect(event.resource).toBe(rt.resource);
            const keys = await keysFor(c.reconcilers, event);
            if (keys.length > 0 && !passesFilters(c.filters, record))
              missed.push(`${rt.resource} ${type} → ${keys.map((k) => `${k.reconciler.name}:${k.key}`).join(', ')}`);
          }
        }
      }
      expect(missed).toEqual([]);
    });

    it(`pass every resource the ${c.name} declare a watch on, for some change`, () => {
      const watched = new Set(c.reconcilers.flatMap((r) => r.watches.map((w) => w.resource)));
      for (const resource of watched) {
        const obj = variants(resourceOfStoreKey(resource)!)[0]!.object;
        expect(
          TYPES.some((type) => passesFilters(c.filters, logRecord(resource, type, obj))),
          resource,
        ).toBe(true);
      }
    });
  }

  it('keep lease renewals and new events from the controllers, which act on neither', async () => {
    const controllers = consumers[0]!;
    for (const resource of ['leases', 'events']) {
      const rt = resourceTypes.find((t) => t.resource === resource)!;
      for (const type of ['ADDED', 'MODIFIED'] as const) {
        for (const { object, prev } of variants(rt)) {
          const record = logRecord(resource, type, object, type === 'MODIFIED' ? prev : undefined);
          expect(passesFilters(controllers.filters, record), `${resource} ${type}`).toBe(false);
          expect(await keysFor(controllers.reconcilers, changeOf(record)!)).toEqual([]);
        }
      }
      // Their deletions do reach the controllers (the namespace controller waits for a terminating namespace to empty).
      expect(passesFilters(controllers.filters, logRecord(resource, 'DELETED', variants(rt)[0]!.object))).toBe(true);
    }
    expect(
      passesFilters(consumers[1]!.filters, logRecord('leases', 'MODIFIED', variants(resourceTypes.find((t) => t.resource === 'leases')!)[0]!.object)),
    ).toBe(false);
  });

  it('tell a custom resource that shares a built-in plural from the built-in: its own store key, no built-in watch, not quiet', async () => {
    for (const rt of resourceTypes.filter((t) => ['pods', 'nodes', 'events', 'leases', 'deployments'].includes(t.resource))) {
      const resource = storeResource({ group: 'example.com', resource: rt.resource });
      for (const type of TYPES) {
        const object: KObject = {
          apiVersion: 'example.com/v1',
          kind: rt.kind,
          metadata: { name: 'x', namespace: 'default', uid: 'c-1', resourceVersion: '7' },
        };
        const record = logRecord(resource, type, object);
        expect(changeOf(record)!.resource).toBe(`example.com/${rt.resource}`);
        // Only the built-ins are quiet (events, leases) or the scheduler's (pods, nodes).
        expect(passesFilters(consumers[0]!.filters, record), `${resource} ${type}`).toBe(true);
        expect(passesFilters(consumers[1]!.filters, record), `${resource} ${type}`).toBe(false);
        for (const c of consumers) expect(await keysFor(c.reconcilers, changeOf(record)!), `${resource} ${type}`).toEqual([]);
      }
    }
  });

  it('drop object, counter and directory items, GAP entries and compaction', () => {
    const obj = (pk: string, sk: string, extra: Record<string, unknown> = {}) => ({ pk: { S: pk }, sk: { S: sk }, ...extra });
    const records = [
      { eventName: 'INSERT', dynamodb: { NewImage: obj('o#pods', 'default#x', { rev: { N: '7' }, data: { B: 'AA==' } }) } },
      { eventName: 'MODIFY', dynamodb: { NewImage: obj('o#pods', 'default#x', { rev: { N: '8' } }) } },
      { eventName: 'MODIFY', dynamodb: { NewImage: obj('c#pods', 'c', { rev: { N: '8' } }) } },
      { eventName: 'INSERT', dynamodb: { NewImage: obj('r', 'pods') } },
      { eventName: 'INSERT', dynamodb: { NewImage: obj('l#pods', logSk(9), { type: { S: 'GAP' } }) } },
      { eventName: 'REMOVE', dynamodb: { OldImage: obj('l#pods', logSk(3), { type: { S: 'ADDED' } }) } },
    ];
    for (const c of consumers) for (const r of records) expect(passesFilters(c.filters, r), JSON.stringify(r)).toBe(false);
  });
});
