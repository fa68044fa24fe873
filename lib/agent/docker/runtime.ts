/**
 * The docker runtime: pods as Docker containers. A pod is a sandbox (the
 * pause container, holding the network namespace, hostname and published
 * ports) plus one container per pod container joined to it with
 * `NetworkMode: container:<sandbox>`, so a pod's containers reach each other
 * on localhost and share one IP. emptyDir volumes are Docker volumes (a tmpfs
 * for `medium: Memory`) labelled with the pod's uid; hostPath volumes are
 * bind mounts.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  type AttachOptions,
  type ContainerConfig,
  type ContainerInfo,
  type ContainerKind,
  type ContainerStats,
  ContainerStartError,
  type ExecOptions,
  ImagePullError,
  LABELS,
  type LogOptions,
  type Runtime,
  SANDBOX_NAME,
  type SandboxConfig,
  type StorageUsage,
  type VolumeMount,
} from '../runtime.js';
import type { ExecIO } from '../../api/pod-connector.js';
import { DockerEngine, DockerError, demux } from './engine.js';
import { PAUSE_IMAGE, pauseRootfs } from './pause-image.js';
import { sleep } from '../../util/sleep.js';

/** The part of GET /containers/{id}/stats read here (a stopped container has no cpu_usage or usage). */
interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
}

interface DockerListEntry {
  Id: string;
  Image: string;
  ImageID: string;
  Labels: Record<string, string>;
  State: string;
  Created: number;
}

interface DockerInspect {
  Id: string;
  Created: string;
  Image: string;
  Config: { Image: string; Labels: Record<string, string>; Tty: boolean; StdinOnce: boolean };
  State: { Status: string; Running: boolean; ExitCode: number; Error: string; OOMKilled: boolean; StartedAt: string; FinishedAt: string };
  NetworkSettings: { IPAddress: string; Networks?: Record<string, { IPAddress: string }> };
  HostConfig: { NetworkMode: string };
}

function seconds(iso: string): string | undefined {
  if (!iso || iso.startsWith('0001-')) return undefined;
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]. */
function safe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export interface DockerRuntimeOptions {
  nodeName: string;
  engine?: DockerEngine;
  /** @default kumo/pause:1, built locally when missing */
  sandboxImage?: string;
  /** The node's IP, reported as the pod IP of hostNetwork pods. */
  nodeIP: string;
}

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  readonly engine: DockerEngine;
  /** Inspections of exited containers never change, nor the start of a running one: cached by id and state. */
  private readonly inspectCache = new Map<string, { state: string; info: DockerInspect }>();
  private readonly sandboxImage: string;
  private clusterId = '';

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.engine = opts.engine ?? new DockerEngine();
    this.sandboxImage = opts.sandboxImage ?? PAUSE_IMAGE;
  }

  async init(clusterId: string): Promise<void> {
    this.clusterId = clusterId;
    if (!(await this.engine.ping())) throw new Error(`the Docker engine at ${this.engine.socketPath} does not answer`);
    if (this.sandboxImage === PAUSE_IMAGE && !(await this.hasImage(PAUSE_IMAGE))) {
      const [repo, tag] = PAUSE_IMAGE.split(':');
      await this.engine.json('POST', '/images/create', { query: { fromSrc: '-', repo, tag }, raw: pauseRootfs(), contentType: 'application/x-tar' });
    }
  }

  async version(): Promise<string> {
    const v = await this.engine.json<{ Version: string }>('GET', '/version');
    return `docker://${v.Version}`;
  }

  /**
   * Each container's writable layer (the engine's SizeRw, of the latest
   * instance of each container) and each emptyDir volume's size (the
   * engine's disk usage of volumes). Container logs are not counted: they
   * are the engine's, capped by its log rotation.
   */
  async storageUsage(podUid: string): Promise<StorageUsage> {
    const labels = [`${LABELS.podUid}=${podUid}`, `${LABELS.node}=${this.opts.nodeName}`, `${LABELS.cluster}=${this.clusterId}`];
    const [entries, df] = await Promise.all([
      this.engine.json<(DockerListEntry & { SizeRw?: number })[]>('GET', '/containers/json', {
        query: { all: true, size: true, filters: JSON.stringify({ label: labels }) },
      }),
      this.engine.json<{ Volumes?: { Name: string; UsageData?: { Size: number } | null }[] | null }>('GET', '/system/df', { query: { type: 'volume' } }),
    ]);
    const containers = new Map<string, number>();
    const latest = new Map<string, number>();
    for (const e of entries) {
      const name = e.Labels[LABELS.containerName];
      if (!name || e.Labels[LABELS.kind] === 'sandbox' || (latest.get(name) ?? -1) > e.Created) continue;
      latest.set(name, e.Created);
      containers.set(name, e.SizeRw ?? 0);
    }
    const volumes = new Map<string, number>();
    const prefix = this.volumeName(podUid, '');
    for (const v of df.Volumes ?? []) {
      if (v.Name.startsWith(prefix) && v.UsageData && v.UsageData.Size >= 0) volumes.set(v.Name.slice(prefix.length), v.UsageData.Size);
    }
    return { containers, volumes };
  }

  async storageDir(): Promise<string | undefined> {
    const info = await this.engine.json<{ DockerRootDir?: string }>('GET', '/info');
    return info.DockerRootDir || undefined;
  }

  async close(): Promise<void> {
    this.engine.close();
  }

  /**
   * The Engine's stats of one container, once (`stream=false&one-shot=true`:
   * no second sample, the rate is the caller's to compute): cumulative CPU
   * time, and the working set as cAdvisor computes it (usage less inactive
   * file pages: `inactive_file` on cgroup v2, `total_inactive_file` on v1).
   */
  async stats(id: string): Promise<ContainerStats | undefined> {
    let s: DockerStats;
    try {
      s = await this.engine.json<DockerStats>('GET', `/containers/${id}/stats`, { query: { stream: false, 'one-shot': true } });
    } catch (err) {
      if (err instanceof DockerError && (err.status === 404 || err.status === 409)) return undefined;
      throw err;
    }
    const cpu = s.cpu_stats?.cpu_usage?.total_usage;
    const usage = s.memory_stats?.usage;
    if (cpu === undefined || usage === undefined) return undefined;
    const inactive = s.memory_stats?.stats?.inactive_file ?? s.memory_stats?.stats?.total_inactive_file ?? 0;
    return { cpuNanoseconds: cpu, memoryBytes: Math.max(0, usage - inactive) };
  }

  private async hasImage(image: string): Promise<boolean> {
    try {
      await this.engine.json('GET', `/images/${encodeURIComponent(image)}/json`);
      return true;
    } catch (err) {
      if (err instanceof DockerError && err.status === 404) return false;
      throw err;
    }
  }

  async ensureImage(image: string, pullPolicy: string): Promise<{ pulled: boolean }> {
    if (!image) throw new ImagePullError('InvalidImageName', 'image is empty');
    const present = pullPolicy === 'Always' ? false : await this.hasImage(image);
    if (present) return { pulled: false };
    if (pullPolicy === 'Never') {
      throw new ImagePullError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    }
    const at = image.lastIndexOf(':');
    const slash = image.lastIndexOf('/');
    const [fromImage, tag] =
      image.includes('@') || at <= slash ? [image, image.includes('@') ? undefined : 'latest'] : [image.slice(0, at), image.slice(at + 1)];
    try {
      const res = await this.engine.stream('POST', '/images/create', { query: { fromImage, tag } });
      // Progress is a stream of JSON lines; a failure mid-pull is a line with "error".
      let text = '';
      for await (const c of res) text += (c as Buffer).toString('utf8');
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as { error?: string };
        if (msg.error) throw new ImagePullError('ErrImagePull', `failed to pull and unpack image "${image}": ${msg.error}`);
      }
      return { pulled: true };
    } catch (err) {
      if (err instanceof ImagePullError) throw err;
      throw new ImagePullError('ErrImagePull', `failed to pull image "${image}": ${(err as Error).message}`);
    }
  }

  private labels(pod: SandboxConfig['pod'], name: string, kind: ContainerKind, restartCount: number, graceSeconds: number): Record<string, string> {
    return {
      [LABELS.podUid]: pod.uid,
      [LABELS.podName]: pod.name,
      [LABELS.podNamespace]: pod.namespace,
      [LABELS.containerName]: name,
      [LABELS.restartCount]: String(restartCount),
      [LABELS.node]: this.opts.nodeName,
      [LABELS.cluster]: this.clusterId,
      [LABELS.kind]: kind,
      [LABELS.grace]: String(graceSeconds),
    };
  }

  async createSandbox(cfg: SandboxConfig): Promise<ContainerInfo> {
    const name = `k8s_${SANDBOX_NAME}_${safe(cfg.pod.name)}_${safe(cfg.pod.namespace)}_${cfg.pod.uid}_${cfg.attempt}`;
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostPort: string; HostIp?: string }[]> = {};
    for (const p of cfg.ports) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostPort: String(p.hostPort), ...(p.hostIP ? { HostIp: p.hostIP } : {}) });
    }
    const body = {
      Image: this.sandboxImage,
      Entrypoint: this.sandboxImage === PAUSE_IMAGE ? ['/pause'] : undefined,
      ...(cfg.hostNetwork ? {} : { Hostname: cfg.hostname.slice(0, 63) }),
      Labels: this.labels(cfg.pod, SANDBOX_NAME, 'sandbox', cfg.attempt, cfg.graceSeconds),
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: cfg.hostNetwork ? 'host' : 'bridge',
        PortBindings: cfg.hostNetwork ? {} : bindings,
        ExtraHosts: cfg.hostAliases.flatMap((a) => a.hostnames.map((h) => `${h}:${a.ip}`)),
        IpcMode: 'shareable',
        RestartPolicy: { Name: 'no' },
      },
    };
    const id = await this.create(name, body);
    await this.engine.json('POST', `/containers/${id}/start`);
    return this.info(id);
  }

  /** Creates a container; a leftover of the same name (a crash between create and start) is replaced. */
  private async create(name: string, body: unknown): Promise<string> {
    try {
      return (await this.engine.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body })).Id;
    } catch (err) {
      if (err instanceof DockerError && err.status === 409) {
        await this.engine.json('DELETE', `/containers/${encodeURIComponent(name)}`, { query: { force: true, v: true } }).catch(() => undefined);
        return (await this.engine.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body })).Id;
      }
      throw err;
    }
  }

  private volumeName(podUid: string, volume: string): string {
    return `kumo_${podUid}_${safe(volume)}`;
  }

  private async ensureVolume(podUid: string, m: VolumeMount & { source: { type: 'emptyDir' } }): Promise<string> {
    const name = this.volumeName(podUid, m.volume);
    await this.engine.json('POST', '/volumes/create', {
      body: {
        Name: name,
        Driver: 'local',
        DriverOpts: m.source.medium === 'Memory' ? { type: 'tmpfs', device: 'tmpfs', o: 'mode=1777' } : {},
        Labels: { [LABELS.podUid]: podUid, [LABELS.node]: this.opts.nodeName, [LABELS.cluster]: this.clusterId },
      },
    });
    return name;
  }

  async startContainer(cfg: ContainerConfig, sandbox: ContainerInfo): Promise<ContainerInfo> {
    const name = `k8s_${safe(cfg.name)}_${safe(cfg.pod.name)}_${safe(cfg.pod.namespace)}_${cfg.pod.uid}_${cfg.restartCount}`;
    const mounts: object[] = [];
    for (const m of cfg.mounts) {
      if (m.source.type === 'emptyDir') {
        const volume = await this.ensureVolume(cfg.pod.uid, m as VolumeMount & { source: { type: 'emptyDir' } });
        mounts.push({ Type: 'volume', Source: volume, Target: m.containerPath, ReadOnly: m.readOnly, VolumeOptions: { NoCopy: true } });
      } else {
        mounts.push({ Type: 'bind', Source: m.source.path, Target: m.containerPath, ReadOnly: m.readOnly });
      }
    }
    const hostNetwork = cfg.hostNetwork;
    const r = cfg.resources;
    const body = {
      Image: cfg.image,
      ...(cfg.command ? { Entrypoint: cfg.command } : {}),
      ...(cfg.args ? { Cmd: cfg.args } : {}),
      Env: cfg.env.map(([k, v]) => `${k}=${v}`),
      ...(cfg.workingDir ? { WorkingDir: cfg.workingDir } : {}),
      Labels: this.labels(cfg.pod, cfg.name, cfg.kind, cfg.restartCount, cfg.graceSeconds),
      Tty: cfg.tty,
      OpenStdin: cfg.stdin,
      StdinOnce: cfg.stdinOnce,
      AttachStdin: false,
      HostConfig: {
        NetworkMode: hostNetwork ? 'host' : `container:${sandbox.id}`,
        IpcMode: hostNetwork ? '' : `container:${sandbox.id}`,
        // An ephemeral container with a target sees (and may trace) the target's processes.
        ...(cfg.targetContainerId ? { PidMode: `container:${cfg.targetContainerId}` } : {}),
        Mounts: mounts,
        RestartPolicy: { Name: 'no' },
        ...(r.cpuLimitMilli ? { NanoCpus: r.cpuLimitMilli * 1_000_000 } : {}),
        ...(r.memoryLimitBytes ? { Memory: r.memoryLimitBytes } : {}),
        // Kubernetes' shares: 1024 per core requested, at least 2.
        ...(r.cpuRequestMilli ? { CpuShares: Math.max(2, Math.floor((r.cpuRequestMilli * 1024) / 1000)) } : {}),
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      },
    };
    let id: string;
    try {
      id = await this.create(name, body);
    } catch (err) {
      throw new ContainerStartError('CreateContainerError', (err as Error).message);
    }
    try {
      await this.engine.json('POST', `/containers/${id}/start`);
    } catch (err) {
      // The instance stays (as created/exited with an error): its status shows why, and it counts as an attempt.
      this.inspectCache.delete(id);
      throw new ContainerStartError('RunContainerError', (err as Error).message);
    }
    return this.info(id);
  }

  private async inspect(id: string, state?: string): Promise<DockerInspect | undefined> {
    const cached = this.inspectCache.get(id);
    if (cached && (state === undefined || cached.state === state) && cached.state !== 'created') return cached.info;
    try {
      const info = await this.engine.json<DockerInspect>('GET', `/containers/${id}/json`);
      this.inspectCache.set(id, { state: info.State.Status, info });
      return info;
    } catch (err) {
      if (err instanceof DockerError && err.status === 404) {
        this.inspectCache.delete(id);
        return undefined;
      }
      throw err;
    }
  }

  private toInfo(i: DockerInspect, imageID: string): ContainerInfo {
    const l = i.Config.Labels;
    const status = i.State.Status;
    const started = seconds(i.State.StartedAt);
    // A container whose start failed stays "created" with an error: an attempt that ended.
    const failedStart = status === 'created' && !!i.State.Error;
    const exited = status === 'exited' || status === 'dead' || failedStart;
    const running = status === 'running' || status === 'paused' || status === 'restarting';
    const ip =
      i.HostConfig.NetworkMode === 'host'
        ? this.opts.nodeIP
        : i.NetworkSettings.IPAddress || Object.values(i.NetworkSettings.Networks ?? {})[0]?.IPAddress || undefined;
    const info: ContainerInfo = {
      id: i.Id,
      pod: { uid: l[LABELS.podUid] ?? '', name: l[LABELS.podName] ?? '', namespace: l[LABELS.podNamespace] ?? '' },
      name: l[LABELS.containerName] ?? '',
      kind: (l[LABELS.kind] as ContainerKind | undefined) ?? 'app',
      restartCount: Number(l[LABELS.restartCount] ?? 0) || 0,
      state: running ? 'running' : exited ? 'exited' : 'created',
      createdAt: Date.parse(i.Created),
      image: i.Config.Image,
      imageID,
      ...(l[LABELS.grace] !== undefined ? { graceSeconds: Number(l[LABELS.grace]) } : {}),
    };
    if (started) info.startedAt = started;
    if (exited) {
      info.exitCode = failedStart ? 128 : i.State.ExitCode;
      info.finishedAt = seconds(i.State.FinishedAt) ?? started ?? new Date(info.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
      info.finishedAtMs = i.State.FinishedAt && !i.State.FinishedAt.startsWith('0001-') ? Date.parse(i.State.FinishedAt) : Date.parse(info.finishedAt);
      info.startedAt ??= info.finishedAt;
      if (failedStart) {
        info.reason = 'StartError';
        info.message = i.State.Error;
      } else if (i.State.OOMKilled) info.reason = 'OOMKilled';
      else info.reason = i.State.ExitCode === 0 ? 'Completed' : 'Error';
    }
    if (ip && info.kind === 'sandbox') info.ip = ip;
    return info;
  }

  private async info(id: string): Promise<ContainerInfo> {
    const i = await this.inspect(id);
    if (!i) throw new Error(`container ${id} vanished`);
    return this.toInfo(i, i.Image);
  }

  async list(podUid?: string): Promise<ContainerInfo[]> {
    const labels = [`${LABELS.node}=${this.opts.nodeName}`, `${LABELS.cluster}=${this.clusterId}`];
    if (podUid) labels.push(`${LABELS.podUid}=${podUid}`);
    const entries = await this.engine.json<DockerListEntry[]>('GET', '/containers/json', { query: { all: true, filters: JSON.stringify({ label: labels }) } });
    const out: ContainerInfo[] = [];
    const seen = new Set<string>();
    await Promise.all(
      entries.map(async (e) => {
        seen.add(e.Id);
        const i = await this.inspect(e.Id, e.State);
        if (i) out.push(this.toInfo(i, e.ImageID || i.Image));
      }),
    );
    if (!podUid) for (const id of this.inspectCache.keys()) if (!seen.has(id)) this.inspectCache.delete(id);
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async stopContainer(id: string, graceMs: number): Promise<void> {
    const i = await this.inspect(id);
    if (!i || !i.State.Running) return;
    const isSandbox = i.Config.Labels[LABELS.kind] === 'sandbox';
    const signal = async (sig: string) => {
      try {
        await this.engine.json('POST', `/containers/${id}/kill`, { query: { signal: sig } });
      } catch (err) {
        // 409: not running any more; 404: gone.
        if (!(err instanceof DockerError && (err.status === 409 || err.status === 404))) throw err;
      }
    };
    const exited = this.engine
      .json('POST', `/containers/${id}/wait`, { query: { condition: 'not-running' }, timeoutMs: 0, dedicated: true })
      .then(() => true)
      .catch(() => true);
    if (isSandbox || graceMs <= 0) await signal('SIGKILL');
    else {
      await signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)))]);
      clearTimeout(timer);
      if (timedOut) await signal('SIGKILL');
    }
    await exited;
    this.inspectCache.delete(id);
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.engine.json('DELETE', `/containers/${id}`, { query: { force: true, v: true } });
    } catch (err) {
      if (!(err instanceof DockerError && err.status === 404)) throw err;
    }
    this.inspectCache.delete(id);
  }

  async removePodResources(podUid: string): Promise<void> {
    const res = await this.engine.json<{ Volumes: { Name: string }[] | null }>('GET', '/volumes', {
      query: {
        filters: JSON.stringify({ label: [`${LABELS.podUid}=${podUid}`, `${LABELS.node}=${this.opts.nodeName}`, `${LABELS.cluster}=${this.clusterId}`] }),
      },
    });
    for (const v of res.Volumes ?? []) {
      await this.engine.json('DELETE', `/volumes/${encodeURIComponent(v.Name)}`, { query: { force: true } }).catch(() => undefined);
    }
  }

  async exec(id: string, command: string[], opts: ExecOptions, io: ExecIO): Promise<number> {
    const created = await this.engine.json<{ Id: string }>('POST', `/containers/${id}/exec`, {
      body: { AttachStdin: opts.stdin, AttachStdout: true, AttachStderr: true, Tty: opts.tty, Cmd: command },
    });
    const socket = await this.engine.hijack(`/exec/${created.Id}/start`, { Detach: false, Tty: opts.tty });
    await this.pump(socket, io, {
      tty: opts.tty,
      stdin: opts.stdin,
      closeStdin: true,
      resize: (s) => this.engine.json('POST', `/exec/${created.Id}/resize`, { query: { h: s.height, w: s.width } }),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    // The exit code is set once the process has gone; the stream can end a moment before.
    for (let i = 0; i < 50; i++) {
      const state = await this.engine.json<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${created.Id}/json`);
      if (!state.Running && state.ExitCode !== null) return state.ExitCode;
      await sleep(20);
    }
    return 1;
  }

  async attach(id: string, opts: AttachOptions, io: ExecIO): Promise<void> {
    const i = await this.inspect(id);
    if (!i?.State.Running) throw new Error(`container ${id} is not running`);
    const query = new URLSearchParams({ stream: '1', stdout: '1', stderr: '1', ...(opts.stdin ? { stdin: '1' } : {}) });
    const socket = await this.engine.hijack(`/containers/${id}/attach?${query}`);
    await this.pump(socket, io, {
      tty: i.Config.Tty,
      stdin: opts.stdin,
      // The engine ends the whole attach when the caller's input ends, unless the container closes its stdin then
      // (StdinOnce): otherwise the input is left open, so the output keeps flowing, as with the kubelet.
      closeStdin: i.Config.StdinOnce,
      resize: (s) => this.engine.json('POST', `/containers/${id}/resize`, { query: { h: s.height, w: s.width } }),
    });
  }

  /**
   * Bridges a hijacked Engine connection (exec, attach) and the caller's
   * streams: input in (half-closed at its end when `closeStdin`), output out
   * (raw with a TTY, else demultiplexed), window sizes to `resize`. Resolves
   * when the engine ends the stream or the caller aborts; rejects once
   * `timeoutMs` has passed.
   */
  private async pump(
    socket: Duplex,
    io: ExecIO,
    o: { tty: boolean; stdin: boolean; closeStdin: boolean; timeoutMs?: number; resize: (s: { width: number; height: number }) => Promise<unknown> },
  ): Promise<void> {
    const abort = () => socket.destroy();
    io.signal?.addEventListener('abort', abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (o.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
      }, o.timeoutMs);
    }
    if (o.stdin && io.stdin) {
      const source = io.stdin;
      void (async () => {
        try {
          for await (const chunk of source) if (!socket.write(chunk)) await once(socket, 'drain');
        } catch {
          // the reader went away
        }
        // Half-close: the process sees end of input, the output keeps flowing.
        if (o.closeStdin && !socket.destroyed) socket.end();
      })();
    }
    if (io.resize) {
      const sizes = io.resize;
      void (async () => {
        for await (const s of sizes) await o.resize(s).catch(() => undefined);
      })();
    }
    try {
      if (o.tty) {
        for await (const chunk of socket) io.stdout?.(chunk as Buffer);
      } else {
        for await (const frame of demux(socket as AsyncIterable<Uint8Array>)) (frame.stream === 2 ? io.stderr : io.stdout)?.(frame.data);
      }
    } catch {
      // a destroyed socket ends the output
    } finally {
      clearTimeout(timer);
      io.signal?.removeEventListener('abort', abort);
      socket.destroy();
    }
    if (timedOut) throw new Error(`command timed out after ${o.timeoutMs} ms`);
  }

  async *logs(id: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const i = await this.inspect(id);
    if (!i) return;
    const res = await this.engine.stream('GET', `/containers/${id}/logs`, {
      query: {
        stdout: true,
        stderr: true,
        follow: opts.follow,
        timestamps: opts.timestamps,
        ...(opts.tailLines !== undefined ? { tail: opts.tailLines } : {}),
        ...(opts.sinceMs !== undefined ? { since: (opts.sinceMs / 1000).toFixed(3) } : {}),
      },
      ...(signal ? { signal } : {}),
    });
    let left = opts.limitBytes ?? Infinity;
    const source = i.Config.Tty
      ? (async function* () {
          for await (const c of res) yield { data: c as Buffer };
        })()
      : demux(res as AsyncIterable<Uint8Array>);
    try {
      for await (const frame of source) {
        if (left <= 0) break;
        const data = frame.data.length > left ? frame.data.subarray(0, left) : frame.data;
        left -= data.length;
        yield data;
      }
    } catch (err) {
      if (!signal?.aborted) throw err;
    } finally {
      res.destroy();
    }
  }
}
