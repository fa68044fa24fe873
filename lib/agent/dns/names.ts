/**
 * How the cluster DNS reads a query name and names an address, after
 * CoreDNS's kubernetes plugin (plugin/kubernetes/parse.go, its
 * endpointHostname, plugin/pkg/dnsutil/reverse.go). Names are compared
 * lowercased, as Kubernetes names are.
 */
import { formatIP, parseIPSloppy } from '../../api/ip.js';

/** The canonical form of an address, or undefined when it is none. */
export function canonicalIP(value: string): string | undefined {
  const ip = parseIPSloppy(value);
  return ip ? formatIP(ip) : undefined;
}

/** CoreDNS's endpointHostname without a hostname: `10.0.0.1` → `10-0-0-1`, `fd00::1` → `fd00--1`, `fd00::` → `fd00--0`. */
export function dashedAddress(address: string): string {
  if (address.includes('.')) return address.replaceAll('.', '-');
  const dashed = address.replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}

/**
 * A name under the cluster zone, read right to left:
 * `[_port._proto. | endpoint.] service.namespace.(svc|pod).zone`.
 * `podOrSvc` '' is the zone, `svc.<zone>` or `pod.<zone>` themselves (they
 * exist, with no records); a missing part is ''.
 */
export interface ClusterName {
  podOrSvc: '' | 'svc' | 'pod';
  namespace: string;
  service: string;
  endpoint: string;
  /** SRV's `_port` label without its underscore ('' for `_`: any port). */
  port: string;
  /** SRV's `_proto` label without its underscore. */
  protocol: string;
}

const EMPTY: ClusterName = { podOrSvc: '', namespace: '', service: '', endpoint: '', port: '', protocol: '' };

/** Lowercased, without the trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Whether `name` (normalized) is `zone` or below it. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/**
 * parseRequest: the parts of a name under `zone`, or undefined when it
 * cannot name anything (not `svc` or `pod` under the zone, or more labels
 * than an SRV or endpoint name has): those are NXDOMAIN.
 */
export function parseClusterName(name: string, zone: string): ClusterName | undefined {
  const base = name === zone ? '' : name.slice(0, -(zone.length + 1));
  if (base === '' || base === 'svc' || base === 'pod') return EMPTY;
  const segs = base.split('.');
  const podOrSvc = segs.pop();
  if (podOrSvc !== 'svc' && podOrSvc !== 'pod') return undefined;
  const out: ClusterName = { ...EMPTY, podOrSvc };
  out.namespace = segs.pop() ?? '';
  out.service = segs.pop() ?? '';
  if (segs.length === 1) out.endpoint = segs[0]!;
  else if (segs.length === 2) [out.port, out.protocol] = segs.map((s) => (s.startsWith('_') ? s.slice(1) : s)) as [string, string];
  else if (segs.length > 2) return undefined;
  return out;
}

/**
 * ExtractAddressFromReverse: the canonical address a PTR name stands for
 * (`4.3.2.1.in-addr.arpa` → `1.2.3.4`, 32 nibbles under `ip6.arpa`), or
 * undefined when the name is in neither reverse zone or is no whole address.
 */
export function addressFromReverse(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    return labels.length === 4 ? canonicalIP(labels.reverse().join('.')) : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    return canonicalIP(hex.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

/** Whether `name` is under one of the reverse zones. */
export function isReverse(name: string): boolean {
  return name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');
}
