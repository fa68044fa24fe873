/**
 * A Store that hands every call to another: the base of stores that change
 * one thing on the way (token-stamp.ts stamps token records, observed.ts
 * reports writes) and pass the rest through untouched.
 */
import type { KObject, ObjectKey } from '../api/object.js';
import type { CasResult, ListOptions, ListResult, Store, StoreEvent, WatchOptions } from './types.js';

export class PassThroughStore implements Store {
  constructor(protected readonly inner: Store) {}

  create(key: ObjectKey, obj: KObject): Promise<KObject> {
    return this.inner.create(key, obj);
  }

  get(key: ObjectKey): Promise<KObject | undefined> {
    return this.inner.get(key);
  }

  update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    return this.inner.update(key, obj, prev);
  }

  delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    return this.inner.delete(key, prev);
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
