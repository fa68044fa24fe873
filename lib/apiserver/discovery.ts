/**
 * API discovery documents, both forms kubectl understands: the legacy
 * APIVersions / APIGroupList / APIResourceList and the aggregated
 * apidiscovery.k8s.io/v2 lists (which need their exact content type).
 */
import type { ResourceRegistry, ResourceType } from '../api/registry.js';
import { METRICS_GROUP, METRICS_VERSION } from '../api/metrics/v1beta1/metrics.js';
import { metricsGroupDocument, METRICS_RESOURCES } from './metrics-api.js';
import { byVersionPriority } from '../api/version-priority.js';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const SUBRESOURCE_KINDS: Record<string, { group: string; version: string; kind: string; verbs: string[] }> = {
  status: { group: '', version: '', kind: '', verbs: ['get', 'patch', 'update'] },
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
  binding: { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
  log: { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
  exec: { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  // The whole Pod in and out, as kube's EphemeralContainersREST.
  ephemeralcontainers: { group: '', version: '', kind: '', verbs: ['get', 'patch', 'update'] },
  attach: { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { group: '', version: 'v1', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
};

/**
 * The group/versions served, in discovery order: groups as registered (core
 * first, built-in groups before custom ones), a group's versions in kube's
 * version priority, so its preferred version comes first (as kube's
 * discovery controllers sort them).
 */
export function groupVersions(kinds: ResourceRegistry): { group: string; version: string }[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of kinds.all()) {
    const versions = byGroup.get(t.group) ?? new Set<string>();
    versions.add(t.version);
    byGroup.set(t.group, versions);
  }
  return [...byGroup].flatMap(([group, versions]) => byVersionPriority([...versions], (v) => v).map((version) => ({ group, version })));
}

export function apiVersions() {
  return { kind: 'APIVersions', apiVersion: 'v1', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
}

function apiGroup(kinds: ResourceRegistry, group: string) {
  const versions = groupVersions(kinds)
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return versions.length === 0 ? undefined : { name: group, versions, preferredVersion: versions[0]! };
}

export function apiGroupList(kinds: ResourceRegistry) {
  const groups = [...new Set(groupVersions(kinds).map((gv) => gv.group))].filter((g) => g !== '');
  // metrics.k8s.io is served beside the kinds (lib/apiserver/metrics-api.ts), as an aggregated API is listed.
  const { kind: _kind, apiVersion: _apiVersion, ...metrics } = metricsGroupDocument();
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups.map((g) => apiGroup(kinds, g)!), metrics] };
}

export function apiGroupDocument(kinds: ResourceRegistry, group: string) {
  const g = apiGroup(kinds, group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...g } : undefined;
}

export function apiResourceList(kinds: ResourceRegistry, group: string, version: string) {
  const types = kinds.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of types) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: VERBS,
      ...(t.shortNames.length ? { shortNames: [...t.shortNames] } : {}),
      ...(t.categories.length ? { categories: [...t.categories] } : {}),
      storageVersionHash: '',
    });
    for (const sub of t.subresources) {
      const info = SUBRESOURCE_KINDS[sub]!;
      resources.push({
        name: `${t.resource}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(info.group ? { group: info.group, version: info.version } : {}),
        kind: info.kind || t.kind,
        verbs: info.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis (named groups). */
export function aggregatedDiscovery(kinds: ResourceRegistry, core: boolean) {
  const byGroup = new Map<string, ResourceType[]>();
  for (const t of kinds.all()) {
    if ((t.group === '') !== core) continue;
    const list = byGroup.get(t.group) ?? [];
    list.push(t);
    byGroup.set(t.group, list);
  }
  const items = [...byGroup.entries()].map(([group, types]) => {
    const versions = byVersionPriority([...new Set(types.map((t) => t.version))], (v) => v).map((version) => ({
      version,
      freshness: 'Current',
      resources: types
        .filter((t) => t.version === version)
        .map((t) => ({
          resource: t.resource,
          responseKind: { group: t.group, version: t.version, kind: t.kind },
          scope: t.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: t.singular,
          verbs: VERBS,
          ...(t.shortNames.length ? { shortNames: [...t.shortNames] } : {}),
          ...(t.categories.length ? { categories: [...t.categories] } : {}),
          ...(t.subresources.length
            ? {
                subresources: t.subresources.map((sub) => {
                  const info = SUBRESOURCE_KINDS[sub]!;
                  return {
                    subresource: sub,
                    responseKind: { group: info.group || t.group, version: info.version || t.version, kind: info.kind || t.kind },
                    verbs: info.verbs,
                  };
                }),
              }
            : {}),
        })),
    }));
    return { metadata: { name: group, creationTimestamp: null }, versions };
  });
  if (!core) items.push(metricsDiscovery());
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/** metrics.k8s.io's entry in the aggregated discovery of /apis: get and list only. */
function metricsDiscovery() {
  return {
    metadata: { name: METRICS_GROUP, creationTimestamp: null },
    versions: [
      {
        version: METRICS_VERSION,
        freshness: 'Current',
        resources: METRICS_RESOURCES.map((t) => ({
          resource: t.resource,
          responseKind: { group: t.group, version: t.version, kind: t.kind },
          scope: t.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: t.singular,
          verbs: ['get', 'list'],
        })),
      },
    ],
  };
}

export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').includes('as=APIGroupDiscoveryList') && (accept ?? '').includes('v=v2');
}
