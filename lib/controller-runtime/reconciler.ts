/**
 * The controller runtime: level-triggered reconcilers fed by change hints
 * (after controller-runtime). A change event is never acted on directly: it
 * only names keys to reconcile, and `reconcile(key)` re-reads current state.
 * Delivery of hints may be duplicated, reordered or lost; a periodic resync
 * re-queues every key so lost hints are repaired.
 */
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import type { KubeClient } from '../client/client.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (e.g. to wait out minReadySeconds or a grace period). */
  requeueAfterMs?: number;
}

/** A change seen on the feed: the object after (or, for deletions, at) the change, and before it when known. */
export interface ChangeEvent {
  /** The store key of the changed object's resource (storeResource in lib/api/store-key.ts). */
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
  prev?: KObject;
}

/** What a driver feeds: changes of `resources`, a load at start, a reset where changes may have been missed. */
export interface SharedCache {
  /** Store keys (storeResource) of the resources it follows. */
  readonly resources: readonly string[];
  /** Applies a change from the feed. Changes at or below the view's revision are already reflected and ignored. */
  observe(e: ChangeEvent): void;
  /** Loads every resource and follows the feed from now on (the local driver calls this at start and after falling behind). */
  prime(): Promise<void>;
  /** Forgets every view: the next read of each resource lists it again (stream batches, resyncs). */
  invalidate(): void;
}

export interface Watch {
  /** The store key (storeResource) of the watched resource: change events name resources by it. */
  resource: string;
  /** Keys of this reconciler to queue for a change of `resource`. */
  keys(event: ChangeEvent): string[] | Promise<string[]>;
}

export interface Reconciler {
  /** Unique name, used in logs and as the key namespace of the queue. */
  readonly name: string;
  /** Changes that should trigger reconciles. */
  readonly watches: readonly Watch[];
  /** Every key that exists now (for resyncs). */
  listKeys(): Promise<string[]>;
  /**
   * Drives the key toward its desired state. Must be idempotent and safe to
   * run concurrently with itself in another process: act only through
   * conditional writes and re-read on conflict.
   */
  reconcile(key: string): Promise<ReconcileResult | void>;
  /** For reconcilers with a cache: sees every change event before keys are queued. */
  observe?(event: ChangeEvent): void;
  /** For reconcilers with a cache: (re)builds it from a full read. Called at start and where events may have been missed. */
  prime?(): Promise<void>;
  /**
   * Caches the reconciler reads, possibly shared with others: a driver feeds
   * each distinct cache every change once (before keys are queued), primes it
   * where it follows the whole feed, and invalidates it where it does not.
   */
  readonly caches?: readonly SharedCache[];
  /**
   * Changes to one key within this long of its last reconcile are handled
   * together by one later reconcile (a queue that follows a change feed: the
   * local driver). For owners of many objects, whose every dependent's change
   * queues them. @default 0
   */
  readonly coalesceMs?: number;
  /**
   * Which of two waiting keys to reconcile first (negative: `a`), for a
   * reconciler whose order matters (the scheduler: higher priority first).
   * Drivers follow it where they hold several keys at once; equals keep
   * their order of arrival. @default order of arrival
   */
  compareKeys?(a: string, b: string): number;
}

/** Keys in the order the reconciler wants them (compareKeys), stable among equals. */
export function inReconcileOrder(reconciler: Reconciler, keys: string[]): string[] {
  return reconciler.compareKeys ? [...keys].sort((a, b) => reconciler.compareKeys!(a, b)) : keys;
}

/** How soon to retry after losing a compare-and-swap: the state is fresh again at once. */
export const CONFLICT_RETRY_MS = 10;

/** How often at most an owner of many objects is reconciled while they change (see Reconciler.coalesceMs). */
export const OWNER_COALESCE_MS = 100;

/** The key of every object of a resource: what a reconciler of that resource lists on a resync. */
export async function allKeys(client: KubeClient, rt: ResourceType): Promise<string[]> {
  return (await client.listAll(rt, undefined)).items.map(objectKey);
}

/** The distinct caches of a set of reconcilers. */
export function cachesOf(reconcilers: readonly Reconciler[]): SharedCache[] {
  return [...new Set(reconcilers.flatMap((r) => r.caches ?? []))];
}

/** `namespace/name` (or `name` for cluster-scoped objects) of an object. */
export function objectKey(obj: KObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata.name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Keys for a change of the reconciler's own resource. */
export function selfWatch(resource: string): Watch {
  return { resource, keys: (e) => [objectKey(e.object)] };
}

/** Keys of the controller owners of kind `kind` of a changed object (and of its previous owner, if it changed). */
export function ownerWatch(resource: string, kind: string): Watch {
  return {
    resource,
    keys(e) {
      const out = new Set<string>();
      for (const obj of [e.object, e.prev]) {
        const ref = obj?.metadata.ownerReferences?.find((r) => r.controller && r.kind === kind);
        if (ref && obj) out.add(obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name);
      }
      return [...out];
    },
  };
}

/** Routes change events to the keys of every reconciler that watches them. */
export async function keysFor(reconcilers: readonly Reconciler[], event: ChangeEvent): Promise<{ reconciler: Reconciler; key: string }[]> {
  const out: { reconciler: Reconciler; key: string }[] = [];
  for (const r of reconcilers) {
    for (const w of r.watches) {
      if (w.resource !== event.resource) continue;
      for (const key of await w.keys(event)) out.push({ reconciler: r, key });
    }
  }
  return out;
}
