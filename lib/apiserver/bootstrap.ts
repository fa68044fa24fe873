/** Objects every cluster starts with (each kind's `bootstrap`), created idempotently at startup. */
import type { KObject } from '../api/object.js';
import { isAlreadyExists } from '../api/errors.js';
import type { Kind } from '../kinds/kind.js';
import type { RestStorage } from './rest.js';

export async function bootstrap(rest: RestStorage): Promise<void> {
  for (const kind of rest.kinds.all()) {
    for (const obj of kind.bootstrap) await createIfAbsent(rest, kind, obj);
  }
}

/** Creates `obj` unless an object of its name exists (which is left as it is: a user may have changed it). */
export async function createIfAbsent(rest: RestStorage, kind: Kind, obj: KObject): Promise<void> {
  try {
    await rest.create(kind, obj.metadata.namespace, structuredClone(obj));
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
