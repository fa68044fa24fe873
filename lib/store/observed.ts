/**
 * A Store that tells `onWrite` the key of every write it made (after the
 * write, whether or not it changed anything), so an in-memory view of some
 * resources (the RBAC authorizer's cache) is invalidated by the very writes
 * of the process that holds it, before their responses go out. Reads and
 * watches pass through untouched.
 */
import type { KObject, ObjectKey } from '../api/object.js';
import { PassThroughStore } from './pass-through.js';
import type { CasResult, Store } from './types.js';

export class ObservedStore extends PassThroughStore {
  constructor(
    inner: Store,
    private readonly onWrite: (key: ObjectKey) => void,
  ) {
    super(inner);
  }

  private async observed<T>(key: ObjectKey, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      // A failed write may still have landed (a timeout after the commit): the view is dropped either way.
      this.onWrite(key);
    }
  }

  override create(key: ObjectKey, obj: KObject): Promise<KObject> {
    return this.observed(key, () => super.create(key, obj));
  }

  override update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    return this.observed(key, () => super.update(key, obj, prev));
  }

  override delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    return this.observed(key, () => super.delete(key, prev));
  }
}
