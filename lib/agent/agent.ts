/**
 * The agent (kumo's kubelet). It talks to the API server only through the
 * API, like any client: it registers its Node, renews its Lease, watches the
 * pods bound to it (`fieldSelector=spec.nodeName=<node>`, list+watch with
 * resume) and gives each pod a worker (lib/agent/pod-worker.ts). A relist of
 * the runtime every second (the kubelet's PLEG) wakes the workers whose
 * containers changed, and finds containers whose pod is gone (orphans, e.g.
 * deleted while the agent was down) so they are stopped and removed.
 *
 * Containers never depend on the agent process: stopping the agent leaves
 * them running, and a new agent rebuilds every pod's state from the runtime's
 * labels, so it adopts them instead of starting duplicates.
 */
import { RESOURCE_USAGE_ANNOTATION } from '../api/metrics/v1beta1/metrics.js';
import { UsageCollector } from './usage.js';
import type { PersistentVolume } from '../api/core/v1/persistentvolume.js';
import type { PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { ContainerStatus, Pod } from '../api/core/v1/pod.js';
import type { Service } from '../api/core/v1/service.js';
import type { Taint } from '../api/core/v1/node.js';
import type { KObject } from '../api/object.js';
import { StatusError } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { EventRecorder, type Recorder } from '../client/events.js';
import { CONFIGMAPS, NAMESPACES, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, SERVICES } from '../kinds/resources.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { type Clock, systemClock } from '../util/clock.js';
import { privateDir } from '../util/private-files.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { EnvSources } from './container-config.js';
import { defaultNodeIP, hostResources, NodeManager } from './node.js';
import { Gate, PodWorker, type WorkerHost } from './pod-worker.js';
import type { ContainerInfo, LogOptions, Runtime } from './runtime.js';
import type { ExecIO } from '../api/pod-connector.js';
import { instancesOf } from './status.js';
import { readHostResolvConf } from './dns/host-resolv-conf.js';
import { parseResolvConf } from './dns/resolv-conf.js';
import { PodVolumes } from './volumes/manager.js';
import { requestServiceAccountToken } from './volumes/token-request.js';
import { ServiceAccountTokens } from './volumes/token-manager.js';
import { sleep } from '../util/sleep.js';

type P = Pod & KObject;

export interface AgentOptions {
  client: KubeClient;
  nodeName: string;
  runtime: Runtime;
  /** Where the agent keeps data (process runtime state, the disk-pressure check); made 0700. */
  dataDir: string;
  /** The node's InternalIP. @default the host's first non-internal IPv4 */
  nodeIP?: string;
  /** Port of the logs/exec endpoint, advertised in the Node. @default 0 (none) */
  port?: number;
  labels?: Record<string, string>;
  /** Node annotations (merged into an existing Node's). */
  annotations?: Record<string, string>;
  /** spec.providerID, e.g. `aws:///<zone>/<instance-id>` on an EC2 host (set once, as the kubelet's --provider-id). */
  providerID?: string;
  taints?: Taint[];
  /** Subtracted from capacity for allocatable. */
  reserved?: { cpu?: string; memory?: string };
  /** @default 110 */
  maxPods?: number;
  /** @default 10 s */
  leaseRenewMs?: number;
  /** @default 40 */
  leaseDurationSeconds?: number;
  /** How often node conditions are checked (written on change, or every nodeStatusReportMs). @default 10 s */
  nodeStatusIntervalMs?: number;
  /** Longest the node status goes unwritten when nothing changed (kubelet's nodeStatusReportFrequency). @default 60 s */
  nodeStatusReportMs?: number;
  /**
   * Relist this node's pods at this interval (and Services at 4×) instead of watching them. For the
   * cloud API, where a held watch keeps a Lambda invocation open (billed by the second); pods bound to
   * the node start up to this much later. @default undefined (watch)
   */
  pollIntervalMs?: number;
  /** How often the runtime is relisted. @default 1 s */
  relistMs?: number;
  /** Longest a pod worker sleeps with nothing to do. @default 60 s */
  resyncMs?: number;
  /** How often the disk use of a pod with ephemeral-storage limits is measured (the kubelet's eviction monitoring interval). @default 10 s */
  storageCheckMs?: number;
  /** How many pending pods are started at once. @default 8 */
  podStartConcurrency?: number;
  /** Container restart back-off (CrashLoopBackOff). @default 10 s doubling to 5 min */
  restartBackoff?: BackoffOptions;
  /** Image pull back-off (ImagePullBackOff). @default 10 s doubling to 5 min */
  imagePullBackoff?: BackoffOptions;
  /** How often configMap and secret volumes are re-read (an update reaches mounted files within this). @default 60 s */
  volumeSyncMs?: number;
  /** Where secret volumes are written. @default a directory on /dev/shm (tmpfs) when writable, else under dataDir */
  secretVolumeDir?: string;
  /**
   * The node's cluster DNS servers (the kubelet's --cluster-dns): the nameserver of ClusterFirst pods'
   * resolv.conf, written by the docker runtime. Empty: those pods get the host's resolvers, with the
   * kubelet's MissingClusterDNS warning. @default []
   */
  clusterDNS?: string[];
  /** The host's resolv.conf text (the kubelet's --resolv-conf), the base of dnsPolicy Default. @default readHostResolvConf() */
  hostResolvConf?: string;
  clock?: Clock;
  /** Where the agent's operational records go. @default defaultLogger() */
  logger?: Logger;
}

/** A pod object standing in for one known only from its containers' labels (its grace period among them). */
function stubPod(cs: ContainerInfo[]): P {
  const c = cs[0]!;
  const grace = c.graceSeconds ?? 30;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { uid: c.pod.uid, name: c.pod.name, namespace: c.pod.namespace, deletionGracePeriodSeconds: grace },
    spec: { terminationGracePeriodSeconds: grace, containers: [] },
  } as unknown as P;
}

export interface LogRequest extends LogOptions {
  previous: boolean;
}

/** Refuses a container name that is none of the pod's (app, init or ephemeral), as the kubelet does. */
function checkContainer(pod: P, container: string): void {
  const spec = pod.spec ?? {};
  const names = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
  if (!names.includes(container)) throw StatusError.badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
}

export class Agent {
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly runtime: Runtime;
  private readonly workers = new Map<string, PodWorker>();
  private readonly clock: Clock;
  private readonly node: NodeManager;
  private informer: Informer | undefined;
  private serviceInformer: Informer | undefined;
  private hostsTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private relistSignatures = new Map<string, string>();
  private relisting = false;
  private synced = false;
  private readonly host: WorkerHost;
  private readonly usage: UsageCollector;

  constructor(private readonly opts: AgentOptions) {
    this.nodeName = opts.nodeName;
    this.nodeIP = opts.nodeIP ?? defaultNodeIP();
    this.runtime = opts.runtime;
    this.clock = opts.clock ?? systemClock;
    this.usage = new UsageCollector(opts.runtime, this.clock);
    privateDir(opts.dataDir);
    const res = hostResources({ reserved: opts.reserved ?? {}, maxPods: opts.maxPods ?? 110, dataDir: opts.dataDir });
    this.node = new NodeManager(opts.client, this.clock, {
      name: opts.nodeName,
      nodeIP: this.nodeIP,
      port: opts.port ?? 0,
      labels: opts.labels ?? {},
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ...(opts.providerID ? { providerID: opts.providerID } : {}),
      taints: opts.taints ?? [],
      reserved: opts.reserved ?? {},
      maxPods: opts.maxPods ?? 110,
      dataDir: opts.dataDir,
      runtimeName: opts.runtime.name,
      runtimeVersion: () => opts.runtime.version(),
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 40,
      ...(opts.nodeStatusReportMs ? { statusReportMs: opts.nodeStatusReportMs } : {}),
    });
    const client = opts.client;
    const envSources: EnvSources = {
      configMap: async (ns, name) => {
        const cm = await client.find<KObject & { data?: Record<string, string> }>(CONFIGMAPS, ns, name);
        return cm ? (cm.data ?? {}) : undefined;
      },
      secret: async (ns, name) => {
        const s = await client.find<KObject & { data?: Record<string, string> }>(SECRETS, ns, name);
        if (!s) return undefined;
        return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      },
    };
    const volumes = new PodVolumes(
      {
        configMap: async (ns, name) => {
          const cm = await client.find<KObject & { data?: Record<string, string>; binaryData?: Record<string, string> }>(CONFIGMAPS, ns, name);
          return cm ? { data: cm.data ?? {}, binaryData: cm.binaryData ?? {} } : undefined;
        },
        secret: async (ns, name) => {
          const sec = await client.find<KObject & { data?: Record<string, string> }>(SECRETS, ns, name);
          return sec ? (sec.data ?? {}) : undefined;
        },
        claim: (ns, name) => client.find<PersistentVolumeClaim & KObject>(PERSISTENT_VOLUME_CLAIMS, ns, name),
        persistentVolume: (name) => client.find<PersistentVolume & KObject>(PERSISTENT_VOLUMES, undefined, name),
      },
      {
        dataDir: opts.dataDir,
        ...(opts.secretVolumeDir ? { secretDir: opts.secretVolumeDir } : {}),
        tokens: new ServiceAccountTokens((ns, sa, spec) => requestServiceAccountToken(client, ns, sa, spec), this.clock),
      },
    );
    const recorder: Recorder = new EventRecorder(client, 'kubelet', this.clock, opts.nodeName, { logger: this.logger });
    this.host = {
      runtime: opts.runtime,
      client,
      recorder,
      clock: this.clock,
      nodeName: opts.nodeName,
      nodeIP: this.nodeIP,
      restartBackoff: new Backoff(this.clock, opts.restartBackoff),
      imageBackoff: new Backoff(this.clock, opts.imagePullBackoff),
      envSources,
      volumes,
      services: () => [...(this.serviceInformer?.items.values() ?? [])] as (Service & KObject)[],
      manageHosts: opts.runtime.name === 'docker',
      // Only the docker runtime gives a container its own resolv.conf; a host process reads the host's (docs/dns.md).
      dns:
        opts.runtime.name === 'docker'
          ? { clusterDNS: opts.clusterDNS ?? [], host: parseResolvConf(opts.hostResolvConf ?? readHostResolvConf().text), nodeIPs: [this.nodeIP] }
          : undefined,
      volumeSyncMs: opts.volumeSyncMs ?? 60_000,
      allocatable: { cpuMilli: res.allocatableMilliCpu, memoryBytes: res.allocatableBytes },
      resyncMs: opts.resyncMs ?? 60_000,
      storageCheckMs: opts.storageCheckMs ?? 10_000,
      startGate: new Gate(opts.podStartConcurrency ?? 8),
      closed: false,
      logger: this.logger,
      finished: (uid) => this.workers.delete(uid),
    };
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  /**
   * Renews the node's Lease with its usage report (lib/agent/usage.ts) in an
   * annotation: the metrics of metrics.k8s.io cost no write of their own. A
   * failed measurement only leaves the report out.
   */
  private async renewLease(): Promise<void> {
    let report: string | undefined;
    try {
      const usage = await this.usage.collect();
      if (usage) report = JSON.stringify(usage);
    } catch (err) {
      this.logger.warn(`kumo agent: resource usage: ${(err as Error).message}`);
    }
    await this.node.renewLease(report ? { [RESOURCE_USAGE_ANNOTATION]: report } : {});
  }

  /** Sets the advertised endpoint port (once the agent's server listens). Call before start(). */
  setPort(port: number): void {
    this.node.port = port;
  }

  /** Registers the node and starts syncing pods. Retries while the API server cannot be reached. */
  async start(): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        // The cluster's identity, as Kubernetes tools take it: the kube-system namespace's uid.
        const clusterId = (await this.opts.client.find(NAMESPACES, undefined, 'kube-system'))?.metadata.uid ?? '';
        await this.runtime.init(clusterId);
        this.node.storageDir = await this.runtime.storageDir?.();
        await this.node.register();
        await this.node.renewLease();
        break;
      } catch (err) {
        if (this.host.closed) return;
        this.logger.warn(`kumo agent: cannot register node ${this.nodeName}: ${(err as Error).message}; retrying`);
        await sleep(delay);
      }
    }
    const every = (ms: number, fn: () => Promise<void>, what: string) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy || this.host.closed) return;
        busy = true;
        fn()
          .catch((err: Error) => this.logger.warn(`kumo agent: ${what}: ${err.message}`))
          .finally(() => (busy = false));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.leaseRenewMs ?? 10_000, () => this.renewLease(), 'lease renewal');
    every(this.opts.nodeStatusIntervalMs ?? 10_000, () => this.node.heartbeat(), 'node status');
    // Services, for the containers' service env vars and hosts entries (kept current in running pods' /etc/hosts).
    const poll = this.opts.pollIntervalMs;
    this.serviceInformer = new Informer(this.opts.client, SERVICES, {
      ...(poll ? { pollIntervalMs: poll * 4 } : {}),
      onChange: () => this.servicesChanged(),
      logger: this.logger,
    });
    await this.serviceInformer.start();
    this.informer = new Informer(this.opts.client, PODS, {
      fieldSelector: `spec.nodeName=${this.nodeName}`,
      ...(poll ? { pollIntervalMs: poll } : {}),
      onChange: (type, obj) => this.onPod(type, obj as P),
      logger: this.logger,
    });
    await this.informer.start();
    this.synced = true;
    await this.relist();
    // Volume directories of pods this node no longer has (deleted while the agent was away).
    for (const uid of this.host.volumes.podsOnDisk()) if (!this.workers.has(uid)) this.host.volumes.tearDown(uid);
    every(this.opts.relistMs ?? 1_000, () => this.relist(), 'relist');
    this.logger.info(`kumo agent: node ${this.nodeName} (${this.nodeIP}) running pods with the ${this.runtime.name} runtime`);
  }

  /**
   * Stops syncing, waiting for in-flight pod syncs to end. Containers keep
   * running (a new agent adopts them) unless `stopPods`: then every pod on
   * the node is stopped within its own grace period, all at once, as on a
   * node shutdown (PodWorker.shutDown), and `stopped` hears of each one
   * (`kumo up` tells whoever pressed Ctrl-C).
   */
  async stop(opts: { stopPods?: boolean; stopped?: (pod: string) => void } = {}): Promise<void> {
    if (this.host.closed) return;
    this.host.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.hostsTimer) clearTimeout(this.hostsTimer);
    await this.informer?.stop();
    await this.serviceInformer?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    if (opts.stopPods) await this.stopPods(opts.stopped);
    await this.runtime.close();
  }

  private async stopPods(stopped: ((pod: string) => void) | undefined): Promise<void> {
    const byPod = new Map<string, ContainerInfo[]>();
    for (const c of await this.runtime.list()) byPod.set(c.pod.uid, [...(byPod.get(c.pod.uid) ?? []), c]);
    await Promise.all(
      [...byPod].map(async ([uid, cs]) => {
        // A pod the agent had not picked up yet is stopped with the grace period its containers carry.
        const w = this.workers.get(uid) ?? new PodWorker(this.host, stubPod(cs));
        try {
          if (await w.shutDown()) stopped?.(`${cs[0]!.pod.namespace}/${cs[0]!.pod.name}`);
        } catch (err) {
          this.logger.error(`kumo agent: cannot stop pod ${cs[0]!.pod.namespace}/${cs[0]!.pod.name}: ${(err as Error).message}`);
        }
      }),
    );
  }

  /** Services changed: rewrite the pods' managed /etc/hosts (batched, at most every 100 ms). */
  private servicesChanged(): void {
    if (!this.synced || this.hostsTimer || this.host.closed) return;
    this.hostsTimer = setTimeout(() => {
      this.hostsTimer = undefined;
      for (const w of this.workers.values()) {
        try {
          w.writeHosts();
        } catch (err) {
          this.logger.warn(`kumo agent: pod ${w.pod.metadata.namespace}/${w.pod.metadata.name}: cannot update /etc/hosts: ${(err as Error).message}`);
        }
      }
    }, 100);
    this.hostsTimer.unref();
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: P): void {
    if (this.host.closed) return;
    const uid = pod.metadata.uid!;
    if (type === 'DELETED') {
      this.workers.get(uid)?.markGone();
      return;
    }
    if (pod.spec?.nodeName !== this.nodeName) return;
    const w = this.workers.get(uid);
    if (w) {
      w.update(pod);
      return;
    }
    this.startWorker(pod);
  }

  private startWorker(pod: P): PodWorker {
    const w = new PodWorker(this.host, pod);
    this.workers.set(pod.metadata.uid!, w);
    w.start();
    return w;
  }

  /** The kubelet's PLEG: one runtime listing wakes the workers whose containers changed and catches orphans. */
  private async relist(): Promise<void> {
    if (this.relisting || !this.synced) return;
    this.relisting = true;
    try {
      const all = await this.runtime.list();
      const byPod = new Map<string, ContainerInfo[]>();
      for (const c of all) {
        const list = byPod.get(c.pod.uid) ?? [];
        list.push(c);
        byPod.set(c.pod.uid, list);
      }
      const next = new Map<string, string>();
      for (const [uid, cs] of byPod) {
        const sig = cs
          .map((c) => `${c.id}:${c.state}:${c.exitCode ?? ''}`)
          .sort()
          .join(',');
        next.set(uid, sig);
        if (this.relistSignatures.get(uid) === sig) continue;
        const w = this.workers.get(uid);
        if (w) w.wake();
        else if (!this.host.closed) this.adoptOrphan(cs);
      }
      for (const uid of this.relistSignatures.keys()) if (!next.has(uid)) this.workers.get(uid)?.wake();
      this.relistSignatures = next;
    } finally {
      this.relisting = false;
    }
  }

  /** Containers whose pod is not bound here any more: stop them within the pod's grace period, then remove them. */
  private adoptOrphan(cs: ContainerInfo[]): void {
    const c = cs[0]!;
    this.logger.info(`kumo agent: removing containers of pod ${c.pod.namespace}/${c.pod.name} (${c.pod.uid}), which is not bound to this node`);
    const w = new PodWorker(this.host, stubPod(cs));
    w.markGone();
    this.workers.set(c.pod.uid, w);
    w.start();
  }

  private podByName(namespace: string, name: string): P {
    const pod = this.informer?.get(namespace, name) as P | undefined;
    if (!pod) throw StatusError.notFound({ group: '', resource: 'pods' }, name);
    const w = this.workers.get(pod.metadata.uid!);
    return (w?.pod ?? pod) as P;
  }

  /** The instance a log or exec request means, judged on the reported status as the kubelet does. */
  private async instanceFor(pod: P, container: string, previous: boolean): Promise<ContainerInfo> {
    const name = pod.metadata.name!;
    checkContainer(pod, container);
    const instances = instancesOf(await this.runtime.list(pod.metadata.uid!), container);
    const byId = (cid: string | null | undefined) => (cid ? instances.find((i) => cid.endsWith(`://${i.id}`)) : undefined);
    const status = pod.status;
    const statuses: ContainerStatus[] = [
      ...(status?.containerStatuses ?? []),
      ...(status?.initContainerStatuses ?? []),
      ...(status?.ephemeralContainerStatuses ?? []),
    ];
    const s = statuses.find((x) => x.name === container);
    const last = s?.lastState?.terminated;
    if (previous) {
      const inst = byId(last?.containerID) ?? (instances[0]?.state === 'running' ? instances[1] : undefined);
      if (!inst) throw StatusError.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
      return inst;
    }
    const current = instances[0];
    const fromStatus = s?.state?.running ? byId(s.containerID) : s?.state?.terminated ? byId(s.state.terminated.containerID) : byId(last?.containerID);
    const inst = fromStatus ?? (current && current.state !== 'created' ? current : undefined);
    if (inst) return inst;
    const reason = s?.state?.waiting?.reason ?? 'ContainerCreating';
    if (reason === 'ErrImagePull') throw StatusError.badRequest(`container "${container}" in pod "${name}" is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff')
      throw StatusError.badRequest(`container "${container}" in pod "${name}" is waiting to start: trying and failing to pull image`);
    throw StatusError.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
  }

  /**
   * A container's log as a byte stream. Checks happen before the first byte,
   * so a refusal is a Status (400), never a broken stream.
   */
  async openLogs(namespace: string, name: string, container: string, req: LogRequest, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const pod = this.podByName(namespace, name);
    const inst = await this.instanceFor(pod, container, req.previous);
    return this.runtime.logs(inst.id, { ...req, follow: req.follow && inst.state === 'running' }, signal);
  }

  /** Runs a command in a running container of a pod; resolves with its exit code. */
  async exec(namespace: string, name: string, container: string, command: string[], opts: { stdin: boolean; tty: boolean }, io: ExecIO): Promise<number> {
    if (command.length === 0) throw StatusError.badRequest('you must specify at least one command for the container');
    const inst = await this.runningInstance(namespace, name, container);
    return this.runtime.exec(inst.id, command, { stdin: opts.stdin, tty: opts.tty }, io);
  }

  /** Joins a running container's own stdio (`kubectl attach`, `kubectl debug -i`); resolves when it ends or the caller leaves. */
  async attach(namespace: string, name: string, container: string, opts: { stdin: boolean }, io: ExecIO): Promise<void> {
    const inst = await this.runningInstance(namespace, name, container);
    await this.runtime.attach(inst.id, { stdin: opts.stdin }, io);
  }

  private async runningInstance(namespace: string, name: string, container: string): Promise<ContainerInfo> {
    const pod = this.podByName(namespace, name);
    checkContainer(pod, container);
    const inst = instancesOf(await this.runtime.list(pod.metadata.uid!), container)[0];
    if (!inst || inst.state !== 'running') throw StatusError.badRequest(`container ${container} is not running in pod ${name}`);
    return inst;
  }

  /** The pods this agent runs, by uid (for tests and the agent's /pods endpoint). */
  pods(): P[] {
    return [...this.workers.values()].map((w) => w.pod);
  }
}
