/**
 * CoreDNS's request and response counters (plugin/metrics/vars), under its
 * names and labels, so dashboards and alerts written for CoreDNS read the
 * node DNS as they read CoreDNS:
 * - `coredns_dns_requests_total{server, zone, view, proto, family, type}`
 * - `coredns_dns_responses_total{server, zone, view, rcode, plugin}`
 * `server` is `dns://<address>:<port>`; `zone` the zone that answered
 * (`cluster.local.`, or `.` for what is forwarded and what was refused
 * before a zone was known); `view` is always empty (no views here); `plugin`
 * the CoreDNS plugin whose place answered (`kubernetes`, `forward`), empty
 * for the server's own errors (FORMERR, NOTIMP). prom-client keeps them in
 * the registry the process's /metrics serves.
 */
import { Counter, type Registry } from 'prom-client';

/** The query types CoreDNS counts by name (vars.monitorType); every other type is `other`. */
const MONITORED_TYPES = new Set([
  'A',
  'AAAA',
  'NS',
  'PTR',
  'SOA',
  'MX',
  'TXT',
  'SRV',
  'CNAME',
  'NAPTR',
  'DS',
  'DNSKEY',
  'RRSIG',
  'NSEC',
  'NSEC3',
  'HINFO',
  'IXFR',
  'AXFR',
  'ANY',
]);
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export interface DnsExchange {
  /** `dns://<address>:<port>` */
  server: string;
  zone: string;
  proto: 'udp' | 'tcp';
  /** The client's address family. */
  family: 4 | 6;
  /** The question's type, as dns-packet names it; undefined when the query did not decode. */
  type: string | undefined;
  /** The reply's RCODE (its header's low four bits). */
  rcode: number;
  plugin: 'kubernetes' | 'forward' | '';
}

export class DnsMetrics {
  private readonly requests: Counter;
  private readonly responses: Counter;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per zone, protocol and family.',
      labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
      registers: [registry],
    });
    this.responses = new Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
      registers: [registry],
    });
  }

  /** Counts one query and its reply (a dropped query counts in neither, as CoreDNS's). */
  observe(x: DnsExchange): void {
    const type = x.type !== undefined && MONITORED_TYPES.has(x.type) ? x.type : 'other';
    this.requests.inc({ server: x.server, zone: x.zone, view: '', proto: x.proto, family: String(x.family === 6 ? 2 : 1), type });
    const rcode = RCODES[x.rcode] ?? `RCODE${x.rcode}`;
    this.responses.inc({ server: x.server, zone: x.zone, view: '', rcode, plugin: x.plugin });
  }
}
