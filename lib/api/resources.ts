/**
 * Handles of the resources kumo serves, one constant each, for code that
 * names a resource it knows (a controller's pods, the agent's leases): read
 * once from the registry, so that a rename or removal fails at load rather
 * than at the first request.
 */
import { resourceByName, resourceTypes, type ResourceType } from './registry.js';
import { storeResource } from './store-key.js';

function handle(resource: string): ResourceType {
  const rt = resourceByName(resource);
  if (!rt) throw new Error(`resource ${resource} is not registered`);
  return rt;
}

export const PODS = handle('pods');
export const NODES = handle('nodes');
export const NAMESPACES = handle('namespaces');
export const EVENTS = handle('events');
export const CONFIGMAPS = handle('configmaps');
export const SECRETS = handle('secrets');
export const SERVICES = handle('services');
export const ENDPOINTS = handle('endpoints');
export const ENDPOINT_SLICES = handle('endpointslices');
export const PERSISTENT_VOLUME_CLAIMS = handle('persistentvolumeclaims');
export const PERSISTENT_VOLUMES = handle('persistentvolumes');
export const DEPLOYMENTS = handle('deployments');
export const REPLICASETS = handle('replicasets');
export const JOBS = handle('jobs');
export const LEASES = handle('leases');

/** The served resource whose objects are stored under `key` (a storeResource value), if any. */
export function resourceOfStoreKey(key: string): ResourceType | undefined {
  return resourceTypes.find((t) => storeResource(t) === key);
}
