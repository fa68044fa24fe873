/**
 * What the cluster DNS server answers from: the cluster's Services, their
 * ready endpoints, pods and namespaces, looked up the ways the answers need
 * them (by name, and by address for PTR and pod records). The server reads
 * only this interface; ClusterRecords (cluster-records.ts) implements it over
 * Kubernetes objects that an agent's informers hand it.
 *
 * Addresses in and out are canonical (Go's net.IP.String(): dotted IPv4,
 * RFC 5952 IPv6), so `fd00:0::1` and `fd00::1` meet.
 */

/** A port a Service or an endpoint serves. `port` -1: none declared (CoreDNS's sentinel: names, but no SRV record). */
export interface RecordPort {
  /** '' when unnamed. */
  name: string;
  /** TCP, UDP or SCTP; '' only on the sentinel. */
  protocol: string;
  port: number;
}

export interface ServiceRecord {
  namespace: string;
  name: string;
  /** ClusterIP (NodePort and LoadBalancer included), Headless (`clusterIP: None`) or ExternalName. */
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  /** The ClusterIPs (one per family); empty unless kind is ClusterIP. */
  clusterIPs: readonly string[];
  /** kind ExternalName: the name the Service is a CNAME for. */
  externalName?: string;
  ports: readonly RecordPort[];
}

/** One ready address of a Service's EndpointSlices, with that slice's ports. */
export interface EndpointRecord {
  namespace: string;
  service: string;
  address: string;
  /**
   * The label it is served under (`hostname.service.ns.svc.<zone>`): the
   * endpoint's hostname (a pod's spec.hostname when its spec.subdomain names
   * the Service, as every StatefulSet pod's does), else the address with its
   * dots or colons as dashes (`10-244-1-7`), as CoreDNS names it.
   */
  hostname: string;
  ports: readonly RecordPort[];
}

export interface PodRecord {
  namespace: string;
  name: string;
  ip: string;
}

export interface RecordSource {
  /** False until every kind has been listed once: the cluster zone answers SERVFAIL instead of NXDOMAIN until then, as CoreDNS does. */
  synced(): boolean;
  namespaceExists(name: string): boolean;
  service(namespace: string, name: string): ServiceRecord | undefined;
  /** The Service's ready endpoint addresses, one record per address and slice. */
  endpoints(namespace: string, service: string): readonly EndpointRecord[];
  /** Services with this ClusterIP. */
  servicesByIP(ip: string): readonly ServiceRecord[];
  /** Ready endpoints with this address, of any Service. */
  endpointsByIP(ip: string): readonly EndpointRecord[];
  /** Running pods (not terminating) with this IP. */
  podsByIP(ip: string): readonly PodRecord[];
  /** When anything last changed, in ms since the epoch: the zone's SOA serial (in seconds), as CoreDNS's. */
  lastModified(): number;
}
