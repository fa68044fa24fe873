/**
 * The built-in kinds for code that names a kind it knows (a controller's
 * pods, the agent's leases, the CLI's `get po`): handles, one constant each,
 * and lookups over the built-in registry. Code that must see kinds added at
 * run time (the API server, discovery, OpenAPI, the garbage collector, the
 * printers) reads the registry it is given instead.
 */
import { ResourceRegistry } from '../api/registry.js';
import { builtinKinds } from './index.js';
import type { Kind } from './kind.js';

/** The built-in kinds only; it never grows. */
export const BUILTIN: ResourceRegistry<Kind> = new ResourceRegistry(builtinKinds);

/** The built-in kinds, in discovery order. */
export const resourceTypes: readonly Kind[] = builtinKinds;

export function lookupKind(apiVersion: string, kind: string): Kind | undefined {
  return BUILTIN.lookupKind(apiVersion, kind);
}

export function resourceByName(resource: string): Kind | undefined {
  return BUILTIN.byName(resource);
}

/** The built-in kind serving `rt`'s group/version/resource, if any (not a custom resource that shares a built-in's plural in a group of its own). */
export function builtinKindOf(rt: Pick<Kind, 'group' | 'version' | 'resource'>): Kind | undefined {
  return BUILTIN.kindOf(rt);
}

/** Whether `rt` is a built-in kind. */
export function isBuiltin(rt: Pick<Kind, 'group' | 'version' | 'resource'>): boolean {
  return builtinKindOf(rt) !== undefined;
}

/** Resolves what a user types (`po`, `pod`, `pods`, `deploy`, `deployments.apps`, `Pod`) to a built-in resource. */
export function resolveResourceName(input: string): Kind | undefined {
  return BUILTIN.resolve(input);
}

function handle(resource: string): Kind {
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
export const STORAGE_CLASSES = handle('storageclasses');
export const DEPLOYMENTS = handle('deployments');
export const REPLICASETS = handle('replicasets');
export const STATEFULSETS = handle('statefulsets');
export const REPLICATION_CONTROLLERS = handle('replicationcontrollers');
export const POD_DISRUPTION_BUDGETS = handle('poddisruptionbudgets');
export const JOBS = handle('jobs');
export const DAEMONSETS = handle('daemonsets');
export const CONTROLLER_REVISIONS = handle('controllerrevisions');
export const CRONJOBS = handle('cronjobs');
export const LEASES = handle('leases');
export const HORIZONTAL_POD_AUTOSCALERS = handle('horizontalpodautoscalers');
export const RESOURCE_QUOTAS = handle('resourcequotas');
export const LIMIT_RANGES = handle('limitranges');
export const SERVICE_ACCOUNTS = handle('serviceaccounts');
export const ROLES = handle('roles');
export const CLUSTER_ROLES = handle('clusterroles');
export const ROLE_BINDINGS = handle('rolebindings');
export const CLUSTER_ROLE_BINDINGS = handle('clusterrolebindings');

/** The built-in kind whose objects are stored under `key` (a storeResource value), if any. */
export function resourceOfStoreKey(key: string): Kind | undefined {
  return BUILTIN.byStoreKey(key);
}
