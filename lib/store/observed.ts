/**
 * A Store that tells `onWrite` the key of every write it made (after the
 * write, whether or not it changed anything), so an in-memory view of some
 * resources (the RBAC authorizer's cache) is invalidated by the very writes
 * of the process that holds it, before their responses go out. Reads and
 * watches pass through untouched.
 */
import type { KObject, ObjectKey } from '../api/object.js';
import type { CasResult, ListOptions, ListResult, Store, StoreEvent, WatchOptions } from './types.js';

export class ObservedStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly onWrite: (key: ObjectKey) => void,
  ) {}

  private async observed<T>(key: ObjectKey, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      // A failed write may still have landed (a timeout after the commit): the view is dropped either way.
      this.onWrite(key);
    }
  }

  create(key: ObjectKey, obj: KObject): Promise<KObject> {
    return this.observed(key, () => this.inner.create(key, obj));
  }

  get(key: ObjectKey): Promise<KObject | undefined> {
    return this.inner.get(key);
  }

  update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    return this.observed(key, () => this.inner.update(key, obj, prev));
  }

  delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    return this.observed(key, () => this.inner.delete(key, prev));
  }

  list(resource: string, opts?: ListOptions): Promise<ListResult> {
    return this.inner.list(resource, opts);
  }

  currentRevision(resource: string): Promise<number> {
    return this.inner.currentRevision(resource);
  }

  watch(resource: string, opts: WatchOptions): AsyncIterable<StoreEvent> {
    return this.inner.watch(resource, opts);
  }

  compact(): Promise<void> {
    return this.inner.compact();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
