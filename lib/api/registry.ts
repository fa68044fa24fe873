/**
 * Every resource kumo serves: its group/version/kind, REST name, scope,
 * discovery details and schema. The API server, discovery, the CLI and the
 * clients all read this one table.
 */
import type { z } from 'zod';
import { DeploymentSchema } from './apps/v1/deployment.js';
import { ReplicaSetSchema } from './apps/v1/replicaset.js';
import { JobSchema } from './batch/v1/job.js';
import { LeaseSchema } from './coordination/v1/lease.js';
import { ConfigMapSchema } from './core/v1/configmap.js';
import { EndpointsSchema } from './core/v1/endpoints.js';
import { EventSchema } from './core/v1/event.js';
import { NamespaceSchema } from './core/v1/namespace.js';
import { NodeSchema } from './core/v1/node.js';
import { PersistentVolumeSchema } from './core/v1/persistentvolume.js';
import { PersistentVolumeClaimSchema } from './core/v1/persistentvolumeclaim.js';
import { PodSchema } from './core/v1/pod.js';
import { SecretSchema } from './core/v1/secret.js';
import { ServiceSchema } from './core/v1/service.js';
import { EndpointSliceSchema } from './discovery/v1/endpointslice.js';

export type Subresource = 'status' | 'scale' | 'binding' | 'log' | 'exec' | 'eviction' | 'attach' | 'portforward' | 'proxy' | 'ephemeralcontainers';

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural REST name, unique across the groups kumo serves (it keys the store). */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  subresources: readonly Subresource[];
  schema: z.ZodType;
}

function rt(
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  schema: z.ZodType,
  extra: { shortNames?: string[]; categories?: string[]; subresources?: Subresource[] } = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    resource,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: extra.shortNames ?? [],
    categories: extra.categories ?? [],
    subresources: extra.subresources ?? [],
    schema,
  };
}

export const resourceTypes: readonly ResourceType[] = [
  rt('', 'v1', 'Pod', 'pods', true, PodSchema, {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'binding', 'log', 'exec', 'attach', 'eviction', 'ephemeralcontainers'],
  }),
  rt('', 'v1', 'Node', 'nodes', false, NodeSchema, { shortNames: ['no'], subresources: ['status'] }),
  rt('', 'v1', 'Namespace', 'namespaces', false, NamespaceSchema, { shortNames: ['ns'], subresources: ['status'] }),
  rt('', 'v1', 'Event', 'events', true, EventSchema, { shortNames: ['ev'] }),
  rt('', 'v1', 'ConfigMap', 'configmaps', true, ConfigMapSchema, { shortNames: ['cm'] }),
  rt('', 'v1', 'Secret', 'secrets', true, SecretSchema),
  rt('', 'v1', 'Service', 'services', true, ServiceSchema, { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  rt('apps', 'v1', 'Deployment', 'deployments', true, DeploymentSchema, {
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  rt('apps', 'v1', 'ReplicaSet', 'replicasets', true, ReplicaSetSchema, {
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  rt('batch', 'v1', 'Job', 'jobs', true, JobSchema, { categories: ['all'], subresources: ['status'] }),
  rt('coordination.k8s.io', 'v1', 'Lease', 'leases', true, LeaseSchema),
  rt('', 'v1', 'Endpoints', 'endpoints', true, EndpointsSchema, { shortNames: ['ep'] }),
  rt('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true, EndpointSliceSchema),
  rt('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, PersistentVolumeClaimSchema, { shortNames: ['pvc'], subresources: ['status'] }),
  rt('', 'v1', 'PersistentVolume', 'persistentvolumes', false, PersistentVolumeSchema, { shortNames: ['pv'], subresources: ['status'] }),
];

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

const byGVR = new Map(resourceTypes.map((t) => [`${t.group}/${t.version}/${t.resource}`, t]));
const byKind = new Map(resourceTypes.map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));
const byResource = new Map(resourceTypes.map((t) => [t.resource, t]));

export function lookupResource(group: string, version: string, resource: string): ResourceType | undefined {
  return byGVR.get(`${group}/${version}/${resource}`);
}

export function lookupKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function resourceByName(resource: string): ResourceType | undefined {
  return byResource.get(resource);
}

/** Resolves what a user types (`po`, `pod`, `pods`, `deploy`, `deployments.apps`, `Pod`) to a resource. */
export function resolveResourceName(input: string): ResourceType | undefined {
  const lower = input.toLowerCase();
  const [name, ...groupParts] = lower.split('.');
  const group = groupParts.join('.');
  return resourceTypes.find(
    (t) => (group === '' || t.group === group) && (t.resource === name || t.singular === name || t.shortNames.includes(name!) || t.kind.toLowerCase() === name),
  );
}
