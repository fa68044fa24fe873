/**
 * The endpoints controllers (Kubernetes' endpoint and endpointslice
 * controllers in one reconciler, keyed by Service): for every Service with a
 * selector, the pods it selects become
 *
 * - EndpointSlices (discovery.k8s.io/v1), one per distinct set of resolved
 *   ports, 100 endpoints each, with `ready`, `serving` and `terminating`
 *   conditions; a terminating pod stays listed (ready=false, serving=its
 *   readiness) so proxies can drain it;
 * - an Endpoints object (core/v1) named like the Service, with ready pods
 *   in `addresses`, the others in `notReadyAddresses`, terminating pods left
 *   out (unless publishNotReadyAddresses).
 *
 * Slice names are derived from the Service and the port set, so two
 * reconcilers running at once (Lambda invocations) write the same objects
 * and settle through resourceVersion preconditions, never through duplicates.
 * A pod change only queues the Services whose selector matches the pod (old
 * or new labels), and only when something an endpoint shows changed.
 */
import { createHash } from 'node:crypto';
import type { EndpointAddress, Endpoints, EndpointSubset } from '../api/core/v1/endpoints.js';
import type { Container, Pod } from '../api/core/v1/pod.js';
import type { Service } from '../api/core/v1/service.js';
import { type Endpoint, type EndpointSlice, type EndpointSlicePort, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../api/discovery/v1/endpointslice.js';
import { matches, type Selector } from '../api/labels.js';
import type { KObject } from '../api/object.js';
import { ENDPOINTS, ENDPOINT_SLICES, PODS, SERVICES } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { deepEqual } from '../util/json.js';
import { isPodReady } from './pod-util.js';
import { allKeys, type ChangeEvent, objectKey, type Reconciler, type ReconcileResult, splitKey, type Watch } from '../controller-runtime/reconciler.js';

/** The value of endpointslice.kubernetes.io/managed-by on the slices this controller owns. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
/** Endpoints per slice (Kubernetes' --max-endpoints-per-slice default). */
export const MAX_ENDPOINTS_PER_SLICE = 100;

type S = Service & KObject;
type P = Pod & KObject;

/** A selector map as requirements (a Service selects with equality only). */
function selectorOf(svc: Service): Selector | undefined {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return undefined;
  return Object.entries(sel).map(([key, value]) => ({ key, op: '=' as const, values: [value] }));
}

/** What an endpoint shows of a pod: a change elsewhere (most status writes) needs no reconcile. */
function endpointView(pod: P | undefined): unknown {
  if (!pod) return undefined;
  return [
    pod.metadata.labels,
    pod.status?.podIP,
    pod.status?.phase,
    isPodReady(pod),
    !!pod.metadata.deletionTimestamp,
    pod.spec?.nodeName,
    pod.spec?.hostname,
    pod.spec?.subdomain,
  ];
}

/** Kubernetes' ShouldPodBeInEndpoints. */
function eligible(pod: P, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** Kubernetes' FindPort: a number is itself, a name is the container port of that name and protocol. */
export function findPort(pod: Pod, targetPort: number | string | null | undefined, servicePort: number, protocol: string): number | undefined {
  if (targetPort === undefined || targetPort === null) return servicePort;
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  const containers: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === targetPort && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

function podRef(pod: P) {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

/** A pod's hostname in a Service's DNS (spec.hostname with spec.subdomain naming the Service). */
function hostnameFor(pod: P, svc: S): string | undefined {
  return pod.spec?.hostname && pod.spec.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
}

/** Deterministic slice name: the Service's name and a short hash of the port set and chunk. */
function sliceName(svc: S, portsKey: string, chunk: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha256')
    .update(`${svc.metadata.uid ?? ''}/${portsKey}/${chunk}`)
    .digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[digest[i]! % alphabet.length];
  return `${svc.metadata.name}-${suffix}`;
}

function serviceLabels(svc: S): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  return labels;
}

/** The slices a Service should have, by name. */
export function desiredSlices(svc: S, pods: P[]): Map<string, EndpointSlice & KObject> {
  const groups = new Map<string, { ports: EndpointSlicePort[]; endpoints: Endpoint[] }>();
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  for (const pod of pods) {
    if (!eligible(pod, true)) continue;
    const ports: EndpointSlicePort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const protocol = sp.protocol ?? 'TCP';
      const port = findPort(pod, sp.targetPort, sp.port, protocol);
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? '', port, protocol });
    }
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    const serving = publishNotReady || isPodReady(pod);
    const terminating = !!pod.metadata.deletionTimestamp;
    const hostname = hostnameFor(pod, svc);
    group.endpoints.push({
      addresses: [pod.status!.podIP!],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      ...(hostname ? { hostname } : {}),
      targetRef: podRef(pod),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    });
    groups.set(key, group);
  }
  const out = new Map<string, EndpointSlice & KObject>();
  const make = (name: string, ports: EndpointSlicePort[] | undefined, endpoints: Endpoint[]): EndpointSlice & KObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: svc.metadata.namespace ?? 'default',
      labels: { ...serviceLabels(svc), [LABEL_SERVICE_NAME]: svc.metadata.name ?? '', [LABEL_MANAGED_BY]: CONTROLLER_NAME },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    addressType: 'IPv4',
    ...(endpoints.length > 0 ? { endpoints } : {}),
    ...(ports ? { ports } : {}),
  });
  if (groups.size === 0) {
    // Kubernetes keeps one empty placeholder slice for a Service that selects nothing.
    const name = sliceName(svc, 'placeholder', 0);
    out.set(name, make(name, undefined, []));
    return out;
  }
  for (const [key, group] of groups) {
    const endpoints = group.endpoints.sort((a, b) => (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? ''));
    for (let i = 0; i * MAX_ENDPOINTS_PER_SLICE < endpoints.length; i++) {
      const name = sliceName(svc, key, i);
      out.set(name, make(name, group.ports, endpoints.slice(i * MAX_ENDPOINTS_PER_SLICE, (i + 1) * MAX_ENDPOINTS_PER_SLICE)));
    }
  }
  return out;
}

/** The Endpoints object a Service should have (Kubernetes' endpoints controller, subsets repacked by port set). */
export function desiredEndpoints(svc: S, pods: P[]): Endpoints & KObject {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const bySet = new Map<string, { addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[]; ports: EndpointSubset['ports'] }>();
  for (const pod of pods) {
    if (!eligible(pod, publishNotReady)) continue;
    const ports = [];
    for (const sp of svc.spec?.ports ?? []) {
      const protocol = sp.protocol ?? 'TCP';
      const port = findPort(pod, sp.targetPort, sp.port, protocol);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol });
    }
    // A Service with ports none of which resolve on this pod does not list it; a headless one without ports does.
    if ((svc.spec?.ports ?? []).length > 0 && ports.length === 0) continue;
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const key = JSON.stringify(ports);
    const subset = bySet.get(key) ?? { addresses: [] as EndpointAddress[], notReadyAddresses: [] as EndpointAddress[], ports };
    const hostname = hostnameFor(pod, svc);
    const addr: EndpointAddress = {
      ip: pod.status!.podIP!,
      ...(hostname ? { hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: podRef(pod),
    };
    if (publishNotReady || isPodReady(pod)) subset.addresses.push(addr);
    else subset.notReadyAddresses.push(addr);
    bySet.set(key, subset);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) =>
    a.ip.localeCompare(b.ip, undefined, { numeric: true }) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
  const subsets = [...bySet.values()]
    .map((s) => ({
      ...(s.addresses.length ? { addresses: s.addresses.sort(byIp) } : {}),
      ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses.sort(byIp) } : {}),
      ...((s.ports ?? []).length ? { ports: s.ports } : {}),
    }))
    .sort((a, b) => JSON.stringify(a.ports ?? []).localeCompare(JSON.stringify(b.ports ?? [])));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name ?? '', namespace: svc.metadata.namespace ?? 'default', labels: serviceLabels(svc) },
    ...(subsets.length > 0 ? { subsets } : {}),
  };
}

/** What a write would change: compared without server-owned metadata. */
function sameContent(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => {
    const { metadata, ...rest } = o as KObject & Record<string, unknown>;
    return { ...rest, apiVersion: undefined, kind: undefined, labels: metadata.labels ?? {}, owners: metadata.ownerReferences ?? [] };
  };
  return deepEqual(JSON.parse(JSON.stringify(strip(a))), JSON.parse(JSON.stringify(strip(b))));
}

export class EndpointsController implements Reconciler {
  readonly name = 'endpoints';
  readonly watches: Watch[];
  /**
   * Services by namespace, when primed (saves a list per pod change). Used
   * only while the driver feeds every change through observe() (kumo up's
   * local driver); the stream driver primes per batch after computing keys,
   * so there a pod change lists the namespace's Services instead.
   */
  private services: Map<string, Map<string, S>> | undefined;
  private observing = false;

  constructor(private readonly client: KubeClient) {
    this.watches = [
      { resource: storeResource(SERVICES), keys: (e) => [objectKey(e.object)] },
      { resource: storeResource(PODS), keys: (e) => this.servicesForPod(e) },
      {
        resource: storeResource(ENDPOINT_SLICES),
        keys: (e) => {
          const labels = e.object.metadata.labels ?? {};
          const svc = labels[LABEL_SERVICE_NAME];
          return svc && labels[LABEL_MANAGED_BY] === CONTROLLER_NAME ? [`${e.object.metadata.namespace}/${svc}`] : [];
        },
      },
      { resource: storeResource(ENDPOINTS), keys: (e) => [objectKey(e.object)] },
    ];
  }

  observe(e: ChangeEvent): void {
    this.observing = true;
    if (e.resource !== storeResource(SERVICES) || !this.services) return;
    const ns = e.object.metadata.namespace ?? '';
    const byName = this.services.get(ns) ?? new Map<string, S>();
    if (e.type === 'DELETED') byName.delete(e.object.metadata.name ?? '');
    else byName.set(e.object.metadata.name ?? '', e.object as S);
    this.services.set(ns, byName);
  }

  async prime(): Promise<void> {
    const all = await this.client.listAll<S>(SERVICES, undefined);
    const next = new Map<string, Map<string, S>>();
    for (const s of all.items) {
      const ns = s.metadata.namespace ?? '';
      const byName = next.get(ns) ?? new Map<string, S>();
      byName.set(s.metadata.name ?? '', s);
      next.set(ns, byName);
    }
    this.services = next;
  }

  private async servicesIn(namespace: string): Promise<S[]> {
    if (this.services && this.observing) return [...(this.services.get(namespace)?.values() ?? [])];
    return (await this.client.listAll<S>(SERVICES, namespace)).items;
  }

  private async servicesForPod(e: ChangeEvent): Promise<string[]> {
    const pod = e.object as P;
    const prev = e.prev as P | undefined;
    if (e.type === 'MODIFIED' && prev && deepEqual(endpointView(pod), endpointView(prev))) return [];
    const ns = pod.metadata.namespace ?? '';
    const out: string[] = [];
    for (const svc of await this.servicesIn(ns)) {
      const sel = selectorOf(svc);
      if (!sel) continue;
      if (matches(sel, pod.metadata.labels) || (prev && matches(sel, prev.metadata.labels))) out.push(`${ns}/${svc.metadata.name}`);
    }
    return out;
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, SERVICES);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    if (!namespace) return;
    const svc = await this.client.find<S>(SERVICES, namespace, name);
    const managed = (
      await this.client.listAll<EndpointSlice & KObject>(ENDPOINT_SLICES, namespace, {
        labelSelector: `${LABEL_SERVICE_NAME}=${name},${LABEL_MANAGED_BY}=${CONTROLLER_NAME}`,
      })
    ).items;
    const sel = svc ? selectorOf(svc) : undefined;
    if (!svc || !sel || svc.spec?.type === 'ExternalName') {
      // No Service (or no selector): nothing of ours should list it. A selector-less Service's Endpoints belong to its user.
      for (const s of managed) await this.remove(ENDPOINT_SLICES, s);
      if (!svc) {
        const ep = await this.client.find(ENDPOINTS, namespace, name);
        if (ep) await this.remove(ENDPOINTS, ep);
      }
      return;
    }
    const pods = (
      await this.client.listAll<P>(PODS, namespace, {
        labelSelector: Object.entries(svc.spec!.selector!)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      })
    ).items;

    let conflicted = false;
    const want = desiredSlices(svc, pods);
    const have = new Map(managed.map((s) => [s.metadata.name ?? '', s]));
    for (const [sliceName, slice] of want) {
      const cur = have.get(sliceName);
      if (cur && sameContent(cur, slice)) continue;
      conflicted = (await this.write(ENDPOINT_SLICES, slice, cur)) || conflicted;
    }
    for (const [sliceName, cur] of have) if (!want.has(sliceName)) await this.remove(ENDPOINT_SLICES, cur);

    const ep = desiredEndpoints(svc, pods);
    const curEp = await this.client.find<Endpoints & KObject>(ENDPOINTS, namespace, name);
    if (!curEp || !sameContent(curEp, ep)) conflicted = (await this.write(ENDPOINTS, ep, curEp)) || conflicted;
    return conflicted ? { requeueAfterMs: 50 } : undefined;
  }

  /** Creates or updates (with the read resourceVersion as precondition). Returns true on a lost race. */
  private async write(rt: typeof ENDPOINTS, desired: KObject, current: KObject | undefined): Promise<boolean> {
    try {
      if (!current) await this.client.create(rt, desired.metadata.namespace, desired);
      else {
        const next = {
          ...desired,
          metadata: {
            ...current.metadata,
            labels: desired.metadata.labels,
            ownerReferences: desired.metadata.ownerReferences ?? current.metadata.ownerReferences,
          },
        } as KObject;
        if (!desired.metadata.ownerReferences) delete next.metadata.ownerReferences;
        await this.client.update(rt, next);
      }
      return false;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err) || isNotFound(err)) return true;
      throw err;
    }
  }

  private async remove(rt: typeof ENDPOINTS, obj: KObject): Promise<void> {
    try {
      await this.client.delete(rt, obj.metadata.namespace, obj.metadata.name!, { preconditions: { uid: obj.metadata.uid! } });
    } catch (err) {
      if (!(isNotFound(err) || isConflict(err))) throw err;
    }
  }
}
