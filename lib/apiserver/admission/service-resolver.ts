/**
 * Where the API server dials a webhook named by a Service reference
 * (clientConfig.service): a ready endpoint of the Service behind the port
 * the reference names, from its EndpointSlices (kubernetes.io/service-name)
 * or, when it has none, its Endpoints, as kube's endpoint resolver picks one
 * (--enable-aggregator-routing). kumo does not dial the ClusterIP: in the
 * cloud the API function is outside the pod network, and locally the
 * endpoints are as reachable as the ClusterIP (docs/webhooks.md).
 */
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';
import type { Endpoints } from '../../api/core/v1/endpoints.js';
import type { Service } from '../../api/core/v1/service.js';
import { storeResource } from '../../api/store-key.js';
import { ENDPOINTS, ENDPOINT_SLICES, SERVICES } from '../../kinds/resources.js';
import type { Store } from '../../store/types.js';
import type { ServiceResolver } from './webhook-client.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A resolver reading Services and their endpoints from `store`; its errors read as kube's resolver's. */
export function endpointResolver(store: Store): ServiceResolver {
  return async (namespace, name, port) => {
    const svc = (await store.get({ resource: storeResource(SERVICES), namespace, name })) as Service | undefined;
    if (!svc) throw new Error(`service "${name}" not found`);
    const svcPort = (svc.spec?.ports ?? []).find((p) => p.port === port);
    if (!svcPort) throw new Error(`no service port ${port} found for service "${name}"`);
    const portName = svcPort.name ?? '';
    const slices = (await store.list(storeResource(ENDPOINT_SLICES), { namespace })).items as EndpointSlice[];
    for (const slice of slices.filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name)) {
      const p = (slice.ports ?? []).find((x) => (x.name ?? '') === portName);
      const ep = (slice.endpoints ?? []).find((e) => e.conditions?.ready !== false && (e.addresses ?? []).length > 0);
      if (p?.port && ep) return { host: ep.addresses![0]!, port: p.port };
    }
    const eps = (await store.get({ resource: storeResource(ENDPOINTS), namespace, name })) as Endpoints | undefined;
    for (const subset of eps?.subsets ?? []) {
      const p = (subset.ports ?? []).find((x) => (x.name ?? '') === portName);
      const address = subset.addresses?.[0]?.ip;
      if (p?.port && address) return { host: address, port: p.port };
    }
    throw new Error(`no endpoints available for service "${name}"`);
  };
}
