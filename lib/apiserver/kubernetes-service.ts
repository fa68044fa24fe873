/**
 * The `default/kubernetes` Service: how a pod finds the API server, as
 * kube-apiserver keeps it (pkg/controlplane/controller/kubernetesservice and
 * pkg/controlplane/reconcilers). The Service has the first address of the
 * service range, port `https` 443/TCP to the API server's port and no
 * selector, so the endpoints controller leaves its Endpoints and
 * EndpointSlice alone; the API server writes them itself at start:
 *
 * - Endpoints `kubernetes`, one subset with the server's address, labelled
 *   `endpointslice.kubernetes.io/skip-mirror: "true"`;
 * - EndpointSlice `kubernetes`, labelled `kubernetes.io/service-name` only
 *   (kube's reconciler sets no managed-by label: no controller owns it).
 *
 * Every write is idempotent and compares before it writes, so servers that
 * start at once (Lambda containers) settle on the same objects.
 */
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { LABEL_SERVICE_NAME } from '../api/discovery/v1/endpointslice.js';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../kinds/resources.js';
import { DEFAULT_SERVICE_CIDR, numberToIp, parseCidr } from '../kinds/strategies/service-alloc.js';
import type { ResourceType } from '../api/registry.js';
import type { RestStorage } from './rest.js';
import { KUBERNETES_SERVICE_NAME, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_PORT } from '../api/core/v1/kubernetes-service.js';

export { KUBERNETES_SERVICE_PORT } from '../api/core/v1/kubernetes-service.js';

const PORT_NAME = 'https';
const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';

/** The `kubernetes` Service's ClusterIP: the first address of the service range (kube's `ServiceIPRange` + 1). */
export function kubernetesServiceIP(serviceClusterIPRange: string = DEFAULT_SERVICE_CIDR): string {
  return numberToIp(parseCidr(serviceClusterIPRange).base);
}

/** Where pods reach the API server: an address (no name: Endpoints hold IPs) and its port. */
export interface ApiServerEndpoint {
  ip: string;
  port: number;
}

export interface KubernetesServiceOptions {
  /** @default 10.96.0.0/12 */
  serviceClusterIPRange?: string;
  /** The API server's port behind the Service (its targetPort). */
  port: number;
  /**
   * The address pods reach the API server at. Without one the Endpoints and
   * EndpointSlice are left as they are (kube's `--endpoint-reconciler-type=none`).
   */
  endpoint?: ApiServerEndpoint;
}

function desiredService(clusterIP: string, port: number): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: KUBERNETES_SERVICE_NAME,
      namespace: KUBERNETES_SERVICE_NAMESPACE,
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      sessionAffinity: 'None',
      ports: [{ name: PORT_NAME, port: KUBERNETES_SERVICE_PORT, protocol: 'TCP', targetPort: port }],
    },
  } as KObject;
}

function desiredEndpoints(ep: ApiServerEndpoint): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: KUBERNETES_SERVICE_NAME, namespace: KUBERNETES_SERVICE_NAMESPACE, labels: { [LABEL_SKIP_MIRROR]: 'true' } },
    subsets: [{ addresses: [{ ip: ep.ip }], ports: [{ name: PORT_NAME, port: ep.port, protocol: 'TCP' }] }],
  } as KObject;
}

function desiredSlice(ep: ApiServerEndpoint): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: KUBERNETES_SERVICE_NAME, namespace: KUBERNETES_SERVICE_NAMESPACE, labels: { [LABEL_SERVICE_NAME]: KUBERNETES_SERVICE_NAME } },
    addressType: ep.ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [ep.ip], conditions: { ready: true } }],
    ports: [{ name: PORT_NAME, port: ep.port, protocol: 'TCP' }],
  } as KObject;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Creates `want` or brings the fields `compared` names back to it; other
 * fields (and metadata the server set) stay. A conflict or a concurrent
 * create is another server doing the same: read again.
 */
async function ensure(rest: RestStorage, rt: ResourceType, want: KObject, compared: (o: KObject) => unknown, apply: (cur: KObject) => KObject): Promise<void> {
  const { namespace, name } = want.metadata;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      let current: KObject;
      try {
        current = await rest.get(rt, namespace, name!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await rest.create(rt, namespace, want);
        return;
      }
      if (same(compared(current), compared(want))) return;
      await rest.update(rt, namespace, name!, apply(current));
      return;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
    }
  }
}

type Loose = KObject & { spec?: Record<string, unknown>; subsets?: unknown; endpoints?: unknown; ports?: unknown; addressType?: unknown };

/**
 * Makes the `kubernetes` Service, and with `endpoint` its Endpoints and
 * EndpointSlice, what this API server serves. The ClusterIP of an existing
 * Service is immutable; one from an earlier service range is left (as kube
 * does, which logs it).
 */
export async function reconcileKubernetesService(rest: RestStorage, opts: KubernetesServiceOptions): Promise<void> {
  const svc = desiredService(kubernetesServiceIP(opts.serviceClusterIPRange), opts.port);
  await ensure(
    rest,
    SERVICES,
    svc,
    (o) => [(o as Loose).spec?.ports, (o as Loose).spec?.type, o.metadata.labels],
    (cur) => {
      const spec = (svc as Loose).spec!;
      return {
        ...cur,
        metadata: { ...cur.metadata, labels: svc.metadata.labels },
        spec: { ...(cur as Loose).spec, type: spec.type, ports: spec.ports },
      } as KObject;
    },
  );
  if (!opts.endpoint) return;
  const eps = desiredEndpoints(opts.endpoint);
  await ensure(
    rest,
    ENDPOINTS,
    eps,
    (o) => [(o as Loose).subsets, o.metadata.labels],
    (cur) => ({ ...cur, metadata: { ...cur.metadata, labels: eps.metadata.labels }, subsets: (eps as Loose).subsets }) as KObject,
  );
  const slice = desiredSlice(opts.endpoint);
  await ensure(
    rest,
    ENDPOINT_SLICES,
    slice,
    (o) => [(o as Loose).addressType, (o as Loose).endpoints, (o as Loose).ports, o.metadata.labels],
    (cur) => ({ ...cur, ...slice, metadata: { ...cur.metadata, labels: slice.metadata.labels } }) as KObject,
  );
}
