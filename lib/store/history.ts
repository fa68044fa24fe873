/**
 * Lists at an earlier revision (Kubernetes' Exact list), the same way for
 * every backend: the store keeps only the objects now and a log of changes,
 * so the objects at revision R are the objects now rewound through the log.
 * A key's state at R is what its first change after R found: nothing before
 * an ADDED, the previous object before a MODIFIED or DELETED; a key with no
 * change after R is as it is now.
 *
 * The backends read the objects first and the log after, and that order
 * needs no snapshot: every change the objects show committed before they were
 * read, so its log entry is there; a change read from the log that the
 * objects do not show yet found exactly the object that was read.
 */
import type { KObject } from '../api/object.js';
import { encodeContinue } from './indexes.js';
import { CompactedError, type ListOptions, type ListResult, type WatchEventType } from './types.js';

/** A logged change, as far as rewinding needs it. */
export interface LoggedChange {
  revision: number;
  type: WatchEventType;
  namespace: string;
  name: string;
  /** The object before the change (undefined for ADDED). */
  prev: KObject | undefined;
}

/** The key order of both backends: namespace, then name (a NUL sorts below every character either may hold). */
function sortKey(namespace: string, name: string): string {
  return `${namespace}\0${name}`;
}

/**
 * The objects of a key range at `revision`, in key order. `current` holds
 * the range's objects now; `changes` the changes logged after `revision`, in
 * revision order (changes outside the range must be left out by the caller).
 */
export function objectsAt(revision: number, current: readonly KObject[], changes: Iterable<LoggedChange>): KObject[] {
  const state = new Map<string, KObject>();
  for (const obj of current) state.set(sortKey(obj.metadata.namespace ?? '', obj.metadata.name ?? ''), obj);
  const rewound = new Set<string>();
  for (const c of changes) {
    if (c.revision <= revision) continue;
    const k = sortKey(c.namespace, c.name);
    if (rewound.has(k)) continue;
    rewound.add(k);
    if (c.type === 'ADDED') state.delete(k);
    else if (c.prev) state.set(k, c.prev);
    // A deletion logged before deletions kept the previous object: the state at `revision` is lost.
    else throw new CompactedError(revision, c.revision);
  }
  return [...state.keys()].sort().map((k) => state.get(k)!);
}

/** One page of the objects at `revision`, with a continue token that keeps the revision. */
export function pageAt(revision: number, objects: readonly KObject[], opts: Pick<ListOptions, 'predicate' | 'limit'>): ListResult {
  const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
  const items: KObject[] = [];
  let more = false;
  for (const obj of objects) {
    if (opts.predicate && !opts.predicate(obj)) continue;
    if (items.length >= limit) {
      more = true;
      break;
    }
    items.push(obj);
  }
  const result: ListResult = { items, resourceVersion: String(revision) };
  const last = items.at(-1);
  if (more && last) result.continue = encodeContinue({ namespace: last.metadata.namespace ?? '', name: last.metadata.name ?? '', revision });
  return result;
}
