/** Objects every cluster starts with (each kind's `bootstrap`), created idempotently at startup. */
import { isAlreadyExists } from '../api/errors.js';
import type { RestStorage } from './rest.js';

export async function bootstrap(rest: RestStorage): Promise<void> {
  for (const kind of rest.kinds.all()) {
    for (const obj of kind.bootstrap) {
      try {
        await rest.create(kind, obj.metadata.namespace, structuredClone(obj));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }
}
