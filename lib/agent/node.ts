/**
 * The agent's Node: registration (capacity from the host, allocatable =
 * capacity − reserved, addresses, nodeInfo, labels and taints), the Lease in
 * kube-node-lease renewed every 10 s (what the node lifecycle controller
 * watches), and the node status: conditions recomputed every tick and
 * written when they change, and at least once a minute.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, hostname, networkInterfaces, release, totalmem } from 'node:os';
import type { Lease } from '../api/coordination/v1/lease.js';
import type { Node, Taint } from '../api/core/v1/node.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { formatMilliCpu, milliCpu, parseQuantity } from '../api/quantity.js';
import { isAlreadyExists, isConflict } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { createNodeLease, nodeConditions } from '../client/node-heartbeat.js';
import { NODE_LEASE_NAMESPACE } from '../api/coordination/v1/lease.js';
import { type Clock, microTime, rfc3339 } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import { LEASES, NODES } from '../kinds/resources.js';

export const KUBELET_VERSION = 'v1.35.0-kumo';

type N = Node & KObject;

export interface NodeOptions {
  name: string;
  nodeIP: string;
  /** Port of the agent's logs/exec endpoint (daemonEndpoints.kubeletEndpoint.Port). */
  port: number;
  labels: Record<string, string>;
  /** Merged into the Node's annotations at registration. */
  annotations?: Record<string, string>;
  /** spec.providerID: set at registration, or on a Node that has none (Kubernetes allows setting it once). */
  providerID?: string;
  taints: Taint[];
  reserved: { cpu?: string; memory?: string };
  maxPods: number;
  /** Filesystem the agent keeps its data on (ephemeral-storage, DiskPressure). */
  dataDir: string;
  runtimeName: string;
  /** Checks the runtime; Ready is False while it fails. */
  runtimeVersion: () => Promise<string>;
  leaseDurationSeconds: number;
  /** Longest the status goes unwritten when nothing changed. @default 60 s */
  statusReportMs?: number;
}

/** The first non-internal IPv4 address of the host. */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function readTrim(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function osImage(): string {
  const m = readTrim('/etc/os-release').match(/^PRETTY_NAME="?([^"\n]*)"?$/m);
  return m?.[1] ?? `${process.platform}`;
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

/** The size of the filesystem holding `dir`, if it can be read (the directory may not exist, or be another host's). */
function filesystemBytes(dir: string | undefined): number | undefined {
  if (dir === undefined) return undefined;
  try {
    const s = statfsSync(dir);
    return s.blocks * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Capacity and allocatable from the host, as the kubelet reports them.
 * ephemeral-storage is the size of `storageDir`'s filesystem, where the
 * runtime keeps pods' writable layers apart (docker: the engine's data
 * root), else of `dataDir`'s.
 */
export function hostResources(opts: Pick<NodeOptions, 'reserved' | 'maxPods' | 'dataDir'> & { storageDir?: string | undefined }): {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  allocatableMilliCpu: number;
  allocatableBytes: number;
} {
  const cpuMilli = cpus().length * 1000;
  const memBytes = totalmem();
  const storage = filesystemBytes(opts.storageDir) ?? filesystemBytes(opts.dataDir) ?? 0;
  const allocCpu = Math.max(0, cpuMilli - milliCpu(opts.reserved.cpu ?? '0'));
  const allocMem = Math.max(0, memBytes - (parseQuantity(opts.reserved.memory ?? '0') ?? 0));
  const ki = (b: number) => `${Math.floor(b / 1024)}Ki`;
  // The kubelet's names and order; no hugepages are set aside for pods, so a pod asking for them fits nowhere.
  const capacity: Record<string, string> = {
    cpu: formatMilliCpu(cpuMilli),
    'ephemeral-storage': ki(storage),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: ki(memBytes),
    pods: String(opts.maxPods),
  };
  const allocatable: Record<string, string> = { ...capacity, cpu: formatMilliCpu(allocCpu), memory: ki(allocMem) };
  return { capacity, allocatable, allocatableMilliCpu: allocCpu, allocatableBytes: allocMem };
}

export class NodeManager {
  private lastWritten: { conditions: Condition[]; at: number } | undefined;
  /** The advertised logs/exec port (known once the agent's server listens). */
  port: number;
  /** Where the runtime keeps pods' writable layers, if apart from the data dir (known once it answers; see hostResources). */
  storageDir: string | undefined = undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly opts: NodeOptions,
  ) {
    this.port = opts.port;
  }

  /** Conditions as they are now (transition times are fixed up against the stored node). */
  private async conditions(now: string): Promise<Condition[]> {
    let runtimeError: string | undefined;
    try {
      await this.opts.runtimeVersion();
    } catch (err) {
      runtimeError = `container runtime is down: ${(err as Error).message}`;
    }
    let diskLow = false;
    try {
      const s = statfsSync(this.opts.dataDir);
      diskLow = s.blocks > 0 && s.bavail / s.blocks < 0.1;
    } catch {
      // unknown: not under pressure
    }
    const memLow = freemem() < 100 * 2 ** 20;
    return nodeConditions(now, { memoryPressure: memLow, diskPressure: diskLow, runtimeError });
  }

  private async status(existing: N['status'] | undefined): Promise<NonNullable<N['status']>> {
    const now = rfc3339(this.clock.now());
    const res = hostResources({ ...this.opts, storageDir: this.storageDir });
    const conditions = (await this.conditions(now)).map((c) => {
      const old = (existing?.conditions ?? []).find((x) => x.type === c.type);
      return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime ?? now } : c;
    });
    return {
      ...(existing ?? {}),
      capacity: res.capacity,
      allocatable: res.allocatable,
      conditions,
      addresses: [
        { type: 'InternalIP', address: this.opts.nodeIP },
        { type: 'Hostname', address: hostname() },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.port } },
      nodeInfo: {
        machineID: readTrim('/etc/machine-id') || this.opts.name,
        systemUUID: readTrim('/sys/class/dmi/id/product_uuid') || this.opts.name,
        bootID: readTrim('/proc/sys/kernel/random/boot_id'),
        kernelVersion: release(),
        osImage: osImage(),
        containerRuntimeVersion: await this.opts.runtimeVersion().catch(() => `${this.opts.runtimeName}://unknown`),
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: process.platform,
        architecture: goArch(),
      },
    };
  }

  private labels(): Record<string, string> {
    return {
      'kubernetes.io/hostname': this.opts.name,
      'kubernetes.io/os': process.platform,
      'kubernetes.io/arch': goArch(),
      'beta.kubernetes.io/os': process.platform,
      'beta.kubernetes.io/arch': goArch(),
      'kumo.io/runtime': this.opts.runtimeName,
      ...this.opts.labels,
    };
  }

  /** Creates the Node, or takes over an existing one (labels and annotations merged, status replaced; taints only at creation, as the kubelet). */
  async register(): Promise<void> {
    const annotations = this.opts.annotations ?? {};
    const node: KObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.opts.name, labels: this.labels(), ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
      spec: { ...(this.opts.taints.length > 0 ? { taints: this.opts.taints } : {}), ...(this.opts.providerID ? { providerID: this.opts.providerID } : {}) },
    };
    let current: N;
    try {
      current = await this.client.create<N>(NODES, undefined, node);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      current = await this.client.get<N>(NODES, undefined, this.opts.name);
      const labels = { ...(current.metadata.labels ?? {}), ...this.labels() };
      const merged = { ...(current.metadata.annotations ?? {}), ...annotations };
      const providerID = current.spec?.providerID || this.opts.providerID;
      if (!deepEqual(labels, current.metadata.labels) || !deepEqual(merged, current.metadata.annotations ?? {}) || providerID !== current.spec?.providerID) {
        current = await this.client.update<N>(NODES, {
          ...current,
          metadata: { ...current.metadata, labels, ...(Object.keys(merged).length > 0 ? { annotations: merged } : {}) },
          spec: { ...(current.spec ?? {}), ...(providerID ? { providerID } : {}) },
        });
      }
    }
    await this.writeStatus(current);
  }

  private async writeStatus(current: N): Promise<void> {
    const status = await this.status(current.status);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.client.updateStatus(NODES, { ...current, status } as KObject);
        this.lastWritten = { conditions: status.conditions ?? [], at: this.clock.now() };
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        current = await this.client.get<N>(NODES, undefined, this.opts.name);
      }
    }
  }

  /** Writes the status when a condition changed, or when the last write is statusReportMs (a minute) old. */
  async heartbeat(): Promise<void> {
    const current = await this.client.find<N>(NODES, undefined, this.opts.name);
    if (!current) {
      await this.register();
      return;
    }
    const next = await this.status(current.status);
    const strip = (cs: Condition[] | null | undefined) => (cs ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason }));
    const changed =
      !deepEqual(strip(next.conditions), strip(current.status?.conditions)) ||
      !deepEqual(next.allocatable, current.status?.allocatable) ||
      !deepEqual(next.addresses, current.status?.addresses);
    if (changed || !this.lastWritten || this.clock.now() - this.lastWritten.at >= (this.opts.statusReportMs ?? 60_000)) await this.writeStatus(current);
  }

  /** Renews the node's Lease; `annotations` (the usage report) are merged into it. */
  async renewLease(annotations: Record<string, string> = {}): Promise<void> {
    const now = microTime(this.clock.now());
    const name = this.opts.name;
    const existing = await this.client.find<Lease & KObject>(LEASES, NODE_LEASE_NAMESPACE, name);
    if (!existing) {
      await createNodeLease(this.client, name, this.opts.leaseDurationSeconds, now);
      return;
    }
    await this.client
      .update(LEASES, {
        ...existing,
        ...(Object.keys(annotations).length > 0
          ? { metadata: { ...existing.metadata, annotations: { ...(existing.metadata.annotations ?? {}), ...annotations } } }
          : {}),
        spec: { ...(existing.spec ?? {}), holderIdentity: name, leaseDurationSeconds: this.opts.leaseDurationSeconds, renewTime: now },
      })
      .catch((err) => {
        if (!isConflict(err)) throw err;
      });
  }
}
