/**
 * Service addresses: a ClusterIP from the service CIDR (10.96.0.0/12, as
 * kubeadm's default) and node ports from 30000-32767, each unused by the
 * services that exist. Picks are random, so concurrent creates rarely race;
 * when they do, two services share an address, which kumo's simulated
 * network tolerates (nothing routes ClusterIPs locally).
 */
import type { Service } from '../../api/core/v1/service.js';
import type { KObject } from '../../api/object.js';
import { StatusError } from '../errors.js';

const CIDR_BASE = (10 << 24) | (96 << 16);
/** 10.96.0.0/12 minus the network address and 10.96.0.1 (the `kubernetes` service in Kubernetes). */
const CIDR_SIZE = 1 << 20;
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

function ipString(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function pick<T>(draw: () => T, used: Set<T>, what: string): T {
  for (let i = 0; i < 64; i++) {
    const v = draw();
    if (!used.has(v)) return v;
  }
  throw new StatusError(500, 'InternalError', `Internal error occurred: failed to allocate a ${what}: range is full`);
}

/** Fills spec.clusterIP(s) and node ports a new Service needs. Mutates `obj`. */
export async function allocateServiceAddresses(obj: KObject, existing: () => Promise<KObject[]>): Promise<void> {
  const spec = ((obj as Service).spec ??= {});
  const type = spec.type ?? 'ClusterIP';
  const needsIP = type !== 'ExternalName' && !spec.clusterIP;
  const needsPorts = (type === 'NodePort' || type === 'LoadBalancer') && (spec.ports ?? []).some((p) => !p.nodePort);
  if (!needsIP && !needsPorts && (spec.clusterIP === undefined || spec.clusterIPs)) {
    if (spec.clusterIP && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const services = (await existing()) as Service[];
  if (needsIP) {
    const used = new Set(services.map((s) => s.spec?.clusterIP).filter((ip): ip is string => !!ip && ip !== 'None'));
    spec.clusterIP = pick(() => ipString(CIDR_BASE + 2 + Math.floor(Math.random() * (CIDR_SIZE - 3))), used, 'ClusterIP');
  }
  if (spec.clusterIP && spec.clusterIP !== 'None' && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
  if (spec.clusterIP === 'None') spec.clusterIPs ??= ['None'];
  if (needsPorts) {
    const used = new Set<number>();
    for (const s of services) for (const p of s.spec?.ports ?? []) if (p.nodePort) used.add(p.nodePort);
    for (const p of spec.ports ?? []) if (p.nodePort) used.add(p.nodePort);
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      p.nodePort = pick(() => NODE_PORT_MIN + Math.floor(Math.random() * (NODE_PORT_MAX - NODE_PORT_MIN + 1)), used, 'node port');
      used.add(p.nodePort);
    }
  }
}

/** On update the allocated addresses stay: a body that leaves them out keeps the old ones. Mutates `obj`. */
export function keepServiceAddresses(obj: KObject, old: KObject): void {
  const spec = ((obj as Service).spec ??= {});
  const prev = (old as Service).spec ?? {};
  if (spec.type === 'ExternalName') return;
  if (!spec.clusterIP && prev.clusterIP) spec.clusterIP = prev.clusterIP;
  if (!spec.clusterIPs && prev.clusterIPs) spec.clusterIPs = prev.clusterIPs;
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const same = (prev.ports ?? []).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (same?.nodePort) p.nodePort = same.nodePort;
    }
  }
}
