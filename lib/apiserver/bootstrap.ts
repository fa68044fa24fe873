/** Objects every cluster starts with, created idempotently at startup. */
import { NAMESPACES } from '../api/resources.js';
import { isAlreadyExists } from '../api/errors.js';
import type { RestStorage } from './rest.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export async function bootstrap(rest: RestStorage): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await rest.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
