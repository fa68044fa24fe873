/**
 * One worker per pod, so a slow pod (a long pull, a long grace period) never
 * holds up another. Each sync is level-triggered: it re-reads the pod's
 * containers from the runtime and moves them one step toward the spec:
 *
 *   sandbox → ephemeral containers (`kubectl debug`: started once, never
 *   restarted) → init containers one by one (native sidecars,
 *   `restartPolicy: Always`, stay running) → app containers → probes →
 *   restarts with back-off per restartPolicy → terminal phase → on
 *   deletion: preStop, SIGTERM, grace, SIGKILL, then the pod object is
 *   deleted for good.
 *
 * Then it computes the status (lib/agent/status.ts) and writes it only when
 * it changed, with the pod's resourceVersion as precondition (a 409 re-reads
 * the pod and recomputes). API errors never stop the containers: the worker
 * keeps the last pod it saw and retries.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Container, EphemeralContainer, LifecycleHandler, Pod } from '../api/core/v1/pod.js';
import type { Service } from '../api/core/v1/service.js';
import type { KObject } from '../api/object.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import type { EventType, Recorder } from '../client/events.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import { type Backoff, goDuration } from './backoff.js';
import { containerConfig, type EnvSources, podRef, type PodContext } from './container-config.js';
import { formatResolvConf, type NodeDNSSettings, podDNSConfig } from './dns/resolv-conf.js';
import { ContainerProber, runHandler } from './probes.js';
import { hostsFile, serviceEnv } from './service-discovery.js';
import { type PodVolumes, VolumeSetupError } from './volumes/manager.js';
import { TokenVolumeError } from './volumes/projected.js';
import { type ContainerInfo, ContainerStartError, ImagePullError, type PortMapping, type Runtime } from './runtime.js';
import { computePodStatus, instancesOf, isInitialized, isSidecar, statusChanged, type Waiting } from './status.js';
import { EVICTED, hasStorageLimits, storageEvictionMessage } from './storage-eviction.js';
import { PODS } from '../kinds/resources.js';
import { sleep } from '../util/sleep.js';

type P = Pod & KObject;

/** What a worker needs from its agent. */
export interface WorkerHost {
  readonly runtime: Runtime;
  readonly client: KubeClient;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly restartBackoff: Backoff;
  readonly imageBackoff: Backoff;
  readonly envSources: EnvSources;
  /** configMap, secret and claim volumes, and the managed /etc/hosts. */
  readonly volumes: PodVolumes;
  /** The Services the agent knows of (service env vars, hosts entries). */
  services(): (Service & KObject)[];
  /** Whether containers get the managed /etc/hosts (docker runtime). */
  readonly manageHosts: boolean;
  /** The node's DNS settings, when containers get a resolv.conf from the agent (docker runtime); else undefined. */
  readonly dns: NodeDNSSettings | undefined;
  /** How often configMap and secret volumes are re-read and rewritten when changed. */
  readonly volumeSyncMs: number;
  readonly allocatable: PodContext['nodeAllocatable'];
  /** Longest a worker sleeps without a reason to wake. */
  readonly resyncMs: number;
  /** How often a running pod with ephemeral-storage limits has its disk use measured (the kubelet's eviction monitoring interval). */
  readonly storageCheckMs: number;
  /** Bounds how many pending pods start at once, first come first served (see PodWorker.run). */
  readonly startGate: Gate;
  closed: boolean;
  readonly logger: Logger;
  /** The worker is done: its pod is deleted and its containers are gone. */
  finished(uid: string): void;
}

/** A FIFO semaphore. */
export class Gate {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

function rvNumber(pod: P): number {
  const n = Number(pod.metadata.resourceVersion);
  return Number.isFinite(n) ? n : 0;
}

function shouldRestart(policy: string, exitCode: number | undefined): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

export class PodWorker {
  pod: P;
  /** The pod object is gone from the API (deleted, force-deleted, or never seen: an orphan). */
  private gone = false;
  private readonly waiting = new Map<string, Waiting>();
  private readonly probers = new Map<string, ContainerProber>();
  /** Container instances whose back-off event was already recorded. */
  private readonly backoffNoted = new Set<string>();
  /** When each container's last image pull failed. */
  private readonly pullFailedAt = new Map<string, number>();
  /** The pod is done (`graceSeconds`: how long what still runs may take to stop, when not the pod's own grace period). */
  private terminal: { phase: 'Succeeded' | 'Failed'; reason?: string; message?: string; graceSeconds?: number } | undefined;
  /** When the pod's disk use was last measured. */
  private storageCheckedAt = -Infinity;
  private terminatingSince: number | undefined;
  private wakeUp: (() => void) | undefined;
  private pending = true;
  private loop: Promise<void> | undefined;
  private done = false;
  /** When the next sync is due for a timed reason (back-off ends, retries). */
  private dueAt: number | undefined;
  /** Host paths of the prepared volumes, once set up; when they were last refreshed. */
  private volumePaths: Map<string, string> | undefined;
  private volumesSyncedAt = 0;
  /** The managed hosts file, once written (its pod IP). */
  private hostsIP: string | undefined;
  /** The pod's resolv.conf, once written (dnsPolicy and dnsConfig cannot change: written once per worker). */
  private resolvConf: string | undefined;

  constructor(
    private readonly host: WorkerHost,
    pod: P,
  ) {
    this.pod = pod;
  }

  get uid(): string {
    return this.pod.metadata.uid!;
  }

  private get name(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** A newer view of the pod (from the watch or our own write). Older ones are ignored. */
  update(pod: P): void {
    if (rvNumber(pod) >= rvNumber(this.pod) || !pod.metadata.resourceVersion) this.pod = pod;
    this.wake();
  }

  markGone(): void {
    this.gone = true;
    this.wake();
  }

  wake(): void {
    this.pending = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Ends the loop without touching containers (the agent is stopping). */
  async stop(): Promise<void> {
    this.wake();
    for (const p of this.probers.values()) p.stop();
    await this.loop;
  }

  /**
   * The node is shutting down (after stop()): stops what the pod runs as a
   * deletion would, preStop hooks and grace period included, but leaves the
   * pod object and the exited containers, so the next agent on this node
   * restarts them per restartPolicy, as the kubelet does after a reboot.
   * The configMap and secret volumes go (the next agent writes them again),
   * so no copy of a Secret stays on the host while nothing runs. Returns
   * whether anything was running.
   */
  async shutDown(): Promise<boolean> {
    const all = await this.host.runtime.list(this.uid);
    const running = all.some((c) => c.state === 'running');
    if (running) await this.stopAll(all, this.pod.spec?.terminationGracePeriodSeconds ?? 30, false);
    this.host.volumes.tearDown(this.uid);
    return running;
  }

  /** Probe state for the status, by container instance id. */
  private probeStates(): Map<string, { started: boolean; ready: boolean }> {
    return new Map([...this.probers].map(([id, p]) => [id, { started: p.started, ready: p.ready }]));
  }

  private event(type: EventType, reason: string, message: string): void {
    if (this.gone) return;
    const obj = { ...this.pod, apiVersion: 'v1', kind: 'Pod' } as KObject;
    void this.host.recorder.record(obj, type, reason, message);
  }

  private due(at: number): void {
    this.dueAt = this.dueAt === undefined ? at : Math.min(this.dueAt, at);
  }

  private async run(): Promise<void> {
    while (!this.done && !this.host.closed) {
      this.pending = false;
      this.dueAt = undefined;
      // Starting a pod is runtime-heavy (sandbox, containers); when many arrive at once, starting a few at a
      // time in arrival order gets each one running sooner than starting all of them together.
      const starting = !this.gone && !this.pod.metadata.deletionTimestamp && (this.pod.status?.phase ?? 'Pending') === 'Pending';
      const release = starting ? await this.host.startGate.acquire() : undefined;
      try {
        await this.sync();
      } catch (err) {
        this.host.logger.error(`kumo agent: pod ${this.name}: ${(err as Error).message}`);
        this.due(this.host.clock.now() + 2_000);
      } finally {
        release?.();
      }
      if (this.done || this.host.closed) break;
      if (this.pending) continue;
      const idle = this.isIdle();
      const wait = this.dueAt !== undefined ? Math.max(0, this.dueAt - this.host.clock.now()) : idle ? undefined : this.host.resyncMs;
      await new Promise<void>((resolve) => {
        const timer = wait !== undefined ? setTimeout(resolve, wait) : undefined;
        timer?.unref();
        this.wakeUp = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
    for (const p of this.probers.values()) p.stop();
  }

  /** A finished pod has nothing to do until it is deleted. */
  private isIdle(): boolean {
    const phase = this.pod.status?.phase;
    return (phase === 'Succeeded' || phase === 'Failed') && !this.pod.metadata.deletionTimestamp && !this.gone;
  }

  private async sync(): Promise<void> {
    const rt = this.host.runtime;
    let all = await rt.list(this.uid);
    if (this.gone || this.pod.metadata.deletionTimestamp) {
      await this.terminate(all);
      return;
    }
    const spec = this.pod.spec ?? {};
    const policy = spec.restartPolicy ?? 'Always';
    const phase = this.pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Finished: nothing restarts; whatever still runs (sidecars, the sandbox) stops.
      await this.stopAll(all, spec.terminationGracePeriodSeconds ?? 30, false);
      return;
    }

    this.adoptProbes(all);
    let changed = await this.handleProbeKills(all);
    const deadline = spec.activeDeadlineSeconds;
    const startTime = Date.parse(this.pod.status?.startTime ?? '') || undefined;
    if (deadline !== undefined && deadline !== null && startTime !== undefined && !this.terminal) {
      const end = startTime + deadline * 1000;
      if (this.host.clock.now() >= end) {
        this.terminal = { phase: 'Failed', reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline` };
        this.event('Warning', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
      } else this.due(end);
    }
    if (!this.terminal) await this.checkStorage();
    if (this.terminal) {
      await this.stopAll(all, this.terminal.graceSeconds ?? spec.terminationGracePeriodSeconds ?? 30, false);
      await this.writeStatus(await rt.list(this.uid));
      return;
    }
    if (changed) all = await rt.list(this.uid);

    const sandbox = await this.ensureSandbox(all);
    if (!sandbox) {
      await this.writeStatus(await rt.list(this.uid));
      return;
    }
    if (sandbox.created) all = await rt.list(this.uid);
    const podIP = sandbox.info.ip ?? this.host.nodeIP;
    const volumePaths = await this.prepareVolumes(podIP);
    if (!volumePaths) {
      await this.writeStatus(await rt.list(this.uid));
      return;
    }
    const ctx: PodContext = {
      podIP,
      hostIP: this.host.nodeIP,
      nodeName: this.host.nodeName,
      nodeAllocatable: this.host.allocatable,
      volumePaths,
      serviceEnv: serviceEnv(this.host.services(), this.pod.metadata.namespace ?? 'default', this.pod.spec?.enableServiceLinks !== false),
      ...(this.hostsIP !== undefined ? { hostsFile: this.host.volumes.hostsFile(this.uid) } : {}),
      ...(this.resolvConf !== undefined ? { resolvConf: this.resolvConf } : {}),
    };

    // Ephemeral containers first, as the kubelet: a pod whose init containers fail can still be debugged.
    for (const ec of spec.ephemeralContainers ?? []) {
      if (instancesOf(all, ec.name).length > 0) continue;
      changed = (await this.startEphemeral(ec, all, ctx, sandbox.info)) || changed;
    }

    // Init containers, in order, until one is not done; sidecars keep running once started.
    const probes = this.probeStates();
    const initialized = isInitialized(this.pod, all, probes);
    let initFailed = false;
    for (const ic of spec.initContainers ?? []) {
      const cur = instancesOf(all, ic.name)[0];
      if (isSidecar(ic)) {
        if (cur?.state === 'running') {
          changed = (await this.restartIfChanged(ic, cur, ctx)) || changed;
          if (!initialized && !(probes.get(cur.id)?.started ?? true)) break;
          continue;
        }
        changed = (await this.startOrBackoff(ic, 'sidecar', cur, ctx, sandbox.info)) || changed;
        if (!initialized) break;
        continue;
      }
      if (initialized) continue;
      if (cur?.state === 'exited' && cur.exitCode === 0) continue;
      if (cur?.state === 'running') break;
      if (cur?.state === 'exited' && policy === 'Never') {
        initFailed = true;
        break;
      }
      if (cur?.state === 'created') await rt.removeContainer(cur.id);
      changed = (await this.startOrBackoff(ic, 'init', cur?.state === 'exited' ? cur : undefined, ctx, sandbox.info)) || changed;
      break;
    }

    if (initialized) {
      const results = await Promise.all(
        (spec.containers ?? []).map(async (c) => {
          const cur = instancesOf(all, c.name, 'app')[0];
          if (cur?.state === 'running') return this.restartIfChanged(c, cur, ctx);
          if (cur?.state === 'exited') {
            if (!shouldRestart(policy, cur.exitCode)) return false;
            return this.startOrBackoff(c, 'app', cur, ctx, sandbox.info);
          }
          // Never started (or created by an agent that crashed before starting it): start afresh.
          if (cur?.state === 'created') await rt.removeContainer(cur.id);
          return this.startOrBackoff(c, 'app', undefined, ctx, sandbox.info);
        }),
      );
      changed = results.some((r) => r) || changed;
    }
    if (changed) all = await rt.list(this.uid);

    // Done for good? Then the sidecars and the sandbox stop too.
    if (initFailed) this.terminal = { phase: 'Failed' };
    else if (initialized && policy !== 'Always') {
      const apps = (spec.containers ?? []).map((c) => instancesOf(all, c.name, 'app')[0]);
      if (apps.every((a) => a?.state === 'exited' && !shouldRestart(policy, a.exitCode))) {
        this.terminal = { phase: apps.every((a) => a!.exitCode === 0) ? 'Succeeded' : 'Failed' };
      }
    }
    if (this.terminal) {
      await this.stopAll(all, spec.terminationGracePeriodSeconds ?? 30, false);
      all = await rt.list(this.uid);
    }
    await this.writeStatus(all);
  }

  /**
   * The eviction manager's local-storage check (storage-eviction.ts), every
   * storageCheckMs for a pod with limits, where the runtime can measure: a
   * pod over a limit is evicted at once (grace period 0, as the kubelet),
   * Failed with reason Evicted and a Warning event saying why.
   */
  private async checkStorage(): Promise<void> {
    const rt = this.host.runtime;
    if (!rt.storageUsage || !hasStorageLimits(this.pod)) return;
    const now = this.host.clock.now();
    if (now - this.storageCheckedAt >= this.host.storageCheckMs) {
      this.storageCheckedAt = now;
      const message = storageEvictionMessage(this.pod, await rt.storageUsage(this.uid));
      if (message) {
        this.terminal = { phase: 'Failed', reason: EVICTED, message, graceSeconds: 0 };
        this.event('Warning', EVICTED, message);
        return;
      }
    }
    this.due(this.storageCheckedAt + this.host.storageCheckMs);
  }

  /**
   * Sets up the pod's configMap, secret, projected and claim volumes (once),
   * refreshes their contents every volumeSyncMs and whenever a projected
   * token is due for renewal, and writes the managed /etc/hosts. Returns
   * undefined (after a FailedMount event and a retry scheduled) while a
   * volume cannot be set up: the pod stays ContainerCreating. A token that
   * cannot be renewed is a FailedMount event too; the volume keeps the
   * token it has and the next sync tries again.
   */
  private async prepareVolumes(podIP: string): Promise<Map<string, string> | undefined> {
    const now = this.host.clock.now();
    const volumes = this.pod.spec?.volumes ?? [];
    const needs = volumes.some((v) => v.configMap || v.secret || v.projected || v.persistentVolumeClaim);
    const tokenDue = this.host.volumes.nextTokenRefresh(this.uid);
    try {
      if (needs && !this.volumePaths) {
        this.volumePaths = await this.host.volumes.setUp(this.pod);
        this.volumesSyncedAt = now;
      } else if (needs && (now - this.volumesSyncedAt >= this.host.volumeSyncMs || (tokenDue !== undefined && now >= tokenDue))) {
        this.volumesSyncedAt = now;
        await this.host.volumes.refresh(this.pod).catch((err: Error) => {
          if (err instanceof TokenVolumeError) this.event('Warning', 'FailedMount', err.message);
          // A referenced object that went away: the files keep their last content, as in Kubernetes.
          else if (!(err instanceof VolumeSetupError)) throw err;
        });
      }
    } catch (err) {
      if (!(err instanceof VolumeSetupError)) throw err;
      this.event('Warning', 'FailedMount', err.message);
      this.due(now + this.host.restartBackoff.initialMs);
      return undefined;
    }
    if (needs && volumes.some((v) => v.configMap || v.secret || v.projected)) this.due(this.volumesSyncedAt + this.host.volumeSyncMs);
    const nextToken = this.host.volumes.nextTokenRefresh(this.uid);
    if (nextToken !== undefined) this.due(nextToken);
    if (this.host.manageHosts && !this.pod.spec?.hostNetwork && this.hostsIP !== podIP) {
      this.writeHosts(podIP);
      this.hostsIP = podIP;
    }
    if (this.host.dns && this.resolvConf === undefined) this.resolvConf = this.writeResolvConf(this.host.dns);
    return this.volumePaths ?? new Map();
  }

  /**
   * Writes the pod's resolv.conf as the kubelet forms it (dns/resolv-conf.ts)
   * and records what it had to leave out, or its fallback to the node's
   * resolvers, as Warning events (the kubelet's DNSConfigForming and
   * MissingClusterDNS). Returns the file's path.
   */
  private writeResolvConf(dns: NodeDNSSettings): string {
    const { config, warnings } = podDNSConfig(this.pod, dns);
    const file = this.host.volumes.resolvConfFile(this.uid);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, formatResolvConf(config));
    for (const w of warnings) this.event('Warning', w.reason, w.message);
    return file;
  }

  /** Rewrites the managed /etc/hosts in place (containers bind-mount the file, so the inode must stay). */
  writeHosts(podIP = this.hostsIP): void {
    if (podIP === undefined) return;
    const file = this.host.volumes.hostsFile(this.uid);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, hostsFile(this.pod, podIP, this.host.services()));
  }

  /** Kills containers whose liveness or startup probe failed (they restart per restartPolicy on a later sync). */
  private async handleProbeKills(all: ContainerInfo[]): Promise<boolean> {
    let changed = false;
    for (const [id, prober] of [...this.probers]) {
      const inst = all.find((c) => c.id === id);
      if (!inst || inst.state !== 'running') {
        prober.stop();
        this.probers.delete(id);
        continue;
      }
      if (!prober.failed) continue;
      const spec = this.containerSpec(inst.name);
      if (!spec) continue;
      const what = prober.failed.kind === 'liveness' ? 'liveness' : 'startup';
      this.event('Normal', 'Killing', `Container ${inst.name} failed ${what} probe, will be restarted`);
      const probe = prober.failed.kind === 'liveness' ? spec.livenessProbe : spec.startupProbe;
      const grace = probe?.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
      await this.kill(inst, spec, grace);
      changed = true;
    }
    return changed;
  }

  private containerSpec(name: string): Container | undefined {
    const s = this.pod.spec ?? {};
    return [...(s.containers ?? []), ...(s.initContainers ?? [])].find((c) => c.name === name);
  }

  /** A container whose image was changed in the pod spec is restarted with the new one. */
  private async restartIfChanged(spec: Container, cur: ContainerInfo, _ctx: PodContext): Promise<boolean> {
    if (!spec.image || cur.image === spec.image) return false;
    this.event('Normal', 'Killing', `Container ${spec.name} definition changed, will be restarted`);
    await this.kill(cur, spec, this.pod.spec?.terminationGracePeriodSeconds ?? 30);
    return true;
  }

  private async ensureSandbox(all: ContainerInfo[]): Promise<{ info: ContainerInfo; created: boolean } | undefined> {
    const sandboxes = all.filter((c) => c.kind === 'sandbox').sort((a, b) => b.restartCount - a.restartCount);
    const cur = sandboxes[0];
    if (cur?.state === 'running') return { info: cur, created: false };
    const spec = this.pod.spec ?? {};
    if (cur) {
      // The sandbox died: its network is gone, so every container restarts in a new one.
      this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await Promise.all(all.filter((c) => c.kind !== 'sandbox' && c.state === 'running').map((c) => this.kill(c, this.containerSpec(c.name), 2)));
      for (const s of sandboxes) await this.host.runtime.removeContainer(s.id);
    }
    const ports: PortMapping[] = [];
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const p of c.ports ?? []) {
        if (p.hostPort)
          ports.push({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol ?? 'TCP', ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
      }
    }
    try {
      const info = await this.host.runtime.createSandbox({
        pod: podRef(this.pod),
        hostname: spec.hostname ?? this.pod.metadata.name ?? 'pod',
        hostNetwork: !!spec.hostNetwork,
        ports,
        hostAliases: (spec.hostAliases ?? []).map((a) => ({ ip: a.ip, hostnames: a.hostnames ?? [] })),
        attempt: cur ? cur.restartCount + 1 : 0,
        graceSeconds: spec.terminationGracePeriodSeconds ?? 30,
      });
      return { info, created: true };
    } catch (err) {
      const message = `Failed to create pod sandbox: ${(err as Error).message}`;
      this.event('Warning', 'FailedCreatePodSandBox', message);
      this.host.logger.warn(`kumo agent: pod ${this.name}: ${message}`);
      this.due(this.host.clock.now() + this.host.restartBackoff.initialMs);
      return undefined;
    }
  }

  /** Starts a container now, or reports CrashLoopBackOff while its back-off runs. Returns whether anything changed. */
  private async startOrBackoff(
    spec: Container,
    kind: 'init' | 'sidecar' | 'app',
    cur: ContainerInfo | undefined,
    ctx: PodContext,
    sandbox: ContainerInfo,
  ): Promise<boolean> {
    const key = `${this.uid}/${spec.name}`;
    if (cur) {
      const finished = cur.finishedAtMs ?? (Date.parse(cur.finishedAt ?? '') || this.host.clock.now());
      const left = this.host.restartBackoff.remaining(key, finished);
      if (left > 0) {
        const backoff = this.host.restartBackoff.current(key);
        this.waiting.set(spec.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(backoff)} restarting failed container=${spec.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
        });
        if (!this.backoffNoted.has(cur.id)) {
          this.backoffNoted.add(cur.id);
          this.event(
            'Warning',
            'BackOff',
            `Back-off restarting failed container ${spec.name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
          );
        }
        this.due(this.host.clock.now() + left);
        return false;
      }
      this.host.restartBackoff.next(key, finished);
    }
    return this.startContainer(spec, kind, cur ? cur.restartCount + 1 : 0, ctx, sandbox);
  }

  /**
   * Starts an ephemeral container, once: it is never restarted, so any
   * instance of it (running or ended) means there is nothing to do. A target
   * container must be running for the new one to join its processes.
   */
  private async startEphemeral(spec: EphemeralContainer, all: ContainerInfo[], ctx: PodContext, sandbox: ContainerInfo): Promise<boolean> {
    let target: string | undefined;
    if (spec.targetContainerName) {
      target = instancesOf(all, spec.targetContainerName).find((c) => c.state === 'running')?.id;
      if (!target) {
        const message = `unable to find target container ${spec.targetContainerName}`;
        if (this.waiting.get(spec.name)?.message !== message) this.event('Warning', 'Failed', `Error: ${message}`);
        this.waiting.set(spec.name, { reason: 'CreateContainerConfigError', message });
        this.due(this.host.clock.now() + this.host.restartBackoff.initialMs);
        return false;
      }
    }
    return this.startContainer(spec, 'ephemeral', 0, ctx, sandbox, target);
  }

  private async startContainer(
    spec: Container,
    kind: 'init' | 'sidecar' | 'app' | 'ephemeral',
    restartCount: number,
    ctx: PodContext,
    sandbox: ContainerInfo,
    targetContainerId?: string,
  ): Promise<boolean> {
    const rt = this.host.runtime;
    const image = spec.image ?? '';
    const imageKey = `${this.uid}/${spec.name}/image`;
    const now = this.host.clock.now();
    // A failed pull waits out its back-off (ImagePullBackOff) before the next try.
    const failedAt = this.pullFailedAt.get(spec.name);
    if (failedAt !== undefined) {
      const left = this.host.imageBackoff.remaining(imageKey, failedAt);
      if (left > 0) {
        const reason = this.waiting.get(spec.name)?.reason;
        // A pull that may not happen (ErrImageNeverPull, InvalidImageName) keeps its reason; a failed one backs off.
        if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') {
          if (reason !== 'ImagePullBackOff') this.event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
          this.waiting.set(spec.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
        }
        this.due(now + left);
        return false;
      }
    }
    try {
      const { pulled } = await rt.ensureImage(image, spec.imagePullPolicy ?? 'IfNotPresent');
      this.pullFailedAt.delete(spec.name);
      if (pulled) {
        this.event('Normal', 'Pulling', `Pulling image "${image}"`);
        this.event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${((this.host.clock.now() - now) / 1000).toFixed(3)}s`);
      } else if (rt.name === 'docker') {
        this.event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      }
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.host.imageBackoff.next(imageKey, now);
      this.pullFailedAt.set(spec.name, now);
      if (err.reason === 'ErrImagePull') {
        this.event('Normal', 'Pulling', `Pulling image "${image}"`);
        this.event('Warning', 'Failed', `Failed to pull image "${image}": ${err.message}`);
      } else this.event('Warning', err.reason, err.message);
      this.event('Warning', 'Failed', `Error: ${err.reason}`);
      this.waiting.set(spec.name, { reason: err.reason, message: err.message });
      // As the kubelet: ErrImagePull for a moment, then ImagePullBackOff until the back-off ends.
      this.due(now + Math.min(1_000, this.host.imageBackoff.remaining(imageKey, now) / 2));
      return false;
    }
    let info: ContainerInfo;
    try {
      const cfg = await containerConfig(this.pod, spec, kind, restartCount, ctx, this.host.envSources);
      info = await rt.startContainer(targetContainerId ? { ...cfg, targetContainerId } : cfg, sandbox);
    } catch (err) {
      if (!(err instanceof ContainerStartError)) throw err;
      this.event('Warning', 'Failed', `Error: ${err.message}`);
      if (err.reason === 'RunContainerError') {
        // The failed attempt exists as an exited instance (StartError): restart rules apply to it.
        this.waiting.delete(spec.name);
        return true;
      }
      this.waiting.set(spec.name, { reason: err.reason, message: err.message });
      this.due(this.host.clock.now() + this.host.restartBackoff.initialMs);
      return false;
    }
    this.waiting.delete(spec.name);
    this.event('Normal', 'Created', `Created container: ${spec.name}`);
    this.event('Normal', 'Started', `Started container ${spec.name}`);
    await this.pruneDead(spec.name, info);
    if (kind === 'ephemeral') return true;
    this.watchProbes(spec, info, ctx.podIP);
    if (spec.lifecycle?.postStart) {
      const result = await this.runHook(spec.lifecycle.postStart, info, spec, ctx.podIP, (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
      if (!result.ok) {
        this.event('Warning', 'FailedPostStartHook', `PostStartHook failed: ${result.message}`);
        await this.kill(info, spec, this.pod.spec?.terminationGracePeriodSeconds ?? 30, false);
      }
    }
    return true;
  }

  /** Keeps the new instance and the one before it (for lastState and `logs --previous`); older dead ones go. */
  private async pruneDead(name: string, current: ContainerInfo): Promise<void> {
    const all = await this.host.runtime.list(this.uid);
    const older = instancesOf(all, name).filter((c) => c.id !== current.id && c.state === 'exited');
    for (const c of older.slice(1)) await this.host.runtime.removeContainer(c.id);
  }

  /** Starts the probes of a running instance; state carried in the API survives an agent restart. */
  watchProbes(spec: Container, info: ContainerInfo, podIP: string, initial?: { started?: boolean; ready?: boolean }): void {
    if (this.probers.has(info.id)) return;
    const prober = new ContainerProber({
      container: spec,
      containerId: info.id,
      podIP,
      runtime: this.host.runtime,
      startedAtMs: Date.parse(info.startedAt ?? '') || this.host.clock.now(),
      ...(initial ? { initial } : {}),
      onChange: () => this.wake(),
      onFailure: (_kind, message) => this.event('Warning', 'Unhealthy', message),
    });
    this.probers.set(info.id, prober);
    prober.start();
  }

  /** After an agent restart: probes for containers that were already running, seeded from the reported status. */
  adoptProbes(all: ContainerInfo[]): void {
    const sandbox = all.filter((c) => c.kind === 'sandbox' && c.state === 'running')[0];
    const podIP = sandbox?.ip ?? this.host.nodeIP;
    const statuses = [...(this.pod.status?.containerStatuses ?? []), ...(this.pod.status?.initContainerStatuses ?? [])];
    for (const c of all) {
      if (c.kind === 'sandbox' || c.state !== 'running') continue;
      const spec = this.containerSpec(c.name);
      if (!spec) continue;
      const reported = statuses.find((s) => s.name === c.name && s.containerID?.endsWith(c.id));
      this.watchProbes(spec, c, podIP, reported ? { started: reported.started ?? undefined, ready: reported.ready } : undefined);
    }
  }

  private async runHook(handler: LifecycleHandler, info: ContainerInfo, spec: Container, podIP: string, timeoutMs: number) {
    if (handler.sleep) {
      await sleep(Math.min(handler.sleep!.seconds * 1000, timeoutMs));
      return { ok: true, message: '' };
    }
    return runHandler(handler, { podIP, containerId: info.id, container: spec, runtime: this.host.runtime }, timeoutMs);
  }

  /** preStop, then SIGTERM, then SIGKILL when the grace period is over. */
  private async kill(inst: ContainerInfo, spec: Container | undefined, graceSeconds: number, runPreStop = true): Promise<void> {
    const prober = this.probers.get(inst.id);
    prober?.stop();
    this.probers.delete(inst.id);
    const deadline = this.host.clock.now() + graceSeconds * 1000;
    const preStop = spec?.lifecycle?.preStop;
    if (runPreStop && preStop && inst.state === 'running' && graceSeconds > 0) {
      const sandbox = (await this.host.runtime.list(this.uid)).find((c) => c.kind === 'sandbox' && c.state === 'running');
      const result = await this.runHook(preStop, inst, spec!, sandbox?.ip ?? this.host.nodeIP, graceSeconds * 1000);
      if (!result.ok) this.event('Warning', 'FailedPreStopHook', `PreStopHook failed: ${result.message}`);
    }
    await this.host.runtime.stopContainer(inst.id, Math.max(0, deadline - this.host.clock.now()));
  }

  /**
   * Stops everything the pod runs: app containers together, then sidecars in
   * reverse order, then the sandbox, all within one grace period.
   */
  private async stopAll(all: ContainerInfo[], graceSeconds: number, announce: boolean): Promise<void> {
    const start = this.terminatingSince ?? this.host.clock.now();
    const left = () => Math.max(0, graceSeconds - (this.host.clock.now() - start) / 1000);
    const running = all.filter((c) => c.state === 'running');
    const apps = running.filter((c) => c.kind === 'app' || c.kind === 'init' || c.kind === 'ephemeral');
    if (announce) for (const c of [...apps, ...running.filter((c) => c.kind === 'sidecar')]) this.event('Normal', 'Killing', `Stopping container ${c.name}`);
    await Promise.all(apps.map((c) => this.kill(c, this.containerSpec(c.name), left())));
    const order = (this.pod.spec?.initContainers ?? []).map((c) => c.name);
    const sidecars = running.filter((c) => c.kind === 'sidecar').sort((a, b) => order.indexOf(b.name) - order.indexOf(a.name));
    for (const c of sidecars) await this.kill(c, this.containerSpec(c.name), left());
    for (const s of running.filter((c) => c.kind === 'sandbox')) await this.host.runtime.stopContainer(s.id, 0);
  }

  /** Graceful deletion: stop everything, report, then delete the pod object for good and clean up. */
  private async terminate(all: ContainerInfo[]): Promise<void> {
    const meta = this.pod.metadata;
    const grace = meta.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.terminatingSince ??= this.host.clock.now();
    const anyRunning = all.some((c) => c.state === 'running' && c.kind !== 'sandbox');
    await this.stopAll(all, grace, anyRunning);
    const stopped = await this.host.runtime.list(this.uid);
    if (!this.gone) {
      try {
        await this.writeStatus(stopped, true);
        await this.host.client.delete(PODS, meta.namespace, meta.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      } catch (err) {
        // 404: already gone; 409: the name now belongs to another pod. Anything else: the API is away, try again.
        if (!(isNotFound(err) || isConflict(err))) {
          this.host.logger.error(`kumo agent: pod ${this.name}: cannot finish deletion: ${(err as Error).message}`);
          this.due(this.host.clock.now() + 2_000);
          return;
        }
      }
    }
    for (const c of stopped) await this.host.runtime.removeContainer(c.id);
    await this.host.runtime.removePodResources(this.uid);
    this.host.volumes.tearDown(this.uid);
    this.host.restartBackoff.forget(`${this.uid}/`);
    this.host.imageBackoff.forget(`${this.uid}/`);
    this.done = true;
    this.host.finished(this.uid);
  }

  /** Writes the computed status if it differs from the pod's; a stale resourceVersion re-reads and retries. */
  private async writeStatus(all: ContainerInfo[], terminating = false): Promise<void> {
    if (this.gone) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const status = computePodStatus({
        pod: this.pod,
        containers: all,
        waiting: terminating ? new Map() : this.waiting,
        probes: this.probeStates(),
        hostIP: this.host.nodeIP,
        runtime: this.host.runtime.name,
        ...(this.terminal ? { terminal: this.terminal } : {}),
        now: this.host.clock.now(),
      });
      if (terminating) status.phase = this.pod.status?.phase ?? status.phase;
      if (!statusChanged(this.pod.status, status)) return;
      try {
        const updated = await this.host.client.updateStatus<P>(PODS, { ...this.pod, status } as KObject);
        this.update(updated);
        this.pending = false;
        return;
      } catch (err) {
        if (isNotFound(err)) {
          this.gone = true;
          this.pending = true;
          return;
        }
        if (!isConflict(err)) {
          this.host.logger.warn(`kumo agent: pod ${this.name}: status update failed: ${(err as Error).message}`);
          this.due(this.host.clock.now() + 2_000);
          return;
        }
        const fresh = await this.host.client.find<P>(PODS, this.pod.metadata.namespace, this.pod.metadata.name!);
        if (!fresh || fresh.metadata.uid !== this.uid) {
          this.gone = true;
          this.pending = true;
          return;
        }
        this.pod = fresh;
        if (fresh.metadata.deletionTimestamp && !terminating) {
          this.pending = true;
          return;
        }
      }
    }
  }
}
