/**
 * The answers of the cluster zone (`cluster.local`) and of PTR names for
 * the cluster's addresses, as CoreDNS's kubernetes plugin gives them
 * (plugin/kubernetes and plugin/backend_lookup.go), over a RecordSource:
 *
 * - `svc.ns.svc.<zone>`: A/AAAA with a ClusterIP Service's ClusterIPs, or a
 *   headless Service's ready endpoint addresses (one record each; a headless
 *   Service with none is NXDOMAIN); an ExternalName Service is a CNAME for
 *   its externalName, followed (in the zone, or upstream through `lookup`).
 * - `hostname.svc.ns.svc.<zone>`: the endpoint of that Service with that
 *   hostname (a StatefulSet pod's, or a pod's spec.hostname when its
 *   spec.subdomain names the Service), or with that dashed address.
 * - `_port._proto.svc.ns.svc.<zone>` (and `svc.ns.svc.<zone>`, every port):
 *   SRV per named port, target the Service's name (ClusterIP) or each
 *   endpoint's, weights shared out of 100, addresses in the additional section.
 * - `1-2-3-4.ns.pod.<zone>`: A for a pod of that namespace with that IP
 *   (pods `verified`, the default here; `insecure` answers any address, as
 *   kube-dns did; `disabled` answers none).
 * - PTR for a ClusterIP (its Service's name) or a ready endpoint address
 *   (each endpoint name); other addresses are not ours (undefined: forward).
 * - TXT `dns-version.<zone>` 1.1.0 (the DNS specification's version); SOA
 *   and NS at the apex.
 *
 * Every answer is authoritative with TTL 5 s. A name that does not exist is
 * NXDOMAIN (SERVFAIL until the source has synced, so a restart does not deny
 * names that exist), a name that exists without records of the type asked is
 * NODATA (NOERROR, no answer); both carry the zone's SOA in the authority
 * section, whose minimum (5 s) bounds how long resolvers cache the denial.
 */
import type { Answer, Question } from 'dns-packet';
import { isIPv4, parseIPSloppy } from '../../api/ip.js';
import { addressFromReverse, canonicalIP, type ClusterName, inZone, isReverse, normalizeName, parseClusterName } from './names.js';
import type { RecordPort, RecordSource } from './records.js';

export interface ClusterZoneOptions {
  /** @default cluster.local */
  zone?: string;
  /** TTL of every answer, in seconds (CoreDNS's `ttl`). @default 5 */
  ttl?: number;
  /** Pod A records (CoreDNS's `pods`). @default verified */
  pods?: 'verified' | 'insecure' | 'disabled';
  /** The addresses this server is reached at: the zone's NS (`ns.dns.<zone>`). @default none */
  nameservers?: readonly string[];
}

/** Resolves a name outside the zone (an ExternalName's target) upstream: its answers, or undefined when that failed. */
export type UpstreamLookup = (name: string, type: 'A' | 'AAAA') => Promise<Answer[] | undefined>;

export interface ZoneReply {
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** CoreDNS's msg.Service: what a name leads to before it becomes records. */
interface Entry {
  /** An address, or a name (a CNAME target). */
  host: string;
  port: number;
  /** The name SRV records point at and address records in the additional section carry. */
  target: string;
}

/** A name's entries, or the name does not exist. */
type Found = { entries: Entry[] } | NameError;
/** The records a question is answered with, or the name does not exist. */
type Answered = { answers: Answer[]; additionals: Answer[] } | NameError;
interface NameError {
  nameError: true;
}

const NAME_ERROR: NameError = { nameError: true };
/** The DNS specification version CoreDNS serves at dns-version.<zone>. */
const DNS_SCHEMA_VERSION = '1.1.0';
const MAX_CNAME_CHAIN = 10;
const NO_UPSTREAM: UpstreamLookup = async () => undefined;

function hostType(host: string): 'A' | 'AAAA' | 'CNAME' {
  const ip = parseIPSloppy(host);
  if (!ip) return 'CNAME';
  return isIPv4(ip) ? 'A' : 'AAAA';
}

function matchPort(r: ClusterName, p: RecordPort): boolean {
  return (r.port === '' || r.port === p.name.toLowerCase()) && (r.protocol === '' || r.protocol === p.protocol.toLowerCase());
}

const records = (answers: Answer[], additionals: Answer[] = []): Answered => ({ answers, additionals });

export class ClusterZone {
  readonly zone: string;
  private readonly ttl: number;
  private readonly pods: 'verified' | 'insecure' | 'disabled';
  private readonly nameservers: readonly string[];

  constructor(
    private readonly source: RecordSource,
    opts: ClusterZoneOptions = {},
  ) {
    this.zone = normalizeName(opts.zone ?? 'cluster.local');
    this.ttl = opts.ttl ?? 5;
    this.pods = opts.pods ?? 'verified';
    this.nameservers = opts.nameservers ?? [];
  }

  /**
   * The reply to one question, or undefined when the name is not ours to
   * answer (outside the zone, or a PTR for an address the cluster does not
   * know): the caller forwards it. `lookup` resolves an ExternalName's
   * target outside the zone.
   */
  async answer(q: Question, lookup: UpstreamLookup): Promise<ZoneReply | undefined> {
    const name = normalizeName(q.name);
    if (isReverse(name)) return q.type === 'PTR' ? this.reverse(q.name, name) : undefined;
    if (!inZone(name, this.zone)) return undefined;
    let result: Answered;
    switch (q.type) {
      case 'A':
      case 'AAAA':
        result = await this.addresses(q.name, q.type, [], lookup);
        break;
      case 'SRV':
        result = this.srv(q.name);
        break;
      case 'CNAME':
        result = this.cname(q.name);
        break;
      case 'TXT':
        result = this.txt(q.name);
        break;
      case 'SOA':
        // Only the apex has one; below it every name is NODATA, as in CoreDNS.
        result = records(name === this.zone ? [this.soa()] : []);
        break;
      case 'AXFR':
      case 'IXFR':
        return { rcode: 'REFUSED', answers: [], authorities: [], additionals: [] };
      case 'NS':
        result = name === this.zone ? this.ns(q.name) : await this.nodata(q.name);
        break;
      default:
        result = await this.nodata(q.name);
    }
    if ('nameError' in result) {
      return { rcode: this.source.synced() ? 'NXDOMAIN' : 'SERVFAIL', answers: [], authorities: [this.soa()], additionals: [] };
    }
    const { answers, additionals } = result;
    return { rcode: 'NOERROR', answers, authorities: answers.length === 0 ? [this.soa()] : [], additionals };
  }

  /** No records of the type asked: NODATA where the name exists, told by an A lookup (as CoreDNS does for other types). */
  private async nodata(qname: string): Promise<Answered> {
    const result = await this.addresses(qname, 'A', [], NO_UPSTREAM);
    return 'nameError' in result ? result : records([]);
  }

  private soa(): Answer {
    return {
      name: this.zone,
      type: 'SOA',
      ttl: Math.min(this.ttl, 300),
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: Math.floor(this.source.lastModified() / 1000) >>> 0,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }

  /** The entries of a name in the zone (CoreDNS's Records). */
  private find(name: string): Found {
    const r = parseClusterName(name, this.zone);
    if (!r) return NAME_ERROR;
    if (r.podOrSvc === '') return { entries: [] };
    if (!this.source.namespaceExists(r.namespace)) return NAME_ERROR;
    return r.podOrSvc === 'pod' ? this.findPods(r) : this.findServices(r);
  }

  private findPods(r: ClusterName): Found {
    if (this.pods === 'disabled') return NAME_ERROR;
    if (r.service === '') return { entries: [] };
    const podname = r.service;
    const dotted = (podname.match(/-/g) ?? []).length === 3 && !podname.includes('--');
    const ip = canonicalIP(dotted ? podname.replaceAll('-', '.') : podname.replaceAll('-', ':'));
    if (!ip) return NAME_ERROR;
    const entry = { host: ip, port: 0, target: `${podname}.${r.namespace}.pod.${this.zone}` };
    if (this.pods === 'insecure') return { entries: [entry] };
    return this.source.podsByIP(ip).some((p) => p.namespace === r.namespace) ? { entries: [entry] } : NAME_ERROR;
  }

  private findServices(r: ClusterName): Found {
    if (r.service === '') return { entries: [] };
    const svc = this.source.service(r.namespace, r.service);
    if (!svc) return NAME_ERROR;
    const svcName = `${svc.name}.${svc.namespace}.svc.${this.zone}`;
    if (svc.kind === 'ExternalName') {
      // No endpoints, ports or protocols below an external name.
      if (r.endpoint || r.port || r.protocol || hostType(svc.externalName ?? '') !== 'CNAME') return NAME_ERROR;
      return { entries: [{ host: svc.externalName!, port: 0, target: svcName }] };
    }
    if (svc.kind === 'Headless' || r.endpoint) {
      const entries: Entry[] = [];
      for (const ep of this.source.endpoints(svc.namespace, svc.name)) {
        if (r.endpoint && r.endpoint !== ep.hostname.toLowerCase()) continue;
        for (const p of ep.ports) {
          if (matchPort(r, p)) entries.push({ host: ep.address, port: p.port, target: `${ep.hostname}.${svcName}` });
        }
      }
      // A headless Service without a ready endpoint has no name (CoreDNS).
      return entries.length > 0 ? { entries } : NAME_ERROR;
    }
    const ports = svc.ports.filter((p) => matchPort(r, p));
    if (ports.length === 0) return NAME_ERROR;
    return { entries: ports.flatMap((p) => svc.clusterIPs.map((ip) => ({ host: ip, port: p.port, target: svcName }))) };
  }

  /** A or AAAA records of `qname`, following CNAMEs (plugin.A and plugin.AAAA); `chain` holds the CNAME targets that led here. */
  private async addresses(qname: string, type: 'A' | 'AAAA', chain: string[], lookup: UpstreamLookup): Promise<Answered> {
    const name = normalizeName(qname);
    const found: Found = name === `ns.dns.${this.zone}` ? { entries: this.nameservers.map((host) => ({ host, port: 0, target: name })) } : this.find(name);
    if ('nameError' in found) return found;
    const answers: Answer[] = [];
    const seen = new Set<string>();
    for (const entry of found.entries) {
      const what = hostType(entry.host);
      if (what === type && !seen.has(entry.host)) answers.push({ name: qname, type, ttl: this.ttl, data: entry.host });
      seen.add(entry.host);
      if (what !== 'CNAME') continue;
      const target = normalizeName(entry.host);
      // x CNAME x, a chain too long, or a target met before: a loop.
      if (target === name || chain.length > MAX_CNAME_CHAIN || chain.includes(target)) continue;
      const cname: Answer = { name: qname, type: 'CNAME', ttl: this.ttl, data: entry.host };
      if (inZone(target, this.zone)) {
        const next = await this.addresses(entry.host, type, [...chain, target], lookup);
        if (!('nameError' in next) && next.answers.length > 0) answers.push(cname, ...next.answers);
        continue;
      }
      const upstream = await lookup(entry.host, type);
      if (upstream) answers.push(cname, ...upstream);
    }
    return records(answers);
  }

  /** SRV records of every entry with a port, and the targets' addresses in the additional section (plugin.SRV). */
  private srv(qname: string): Answered {
    const found = this.find(normalizeName(qname));
    if ('nameError' in found) return found;
    // External names have no SRV records.
    const entries = found.entries.filter((e) => hostType(e.host) !== 'CNAME');
    // Every entry weighs 100 at priority 0: each record gets its share of 100, at least 1.
    const weight = Math.max(1, Math.floor((100 / (100 * entries.length)) * 100));
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      if (e.port === -1) continue;
      const srvKey = `srv ${e.target} ${e.port}`;
      const addrKey = `addr ${e.target} ${e.host}`;
      if (!seen.has(srvKey)) answers.push({ name: qname, type: 'SRV', ttl: this.ttl, data: { priority: 0, weight, port: e.port, target: e.target } });
      if (!seen.has(addrKey)) additionals.push({ name: e.target, type: hostType(e.host) as 'A' | 'AAAA', ttl: this.ttl, data: e.host });
      seen.add(srvKey).add(addrKey);
    }
    return records(answers, additionals);
  }

  /** The CNAME of an ExternalName Service; other names exist without one. */
  private cname(qname: string): Answered {
    const found = this.find(normalizeName(qname));
    if ('nameError' in found) return found;
    const first = found.entries[0];
    return records(first && hostType(first.host) === 'CNAME' ? [{ name: qname, type: 'CNAME', ttl: this.ttl, data: first.host }] : []);
  }

  /** `dns-version.<zone>`; any other name with entries is NODATA, and without them NXDOMAIN (as CoreDNS). */
  private txt(qname: string): Answered {
    const name = normalizeName(qname);
    if (name === `dns-version.${this.zone}`) return records([{ name: qname, type: 'TXT', ttl: 28800, data: DNS_SCHEMA_VERSION }]);
    const found = this.find(name);
    return 'entries' in found && found.entries.length > 0 ? records([]) : NAME_ERROR;
  }

  /** The apex's NS: ns.dns.<zone>, with this server's addresses beside it. */
  private ns(qname: string): Answered {
    const target = `ns.dns.${this.zone}`;
    return records(
      this.nameservers.length > 0 ? [{ name: qname, type: 'NS', ttl: this.ttl, data: target }] : [],
      this.nameservers.map((ip): Answer => ({ name: target, type: hostType(ip) as 'A' | 'AAAA', ttl: this.ttl, data: ip })),
    );
  }

  /** PTR for a ClusterIP (its Service's name) or else a ready endpoint address (each endpoint's name); undefined for others. */
  private reverse(qname: string, name: string): ZoneReply | undefined {
    const ip = addressFromReverse(name);
    if (!ip) return undefined;
    const service = this.source.servicesByIP(ip)[0];
    const targets = service
      ? [`${service.name}.${service.namespace}.svc.${this.zone}`]
      : [...new Set(this.source.endpointsByIP(ip).map((ep) => `${ep.hostname}.${ep.service}.${ep.namespace}.svc.${this.zone}`))];
    if (targets.length === 0) return undefined;
    const answers = targets.map((data): Answer => ({ name: qname, type: 'PTR', ttl: this.ttl, data }));
    return { rcode: 'NOERROR', answers, authorities: [], additionals: [] };
  }
}
