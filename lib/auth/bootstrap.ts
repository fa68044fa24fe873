/** The namespace token records live in, created when the API server starts with token auth. */
import { type ResourceType } from '../api/registry.js';
import { NAMESPACES } from '../kinds/resources.js';
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { TOKEN_NAMESPACE } from './tokens.js';

/** The API server's storage, as far as this needs it (its RestStorage). */
interface Storage {
  get(rt: ResourceType, namespace: string | undefined, name: string): Promise<KObject>;
  create(rt: ResourceType, namespace: string | undefined, obj: KObject): Promise<KObject>;
}

/** Idempotent; a read first, since every cold start runs it and a refused create costs more than a get. */
export async function ensureTokenNamespace(rest: Storage): Promise<void> {
  try {
    await rest.get(NAMESPACES, undefined, TOKEN_NAMESPACE);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await rest.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: TOKEN_NAMESPACE, labels: { 'kumo.dev/purpose': 'tokens' } },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
