/**
 * The cluster DNS's records, kept from Kubernetes objects: the agent's
 * informers over Namespaces, Services, EndpointSlices and Pods call set* on
 * every add and update and delete* on every delete, then markSynced() once
 * each has listed. Each object is reduced to what DNS serves, as CoreDNS's
 * kubernetes plugin reduces it (plugin/kubernetes/object): a Service to its
 * kind, ClusterIPs and ports; a slice to its ready addresses (`ready` unset
 * counts as ready, as the API says consumers should read it) with their
 * hostnames and the slice's ports; a pod to its IP, unless it is terminating.
 *
 * Invariant: every index holds exactly the keys of the objects last set and
 * not deleted (a set replaces the object's previous entries first).
 */
import type { Namespace } from '../../api/core/v1/namespace.js';
import type { Pod } from '../../api/core/v1/pod.js';
import type { Service } from '../../api/core/v1/service.js';
import { type EndpointSlice, LABEL_SERVICE_NAME } from '../../api/discovery/v1/endpointslice.js';
import type { KObject } from '../../api/object.js';
import { type Clock, systemClock } from '../../util/clock.js';
import { canonicalIP, dashedAddress } from './names.js';
import type { EndpointRecord, PodRecord, RecordPort, RecordSource, ServiceRecord } from './records.js';

/** Values by key, each key holding a set. */
class MultiIndex<V> {
  private readonly map = new Map<string, Set<V>>();
  add(key: string, value: V): void {
    const set = this.map.get(key) ?? new Set<V>();
    set.add(value);
    this.map.set(key, set);
  }
  remove(key: string, value: V): void {
    const set = this.map.get(key);
    if (!set) return;
    set.delete(value);
    if (set.size === 0) this.map.delete(key);
  }
  get(key: string): ReadonlySet<V> {
    return this.map.get(key) ?? new Set<V>();
  }
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const NO_PORTS: readonly RecordPort[] = [{ name: '', protocol: '', port: -1 }];

function serviceRecord(svc: Service & KObject): ServiceRecord {
  const spec = svc.spec ?? {};
  const ports = (spec.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port }));
  const base = { namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', ports: ports.length > 0 ? ports : NO_PORTS };
  if (spec.type === 'ExternalName') return { ...base, kind: 'ExternalName', clusterIPs: [], externalName: spec.externalName ?? '' };
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (ips[0] === 'None') return { ...base, kind: 'Headless', clusterIPs: [] };
  return { ...base, kind: 'ClusterIP', clusterIPs: ips.map(canonicalIP).filter((ip): ip is string => ip !== undefined) };
}

function endpointRecords(slice: EndpointSlice & KObject, namespace: string, service: string): EndpointRecord[] {
  const declared = (slice.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port ?? -1 }));
  const ports = declared.length > 0 ? declared : NO_PORTS;
  const out: EndpointRecord[] = [];
  for (const ep of slice.endpoints ?? []) {
    if (ep.conditions?.ready === false) continue;
    for (const written of ep.addresses) {
      const address = canonicalIP(written);
      if (address) out.push({ namespace, service, address, hostname: ep.hostname || dashedAddress(written), ports });
    }
  }
  return out;
}

export class ClusterRecords implements RecordSource {
  private readonly namespaces = new Set<string>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly servicesByAddress = new MultiIndex<string>();
  /** Slice key → its Service's key and ready endpoints. */
  private readonly slices = new Map<string, { service: string; endpoints: EndpointRecord[] }>();
  private readonly slicesByService = new MultiIndex<string>();
  private readonly slicesByAddress = new MultiIndex<string>();
  private readonly pods = new Map<string, PodRecord>();
  private readonly podsByAddress = new MultiIndex<string>();
  private modified: number;
  private isSynced = false;

  constructor(private readonly clock: Clock = systemClock) {
    this.modified = clock.now();
  }

  synced(): boolean {
    return this.isSynced;
  }

  /** Every kind has been listed once: from now on a name that is not here does not exist. */
  markSynced(): void {
    this.isSynced = true;
  }

  lastModified(): number {
    return this.modified;
  }

  private touch(): void {
    this.modified = this.clock.now();
  }

  setNamespace(ns: Namespace & KObject): void {
    this.namespaces.add(ns.metadata.name ?? '');
    this.touch();
  }

  deleteNamespace(ns: Namespace & KObject): void {
    this.namespaces.delete(ns.metadata.name ?? '');
    this.touch();
  }

  setService(svc: Service & KObject): void {
    this.deleteService(svc);
    const record = serviceRecord(svc);
    const key = keyOf(record.namespace, record.name);
    this.services.set(key, record);
    for (const ip of record.clusterIPs) this.servicesByAddress.add(ip, key);
  }

  deleteService(svc: Service & KObject): void {
    const key = keyOf(svc.metadata.namespace ?? '', svc.metadata.name ?? '');
    const old = this.services.get(key);
    if (old) for (const ip of old.clusterIPs) this.servicesByAddress.remove(ip, key);
    this.services.delete(key);
    this.touch();
  }

  setEndpointSlice(slice: EndpointSlice & KObject): void {
    this.deleteEndpointSlice(slice);
    const namespace = slice.metadata.namespace ?? '';
    const service = slice.metadata.labels?.[LABEL_SERVICE_NAME];
    // A slice no Service claims serves no name (CoreDNS indexes slices by this label).
    if (!service) return;
    const key = keyOf(namespace, slice.metadata.name ?? '');
    const endpoints = endpointRecords(slice, namespace, service);
    this.slices.set(key, { service: keyOf(namespace, service), endpoints });
    this.slicesByService.add(keyOf(namespace, service), key);
    for (const ep of endpoints) this.slicesByAddress.add(ep.address, key);
  }

  deleteEndpointSlice(slice: EndpointSlice & KObject): void {
    const key = keyOf(slice.metadata.namespace ?? '', slice.metadata.name ?? '');
    const old = this.slices.get(key);
    if (old) {
      this.slicesByService.remove(old.service, key);
      for (const ep of old.endpoints) this.slicesByAddress.remove(ep.address, key);
    }
    this.slices.delete(key);
    this.touch();
  }

  setPod(pod: Pod & KObject): void {
    this.deletePod(pod);
    const ip = canonicalIP(pod.status?.podIP ?? '');
    // A terminating pod is no longer answered for (CoreDNS drops it).
    if (!ip || pod.metadata.deletionTimestamp) return;
    const record = { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', ip };
    const key = keyOf(record.namespace, record.name);
    this.pods.set(key, record);
    this.podsByAddress.add(ip, key);
  }

  deletePod(pod: Pod & KObject): void {
    const key = keyOf(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    const old = this.pods.get(key);
    if (old) this.podsByAddress.remove(old.ip, key);
    this.pods.delete(key);
    this.touch();
  }

  namespaceExists(name: string): boolean {
    return this.namespaces.has(name);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.services.get(keyOf(namespace, name));
  }

  endpoints(namespace: string, service: string): readonly EndpointRecord[] {
    return [...this.slicesByService.get(keyOf(namespace, service))].flatMap((key) => this.slices.get(key)?.endpoints ?? []);
  }

  servicesByIP(ip: string): readonly ServiceRecord[] {
    return [...this.servicesByAddress.get(ip)].map((key) => this.services.get(key)!);
  }

  endpointsByIP(ip: string): readonly EndpointRecord[] {
    return [...this.slicesByAddress.get(ip)].flatMap((key) => (this.slices.get(key)?.endpoints ?? []).filter((ep) => ep.address === ip));
  }

  podsByIP(ip: string): readonly PodRecord[] {
    return [...this.podsByAddress.get(ip)].map((key) => this.pods.get(key)!);
  }
}
