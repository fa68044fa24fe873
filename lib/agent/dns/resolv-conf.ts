/**
 * A pod's resolv.conf as the kubelet forms it (pkg/kubelet/network/dns):
 * by `dnsPolicy`
 * - ClusterFirst (the default) and ClusterFirstWithHostNet: the cluster DNS
 *   servers only, the search list `<ns>.svc.<domain> svc.<domain> <domain>`
 *   followed by the node's own, and `options ndots:5`. A hostNetwork pod
 *   under ClusterFirst gets Default instead; without cluster DNS servers,
 *   ClusterFirst falls back to Default with a MissingClusterDNS warning;
 * - Default: the node's resolv.conf (nameservers, search, options);
 * - None: nothing but `dnsConfig`;
 * then `dnsConfig` is merged in (nameservers and searches appended without
 * duplicates, options overriding by name) and the result cut to kube's
 * limits: 3 nameservers, 32 search domains of at most 253 characters in a
 * line of at most 2048, each cut reported in the kubelet's DNSConfigForming
 * warning. The file is written as the container runtime writes it (search,
 * nameserver, options lines).
 *
 * Pure functions: reading the node's file and emitting events are the caller's.
 */
import type { Pod } from '../../api/core/v1/pod.js';
import { MAX_DNS_NAMESERVERS, MAX_DNS_SEARCH_LIST_CHARS, MAX_DNS_SEARCH_PATHS, type PodDNSConfig } from '../../api/core/v1/pod-dns.js';
import type { KObject } from '../../api/object.js';

/** A resolver configuration: the three lines of resolv.conf that matter. */
export interface DNSConfig {
  servers: string[];
  searches: string[];
  /** `name` or `name:value`. */
  options: string[];
}

export interface NodeDNSSettings {
  /** The cluster DNS server addresses (the kubelet's --cluster-dns): the node's DNS server. */
  clusterDNS: readonly string[];
  /** The cluster domain (--cluster-domain). @default cluster.local */
  clusterDomain?: string;
  /**
   * The node's resolver settings (--resolv-conf, parsed with
   * parseResolvConf), the base of Default and of the search list's tail.
   * Undefined is --resolv-conf="": the node's loopback as nameserver and no search.
   */
  host: DNSConfig | undefined;
  /** The node's addresses (for --resolv-conf=""): one loopback nameserver per family. @default [] */
  nodeIPs?: readonly string[];
}

/** A kubelet event about a pod's DNS (reason, message); the caller records it as a Warning. */
export interface DNSWarning {
  reason: 'DNSConfigForming' | 'MissingClusterDNS';
  message: string;
}

/** The length of a search domain the kubelet drops (glibc 2.28 aborts on longer ones): a DNS-1123 subdomain's most. */
const MAX_SEARCH_DOMAIN_CHARS = 253;
const DEFAULT_OPTIONS = ['ndots:5'];

/**
 * The kubelet's parseResolvConf: `nameserver` lines accumulate; the last
 * `search` line wins (trailing dots dropped, so `a.` and `a` count once);
 * the last `options` line wins; `#` comments and blank lines are skipped.
 */
export function parseResolvConf(text: string): DNSConfig {
  const out: DNSConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const [key, ...fields] = trimmed.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.servers.push(fields[0]);
    if (key === 'search') out.searches = fields.map((s) => s.replace(/\.$/, ''));
    if (key === 'options') out.options = fields;
  }
  return out;
}

const unique = (items: readonly string[]) => [...new Set(items)];

/** mergeDNSOptions: options by name, a later value replacing an earlier one in its place (kube's order is a Go map's; this one is stable). */
function mergeOptions(base: readonly string[], extra: PodDNSConfig['options']): string[] {
  const byName = new Map<string, string>();
  for (const op of base) {
    const i = op.indexOf(':');
    byName.set(i === -1 ? op : op.slice(0, i), i === -1 ? '' : op.slice(i + 1));
  }
  for (const op of extra ?? []) byName.set(op.name ?? '', op.value ?? '');
  return [...byName].map(([name, value]) => (value ? `${name}:${value}` : name));
}

function fitSearches(searches: string[], warnings: DNSWarning[]): string[] {
  let out = searches.slice(0, MAX_DNS_SEARCH_PATHS);
  let exceeded = out.length < searches.length;
  const fitting = out.filter((s) => s.length <= MAX_SEARCH_DOMAIN_CHARS);
  exceeded ||= fitting.length < out.length;
  out = fitting;
  // Drop domains from the end until the line fits.
  while (out.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    out = out.slice(0, -1);
    exceeded = true;
  }
  if (exceeded) {
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(' ')}`,
    });
  }
  return out;
}

function fitServers(servers: string[], warnings: DNSWarning[]): string[] {
  if (servers.length <= MAX_DNS_NAMESERVERS) return servers;
  const out = servers.slice(0, MAX_DNS_NAMESERVERS);
  warnings.push({
    reason: 'DNSConfigForming',
    message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${out.join(' ')}`,
  });
  return out;
}

/** The node's settings as the base of Default (loopback and `.` when the kubelet reads no file). */
function hostBase(node: NodeDNSSettings): DNSConfig {
  if (node.host) return { servers: [...node.host.servers], searches: [...node.host.searches], options: [...node.host.options] };
  const families = unique((node.nodeIPs ?? []).map((ip) => (ip.includes(':') ? '::1' : '127.0.0.1')));
  return { servers: families.length > 0 ? families : ['127.0.0.1'], searches: ['.'], options: [] };
}

/** GetPodDNS: the pod's resolver configuration, and the warnings the kubelet records as events. */
export function podDNSConfig(pod: Pod & KObject, node: NodeDNSSettings): { config: DNSConfig; warnings: DNSWarning[] } {
  const warnings: DNSWarning[] = [];
  const spec = pod.spec ?? {};
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const domain = node.clusterDomain ?? 'cluster.local';
  let config: DNSConfig;
  // getPodDNSType: a hostNetwork pod under ClusterFirst uses the node's DNS; a policy the API should have refused counts as ClusterFirst.
  const type = policy === 'None' ? 'none' : policy === 'Default' || (policy === 'ClusterFirst' && spec.hostNetwork) ? 'host' : 'cluster';
  const clusterFirst = type === 'cluster';
  if (type === 'none') {
    config = { servers: [], searches: [], options: [] };
  } else if (clusterFirst && node.clusterDNS.length > 0) {
    // The cluster DNS server is the only nameserver: it forwards what is not the cluster's to the node's resolvers.
    const ns = pod.metadata.namespace ?? 'default';
    const hostSearches = node.host?.searches ?? [];
    config = {
      servers: [...node.clusterDNS],
      searches: unique([`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...hostSearches]),
      options: [...DEFAULT_OPTIONS],
    };
  } else {
    if (clusterFirst) {
      const message = `kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`;
      warnings.push({ reason: 'MissingClusterDNS', message: `pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})". ${message}` });
    }
    config = hostBase(node);
  }
  const extra = spec.dnsConfig;
  if (extra) {
    config = {
      servers: unique([...config.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...config.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(config.options, extra.options),
    };
  }
  return { config: { ...config, servers: fitServers(config.servers, warnings), searches: fitSearches(config.searches, warnings) }, warnings };
}

/** The file, as containerd's CRI plugin writes it: search, then one nameserver line each, then options. */
export function formatResolvConf(config: DNSConfig): string {
  const lines: string[] = [];
  if (config.searches.length > 0) lines.push(`search ${config.searches.join(' ')}`);
  for (const server of config.servers) lines.push(`nameserver ${server}`);
  if (config.options.length > 0) lines.push(`options ${config.options.join(' ')}`);
  return lines.map((l) => `${l}\n`).join('');
}
