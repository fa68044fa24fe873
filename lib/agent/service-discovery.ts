/**
 * How containers find Services without a cluster DNS server:
 *
 * - environment variables, exactly as the kubelet sets them for every Service
 *   of the pod's namespace that exists when the container starts
 *   (`enableServiceLinks`, default true), and for `default/kubernetes` in
 *   every pod: `WEB_SERVICE_HOST`,
 *   `WEB_SERVICE_PORT`, `WEB_SERVICE_PORT_HTTP`, and the Docker link forms
 *   `WEB_PORT`, `WEB_PORT_80_TCP`, `WEB_PORT_80_TCP_PROTO|PORT|ADDR`;
 * - a managed /etc/hosts (docker runtime), like the kubelet's, that also maps
 *   Service names to their ClusterIPs: `web`, `web.ns`, `web.ns.svc` and
 *   `web.ns.svc.cluster.local` for Services of the pod's namespace, the
 *   qualified forms for the others. The agent rewrites it in place when
 *   Services change, so names created after the pod resolve too.
 */
import { KUBERNETES_SERVICE_NAME, KUBERNETES_SERVICE_NAMESPACE } from '../api/core/v1/kubernetes-service.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { Service } from '../api/core/v1/service.js';
import type { KObject } from '../api/object.js';

export const CLUSTER_DOMAIN = 'cluster.local';

type S = Service & KObject;

function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None' && svc.spec?.type !== 'ExternalName';
}

function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

/** The Services of the `default` namespace every container learns of, whatever its namespace (kubelet's master services). */
const MASTER_SERVICES = new Set([KUBERNETES_SERVICE_NAME]);

/**
 * The kubelet's service environment variables (getServiceEnvVarMap): the
 * `kubernetes` Service of the `default` namespace for every pod, so an
 * in-cluster client finds the API server (KUBERNETES_SERVICE_HOST/PORT),
 * and with `enableServiceLinks` (default true) every Service of the pod's
 * namespace; a Service of that namespace wins over a master one of its name.
 */
export function serviceEnv(services: readonly S[], namespace: string, enableServiceLinks = true): Map<string, string> {
  const out = new Map<string, string>();
  const byName = new Map<string, S>();
  for (const s of services) {
    if (!hasClusterIP(s)) continue;
    const name = s.metadata.name ?? '';
    if (s.metadata.namespace === KUBERNETES_SERVICE_NAMESPACE && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, s);
    } else if (s.metadata.namespace === namespace && enableServiceLinks) byName.set(name, s);
  }
  const inNs = [...byName.values()].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const svc of inNs) {
    const name = envName(svc.metadata.name ?? '');
    const ip = svc.spec!.clusterIP!;
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) continue;
    out.set(`${name}_SERVICE_HOST`, ip);
    out.set(`${name}_SERVICE_PORT`, String(ports[0]!.port));
    for (const p of ports) if (p.name) out.set(`${name}_SERVICE_PORT_${envName(p.name)}`, String(p.port));
    const first = ports[0]!;
    out.set(`${name}_PORT`, `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`);
    for (const p of ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      out.set(prefix, `${proto.toLowerCase()}://${ip}:${p.port}`);
      out.set(`${prefix}_PROTO`, proto.toLowerCase());
      out.set(`${prefix}_PORT`, String(p.port));
      out.set(`${prefix}_ADDR`, ip);
    }
  }
  return out;
}

/** The pod's /etc/hosts: the kubelet's content plus the Services' names. */
export function hostsFile(pod: Pod & KObject, podIP: string, services: readonly S[]): string {
  const ns = pod.metadata.namespace ?? 'default';
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const hostname = pod.spec?.hostname ?? pod.metadata.name ?? '';
  const sub = pod.spec?.subdomain;
  if (podIP) lines.push(sub ? `${podIP}\t${hostname}.${sub}.${ns}.svc.${CLUSTER_DOMAIN}\t${hostname}` : `${podIP}\t${hostname}`);
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  }
  const named = services
    .filter(hasClusterIP)
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  if (named.length > 0) {
    lines.push('', '# Services (kumo: no cluster DNS; the agent keeps these current).');
    for (const svc of named) {
      const n = svc.metadata.name ?? '';
      const sns = svc.metadata.namespace ?? '';
      const names = [`${n}.${sns}.svc.${CLUSTER_DOMAIN}`, `${n}.${sns}.svc`, `${n}.${sns}`];
      if (sns === ns) names.push(n);
      lines.push(`${svc.spec!.clusterIP}\t${names.join(' ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
