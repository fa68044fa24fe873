/**
 * Service addresses: a ClusterIP from the service range (10.96.0.0/12 by
 * default, kube-apiserver's --service-cluster-ip-range) and node ports from
 * 30000-32767 (--service-node-port-range).
 *
 * Uniqueness holds under concurrency, in one process or across Lambda
 * invocations: every allocated address is a record in the store, keyed by the
 * address itself, created with the store's create-if-absent (Kubernetes 1.33+
 * keeps one IPAddress object per ClusterIP for the same reason). Two creates
 * that pick the same address cannot both create its record; the loser picks
 * another. A record names the Service (namespace, name, uid) that holds it.
 *
 * Records are freed when their Service is deleted or stops using the address
 * (afterWrite). A record whose Service is gone or no longer uses it (a write
 * that failed after allocating, a process that died in between) is stale:
 * allocation reclaims it when it meets it, so nothing needs a repair loop.
 */
import type { Service } from '../../api/core/v1/service.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import type { KObject } from '../../api/object.js';
import { AlreadyExistsError, type Store } from '../../store/types.js';
import type { WriteHookContext } from '../strategy.js';
import { StatusError } from '../../api/errors.js';

/** Store resources of the allocation records (not served by the API). */
export const IP_RECORDS = 'kumo-serviceips';
export const NODE_PORT_RECORDS = 'kumo-nodeports';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

/** The Service strategy's allocate and afterWrite hooks: `existing` lists the Services that exist now. */
type AllocationContext = WriteHookContext;

interface AllocationRecord extends KObject {
  owner: { namespace: string; name: string; uid: string };
}

export interface IPRange {
  cidr: string;
  /** First usable address (network + 1) and the count of usable addresses. */
  base: number;
  size: number;
}

export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function numberToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses an IPv4 CIDR; the network and broadcast addresses are never handed out. */
export function parseCidr(cidr: string): IPRange {
  const [addr, bitsText] = cidr.split('/');
  const net = ipToNumber(addr ?? '');
  const bits = Number(bitsText);
  if (net === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`invalid service CIDR ${cidr}: an IPv4 prefix between /8 and /30`);
  const total = 2 ** (32 - bits);
  const network = Math.floor(net / total) * total;
  return { cidr: `${numberToIp(network)}/${bits}`, base: network + 1, size: total - 2 };
}

export function parsePortRange(range: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(range);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new Error(`invalid node port range ${range}: FROM-TO within 1-65535`);
  return { min, max };
}

function ownerOf(svc: KObject): AllocationRecord['owner'] {
  return { namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '' };
}

function serviceIPs(svc: Service | undefined): string[] {
  const spec = svc?.spec;
  if (!spec || spec.type === 'ExternalName') return [];
  const ips = new Set([...(spec.clusterIPs ?? []), ...(spec.clusterIP ? [spec.clusterIP] : [])]);
  ips.delete('None');
  ips.delete('');
  return [...ips];
}

function serviceNodePorts(svc: Service | undefined): number[] {
  const spec = svc?.spec;
  if (!spec || (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer')) return [];
  return [...new Set((spec.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p))];
}

/** A record is stale when no Service of its uid holds its address any more. */
function stale(record: AllocationRecord, services: Service[], holds: (svc: Service) => boolean): boolean {
  const svc = services.find((s) => s.metadata.uid === record.owner.uid);
  return !svc || !holds(svc);
}

class Allocator {
  private services: Service[] | undefined;
  private readonly taken: { resource: string; name: string }[] = [];

  constructor(
    private readonly ctx: AllocationContext,
    private readonly owner: AllocationRecord['owner'],
  ) {}

  private async allServices(): Promise<Service[]> {
    this.services ??= (await this.ctx.existing()) as Service[];
    return this.services;
  }

  /**
   * Creates the record for `name`, reclaiming a stale one. Returns false when
   * a live Service holds it.
   */
  async reserve(resource: string, name: string, holds: (svc: Service) => boolean): Promise<boolean> {
    const key = { resource, namespace: '', name };
    const record: AllocationRecord = { apiVersion: 'kumo.io/v1', kind: 'Allocation', metadata: { name }, owner: this.owner };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.ctx.store.create(key, record);
        this.taken.push({ resource, name });
        return true;
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
      }
      const current = (await this.ctx.store.get(key)) as AllocationRecord | undefined;
      if (!current) continue;
      if (current.owner?.uid === this.owner.uid) return true;
      // Fresh list: the holder may have been created after our first read.
      this.services = undefined;
      if (!stale(current, await this.allServices(), holds)) return false;
      await this.ctx.store.delete(key, current);
    }
    return false;
  }

  /** Frees what this allocator reserved (the write it was for failed). */
  async undo(): Promise<void> {
    for (const t of this.taken) await release(this.ctx.store, t.resource, t.name, this.owner.uid);
  }
}

async function release(store: Store, resource: string, name: string, uid: string): Promise<void> {
  const key = { resource, namespace: '', name };
  const current = (await store.get(key)) as AllocationRecord | undefined;
  if (current && current.owner?.uid === uid) await store.delete(key, current);
}

function invalid(errs: FieldError[], svc: KObject): never {
  throw StatusError.invalid('Service', '', svc.metadata.name ?? '', errs);
}

/**
 * Fills and reserves the ClusterIP(s) and node ports `obj` needs that `old`
 * (on update) did not hold. Mutates `obj`. Returns an undo that frees what
 * was reserved, for when the write then fails.
 */
export async function allocateServiceAddresses(obj: KObject, old: KObject | undefined, ctx: AllocationContext): Promise<() => Promise<void>> {
  const svc = obj as Service;
  const spec = (svc.spec ??= {});
  const type = spec.type ?? 'ClusterIP';
  const alloc = new Allocator(ctx, ownerOf(obj));
  const errs: FieldError[] = [];
  try {
    if (type !== 'ExternalName') {
      const range = parseCidr(ctx.admission.serviceClusterIPRange ?? DEFAULT_SERVICE_CIDR);
      const held = new Set(serviceIPs(old as Service | undefined));
      if (!spec.clusterIP && spec.clusterIPs?.[0]) spec.clusterIP = spec.clusterIPs[0];
      if (!spec.clusterIP) {
        spec.clusterIP = await pickIP(alloc, range, ctx);
        if (!spec.clusterIP) throw new StatusError(500, 'InternalError', `Internal error occurred: failed to allocate a serviceIP: range is full`);
      } else if (spec.clusterIP !== 'None' && !held.has(spec.clusterIP)) {
        const n = ipToNumber(spec.clusterIP);
        const value = [spec.clusterIP];
        if (n === undefined)
          errs.push(fieldErrors.invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
        else if (n < range.base || n >= range.base + range.size) {
          errs.push(
            fieldErrors.invalid(
              'spec.clusterIPs',
              value,
              `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${range.cidr}`,
            ),
          );
        } else if (!(await alloc.reserve(IP_RECORDS, spec.clusterIP, (s) => serviceIPs(s).includes(spec.clusterIP!)))) {
          errs.push(fieldErrors.invalid('spec.clusterIPs', value, `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`));
        }
      }
      if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
      else if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
    }
    if (type === 'NodePort' || type === 'LoadBalancer') {
      const { min, max } = parsePortRange(ctx.admission.serviceNodePortRange ?? DEFAULT_NODE_PORT_RANGE);
      const held = new Set(serviceNodePorts(old as Service | undefined));
      const mine = new Set<number>();
      for (const [i, p] of (spec.ports ?? []).entries()) {
        if (!p.nodePort) continue;
        if (held.has(p.nodePort) || mine.has(p.nodePort)) {
          mine.add(p.nodePort);
          continue;
        }
        const port = p.nodePort;
        if (port < min || port > max) {
          errs.push(
            fieldErrors.invalid(`spec.ports[${i}].nodePort`, port, `provided port is not in the valid range. The range of valid ports is ${min}-${max}`),
          );
        } else if (!(await alloc.reserve(NODE_PORT_RECORDS, String(port), (s) => serviceNodePorts(s).includes(port)))) {
          errs.push(fieldErrors.invalid(`spec.ports[${i}].nodePort`, port, 'provided port is already allocated'));
        }
        mine.add(port);
      }
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        // The same port number for TCP and UDP of one Service shares one node port, as in Kubernetes.
        const twin = (spec.ports ?? []).find((q) => q !== p && q.port === p.port && q.nodePort);
        if (twin?.nodePort) {
          p.nodePort = twin.nodePort;
          continue;
        }
        const port = await pickPort(alloc, min, max, ctx, mine);
        if (port === undefined) throw new StatusError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
        p.nodePort = port;
        mine.add(port);
      }
    }
    if (errs.length > 0) invalid(errs, obj);
  } catch (err) {
    await alloc.undo();
    throw err;
  }
  return () => alloc.undo();
}

async function usedNames(ctx: AllocationContext, resource: string): Promise<Set<string>> {
  return new Set((await ctx.store.list(resource)).items.map((r) => r.metadata.name ?? ''));
}

/** A random free address of the range: random probes first, then a scan from a random offset. */
async function pickIP(alloc: Allocator, range: IPRange, ctx: AllocationContext): Promise<string | undefined> {
  // The first address (10.96.0.1) is the `kubernetes` Service's in Kubernetes: never handed out.
  const first = range.base + 1;
  const count = range.size - 1;
  if (count <= 0) return undefined;
  const used = await usedNames(ctx, IP_RECORDS);
  const tryOne = async (n: number) => {
    const ip = numberToIp(n);
    if (used.has(ip)) return undefined;
    used.add(ip);
    return (await alloc.reserve(IP_RECORDS, ip, (s) => serviceIPs(s).includes(ip))) ? ip : undefined;
  };
  for (let i = 0; i < 16; i++) {
    const ip = await tryOne(first + Math.floor(Math.random() * count));
    if (ip) return ip;
  }
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const n = first + ((start + i) % count);
    if (used.has(numberToIp(n))) continue;
    const ip = await tryOne(n);
    if (ip) return ip;
  }
  // Everything is recorded: reclaim stale records (their Services are gone).
  for (const name of [...used]) {
    if (await alloc.reserve(IP_RECORDS, name, (s) => serviceIPs(s).includes(name))) return name;
  }
  return undefined;
}

async function pickPort(alloc: Allocator, min: number, max: number, ctx: AllocationContext, mine: Set<number>): Promise<number | undefined> {
  const count = max - min + 1;
  const used = await usedNames(ctx, NODE_PORT_RECORDS);
  for (const p of mine) used.add(String(p));
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const port = min + ((start + i) % count);
    if (used.has(String(port))) continue;
    used.add(String(port));
    if (await alloc.reserve(NODE_PORT_RECORDS, String(port), (s) => serviceNodePorts(s).includes(port))) return port;
  }
  for (const name of [...used]) {
    const port = Number(name);
    if (mine.has(port) || port < min || port > max) continue;
    if (await alloc.reserve(NODE_PORT_RECORDS, name, (s) => serviceNodePorts(s).includes(port))) return port;
  }
  return undefined;
}

/**
 * After a write: frees the addresses `prev` held that `stored` (undefined
 * when deleted) no longer uses. Failures leave stale records, which
 * allocation reclaims.
 */
export async function releaseServiceAddresses(stored: KObject | undefined, prev: KObject | undefined, ctx: AllocationContext): Promise<void> {
  if (!prev) return;
  const uid = prev.metadata.uid ?? '';
  const keepIPs = new Set(serviceIPs(stored as Service | undefined));
  const keepPorts = new Set(serviceNodePorts(stored as Service | undefined));
  for (const ip of serviceIPs(prev as Service)) if (!keepIPs.has(ip)) await release(ctx.store, IP_RECORDS, ip, uid);
  for (const port of serviceNodePorts(prev as Service)) if (!keepPorts.has(port)) await release(ctx.store, NODE_PORT_RECORDS, String(port), uid);
}

/** On update the allocated addresses stay: a body that leaves them out keeps the old ones. Mutates `obj`. */
export function keepServiceAddresses(obj: KObject, old: KObject): void {
  const spec = ((obj as Service).spec ??= {});
  const prev = (old as Service).spec ?? {};
  if (spec.type === 'ExternalName') return;
  if (!spec.clusterIP && prev.clusterIP && (spec.type ?? 'ClusterIP') !== 'ExternalName' && prev.type !== 'ExternalName') spec.clusterIP = prev.clusterIP;
  if (!spec.clusterIPs && prev.clusterIPs && spec.clusterIP === prev.clusterIP) spec.clusterIPs = prev.clusterIPs;
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const same = (prev.ports ?? []).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (same?.nodePort) p.nodePort = same.nodePort;
    }
  }
}
