/** The namespace token records live in, created idempotently when the API server starts with token auth. */
import { resourceByName } from '../api/registry.js';
import { StatusError } from '../apiserver/errors.js';
import type { RestStorage } from '../apiserver/rest.js';
import { TOKEN_NAMESPACE } from './tokens.js';

export async function ensureTokenNamespace(rest: RestStorage): Promise<void> {
  try {
    await rest.create(resourceByName('namespaces')!, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: TOKEN_NAMESPACE, labels: { 'kumo.dev/purpose': 'tokens' } },
    });
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
  }
}
