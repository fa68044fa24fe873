/** The ServiceAccount authenticator's reads, from the store the API server runs on. */
import { storeResource } from '../../api/store-key.js';
import { PODS, SECRETS, SERVICE_ACCOUNTS } from '../../kinds/resources.js';
import type { Store } from '../../store/types.js';
import { busyAsTooMany } from '../authenticator.js';
import type { ObjectLookup } from './authenticator.js';

const KEYS = { serviceaccounts: storeResource(SERVICE_ACCOUNTS), pods: storeResource(PODS), secrets: storeResource(SECRETS) } as const;

export function storeObjectLookup(store: Store): ObjectLookup {
  return (resource, namespace, name) => busyAsTooMany(async () => (await store.get({ resource: KEYS[resource], namespace, name })) ?? undefined);
}
