/**
 * The narrow storage interface every backend implements (after kine's
 * Backend): get / list / create / update-if-version / delete-if-version /
 * watch-from. The store knows nothing of Kubernetes semantics beyond
 * `metadata.resourceVersion`, which it owns: every successful write stamps the
 * object with a new revision from a counter kept per resource type, and appends
 * the change to an ordered log that watches read.
 *
 * Revisions are per resource (`pods` and `leases` count independently), so
 * clients must treat resourceVersion as opaque per resource type, which
 * Kubernetes clients already do.
 *
 * A resource is named by its store key (`storeResource` in
 * lib/api/store-key.ts: `pods`, `example.com/events`), which the store treats
 * as an opaque string: two groups' resources of one plural never share one.
 */
import type { KObject, ObjectKey } from '../api/object.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  /** The object after the change; for DELETED, its last state, stamped with the deletion's revision. */
  object: KObject;
  /**
   * The object before the change, with its own resourceVersion (absent for
   * ADDED). Lets filtered watches see objects leave their selection, and lets
   * a list rewind to an earlier revision (ListOptions.revision).
   */
  prev?: KObject;
  /** The change's revision, equal to object.metadata.resourceVersion. */
  revision: number;
}

/** Result of a conditional write: a version mismatch is a value, not an exception. */
export type CasResult =
  { ok: true; object: KObject } | { ok: false; /** The current object, or undefined if it no longer exists. */ current: KObject | undefined };

/**
 * Which secondary index a list may use instead of a full list of the
 * resource. Only pods by node are indexed: the agent's and the scheduler's hot
 * path.
 */
export interface ListIndex {
  nodeName: string;
}

export interface ListOptions {
  /** Restrict to one namespace; undefined lists across namespaces. */
  namespace?: string;
  /** Use a secondary index (pods only). */
  index?: ListIndex;
  /** Keep only objects for which this returns true; `limit` counts kept objects. */
  predicate?: (obj: KObject) => boolean;
  /** Maximum number of items to return; 0 or undefined means all. */
  limit?: number;
  /**
   * Opaque token from a previous page's `continue`. A token from a list at a
   * `revision` carries that revision: its pages are read at it too.
   */
  continue?: string;
  /**
   * Read the objects as they were at this revision (Kubernetes' Exact list):
   * the objects now, rewound through the log. `index` is not used (the
   * predicate must select). Throws CompactedError when the log no longer
   * reaches back to it, FutureRevisionError when it is above the current
   * revision.
   */
  revision?: number;
}

export interface ListResult {
  items: KObject[];
  /** Watching from this revision delivers every change not reflected in `items` (and possibly some that are). */
  resourceVersion: string;
  /** Set when more items remain. */
  continue?: string;
}

export interface WatchOptions {
  /** Deliver changes with a revision strictly greater than this one. */
  fromRevision: number;
  signal: AbortSignal;
}

/** Thrown by create when the key exists already. */
export class AlreadyExistsError extends Error {
  override name = 'AlreadyExistsError';
  constructor(
    readonly key: ObjectKey,
    readonly current?: KObject,
  ) {
    super(`${key.resource} "${key.name}" already exists`);
  }
}

/** Thrown by watch (or a list at a revision, or its continue token) when the revision asked for was compacted away. */
export class CompactedError extends Error {
  override name = 'CompactedError';
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`too old resource version: ${requested} (${compacted})`);
  }
}

/** Thrown by list for a revision the store has not reached yet. */
export class FutureRevisionError extends Error {
  override name = 'FutureRevisionError';
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`revision ${requested} is above the current revision ${current}`);
  }
}

/** Thrown when the backend refuses for load (throttling): the caller should retry later. */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
}

/** Thrown when an object is too large for the backend. */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
}

/** Thrown for a continue token that does not parse. */
export class InvalidContinueError extends Error {
  override name = 'InvalidContinueError';
}

export interface Store {
  /** Stores a new object. Throws AlreadyExistsError when the key is taken. */
  create(key: ObjectKey, obj: KObject): Promise<KObject>;
  get(key: ObjectKey): Promise<KObject | undefined>;
  /**
   * Replaces the object if it is still at `prev`'s resourceVersion. `prev`
   * must be the object as read (it becomes the watch event's prevObject).
   */
  update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult>;
  /** Removes the object if it is still at `prev`'s resourceVersion. Returns the removed object stamped with the deletion's revision. */
  delete(key: ObjectKey, prev: KObject): Promise<CasResult>;
  list(resource: string, opts?: ListOptions): Promise<ListResult>;
  /** The revision a list would report now: every change at or below it is visible to reads. */
  currentRevision(resource: string): Promise<number>;
  /**
   * Changes to `resource` after `fromRevision`, in revision order (all
   * namespaces: callers filter, so they can tell how far they have read), until
   * the signal aborts. Throws CompactedError (synchronously on first iteration)
   * if that revision is no longer in the log.
   */
  watch(resource: string, opts: WatchOptions): AsyncIterable<StoreEvent>;
  /** Drops log entries older than the retention window. Returns the new compacted revision per resource. */
  compact(): Promise<void>;
  close(): Promise<void>;
}
