/**
 * The process runtime, for machines without a container engine: a pod's
 * containers are host processes (`command` + `args`, with the container's env
 * and workingDir), its emptyDir volumes per-pod directories. There are no
 * images, so a container must set `command`; one that does not fails with
 * CreateContainerConfigError saying so. Pods share the host's network (the
 * pod IP is the node IP), resource limits are not enforced, and a volume's
 * mountPath is rewritten to its host directory wherever it starts a word in
 * command, args, env values and workingDir.
 *
 * Each process runs under a small sh wrapper in its own process group; the
 * wrapper forwards SIGTERM and records the exit code in a file, and output
 * goes straight to a file, so processes outlive an agent restart and the
 * restarted agent adopts them from the state files. A container with `stdin`
 * reads a FIFO that attaches write into (there is no terminal: `tty` is not
 * honoured), and an ephemeral container's target needs nothing: every
 * process already shares the host's process namespace. A recorded pid is
 * only taken for ours while its command line names the container's
 * directory (after a reboot the pid may belong to anything).
 *
 * Pods run with the rights of the user running the agent: a pod can read
 * and change whatever that user can. State lives in 0700 directories and
 * 0600 files; a container's env (which holds resolved Secret values) is kept
 * in its state file only sealed with the data directory's key, because exec
 * into an adopted process needs it again.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Encryptor } from '../store/encryption.js';
import { alive, commandLine } from '../util/processes.js';
import { diskUsage } from '../util/disk-usage.js';
import { processGroupStats } from './proc-stats.js';
import { privateDir, writePrivateFile } from '../util/private-files.js';
import {
  type AttachOptions,
  type ContainerConfig,
  type ContainerInfo,
  type ContainerStats,
  ContainerStartError,
  type ExecOptions,
  type LogOptions,
  type Runtime,
  SANDBOX_NAME,
  type SandboxConfig,
  type StorageUsage,
} from './runtime.js';
import type { ExecIO } from '../api/pod-connector.js';
import { sleep } from '../util/sleep.js';

/**
 * The wrapper script: runs the command, forwards SIGTERM to it, waits for
 * it, and records its exit code in $0 (a 0600 file; the command keeps the
 * user's umask). With stdin, the wrapper's own input
 * is a FIFO opened read-write, passed on to the command (a background
 * command's input would be /dev/null): it exists from the spawn on, so an
 * attach never finds it without a reader, and, holding a writer itself, it
 * never ends between attaches (a container's stdin stays open, as with
 * `stdinOnce: false`).
 */
function wrapper(stdin: boolean): string {
  return [
    ...(stdin ? ['exec 3<&0', '"$@" <&3 3<&- &'] : ['"$@" &']),
    'child=$!',
    "trap 'kill -TERM $child 2>/dev/null' TERM",
    'wait $child; code=$?',
    'while kill -0 $child 2>/dev/null; do wait $child; code=$?; done',
    '(umask 077; echo $code > "$0")',
    'exit $code',
  ].join('\n');
}

interface ProcState extends ContainerInfo {
  pid?: number;
  dir: string;
  /** The container's env, in memory only: state.json holds it as `sealedEnv`. */
  env: [string, string][];
  /** `env` sealed with the runtime's key (bound to the container id). */
  sealedEnv?: string;
  workingDir?: string;
  /** mountPath → host directory, longest first (exec commands get the same rewriting). */
  rewrites: [string, string][];
  /** The FIFO the process reads as stdin (containers with `stdin: true`). */
  stdinPath?: string;
}

/** Replaces a mountPath with its host directory wherever it starts a word. */
function rewritePaths(s: string, rewrites: readonly [string, string][]): string {
  for (const [from, to] of rewrites) {
    const re = new RegExp(`(^|[\\s=:"'])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$|[\\s"'])`, 'g');
    s = s.replace(re, (_m, pre: string) => `${pre}${to}`);
  }
  return s;
}

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * What `kumo up` and `kumo agent` print when they start the process runtime,
 * one line each: it runs pods without any isolation.
 */
export function processRuntimeWarning(user: string): string[] {
  return [
    `WARNING: the process runtime runs every pod as a host process with your rights (user ${user}):`,
    'WARNING: a pod can read, change and delete whatever you can, and nothing isolates it from this machine.',
    'WARNING: run only pods you trust here, or start a Docker engine and use --runtime docker.',
  ];
}

/** The authenticated data a container's sealed env is bound to. */
function envAad(id: string): Buffer {
  return Buffer.from(`kumo process container ${id}`);
}

export interface ProcessRuntimeOptions {
  nodeName: string;
  /** Where state, output and volumes are kept. */
  rootDir: string;
  nodeIP: string;
  /** Seals the containers' env in their state files (the data directory's key, lib/store/encryption.ts). */
  sealer: Encryptor;
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process' as const;
  private readonly containers = new Map<string, ProcState>();
  private readonly children = new Map<string, ChildProcess>();
  private dir: string;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.dir = join(opts.rootDir, 'process', opts.nodeName);
  }

  async init(clusterId: string): Promise<void> {
    this.dir = join(this.opts.rootDir, 'process', clusterId ? `${this.opts.nodeName}-${clusterId.slice(0, 8)}` : this.opts.nodeName);
    privateDir(this.opts.rootDir);
    privateDir(this.dir);
    privateDir(join(this.dir, 'containers'));
    for (const id of readdirSync(join(this.dir, 'containers'))) {
      const file = join(this.dir, 'containers', id, 'state.json');
      if (!existsSync(file)) continue;
      let s: ProcState;
      try {
        s = JSON.parse(readFileSync(file, 'utf8')) as ProcState;
      } catch {
        continue; // a state file cut short by a crash: the instance is lost
      }
      privateDir(s.dir);
      if (s.sealedEnv) {
        try {
          s.env = JSON.parse((await this.opts.sealer.decrypt(s.sealedEnv, envAad(s.id))).toString('utf8')) as [string, string][];
        } catch {
          s.env = []; // sealed with a key this data directory no longer has: exec runs without the env
        }
      } else {
        // Written by a kumo that kept env in the clear: seal it now.
        s.env ??= [];
        s.sealedEnv = await this.opts.sealer.encrypt(Buffer.from(JSON.stringify(s.env)), envAad(s.id));
      }
      this.containers.set(id, s);
      // A pid whose command line does not name this container's directory is not ours any more.
      if (s.state === 'running' && s.kind !== 'sandbox' && !this.ours(s)) this.finish(s, 137);
      else this.save(s);
    }
  }

  /** Whether the recorded pid is still the wrapper this runtime started for `s`. */
  private ours(s: ProcState): boolean {
    return s.pid !== undefined && (commandLine(s.pid)?.includes(join(s.dir, 'exitcode')) ?? false);
  }

  async version(): Promise<string> {
    return `process://${process.version}`;
  }

  /** The container's process group (its wrapper and everything the command started), read from /proc. */
  async stats(id: string): Promise<ContainerStats | undefined> {
    const s = this.containers.get(id);
    if (!s || s.state !== 'running' || s.pid === undefined || s.kind === 'sandbox') return undefined;
    return processGroupStats(s.pid);
  }

  async close(): Promise<void> {
    for (const c of this.children.values()) c.unref();
  }

  /** Writes the state file, 0600 and without the clear-text env. */
  private save(s: ProcState): void {
    const { env: _env, ...persisted } = s;
    writePrivateFile(join(s.dir, 'state.json'), JSON.stringify(persisted));
  }

  async ensureImage(): Promise<{ pulled: boolean }> {
    return { pulled: false };
  }

  private newState(kind: ContainerInfo['kind'], pod: ContainerInfo['pod'], name: string, restartCount: number, image: string, graceSeconds: number): ProcState {
    const id = `${pod.uid.slice(0, 8)}-${name.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${restartCount}-${randomBytes(3).toString('hex')}`;
    const dir = join(this.dir, 'containers', id);
    privateDir(dir);
    return { id, pod, name, kind, restartCount, state: 'created', createdAt: Date.now(), image, imageID: '', dir, env: [], rewrites: [], graceSeconds };
  }

  async createSandbox(cfg: SandboxConfig): Promise<ContainerInfo> {
    const s = this.newState('sandbox', cfg.pod, SANDBOX_NAME, cfg.attempt, '', cfg.graceSeconds);
    s.state = 'running';
    s.startedAt = nowSeconds();
    s.ip = this.opts.nodeIP;
    this.containers.set(s.id, s);
    this.save(s);
    return { ...s };
  }

  /** The host directory of a pod volume. */
  volumeDir(podUid: string, volume: string): string {
    return join(this.dir, 'pods', podUid, 'volumes', volume);
  }

  async startContainer(cfg: ContainerConfig): Promise<ContainerInfo> {
    if (!cfg.command || cfg.command.length === 0) {
      throw new ContainerStartError(
        'CreateContainerConfigError',
        `the process runtime cannot run image "${cfg.image}" without a command: set the container's command (images are not available without a container engine)`,
      );
    }
    const rewrites: [string, string][] = [];
    for (const m of cfg.mounts) {
      const host = m.source.type === 'emptyDir' ? this.volumeDir(cfg.pod.uid, m.volume) : m.source.path;
      if (m.source.type === 'emptyDir' || (m.source.type === 'hostPath' && m.source.hostPathType === 'DirectoryOrCreate')) mkdirSync(host, { recursive: true });
      rewrites.push([m.containerPath.replace(/\/$/, ''), host]);
    }
    // Longest mount paths first, so /data/sub wins over /data.
    rewrites.sort((a, b) => b[0].length - a[0].length);
    const rewrite = (s: string) => rewritePaths(s, rewrites);
    const argv = [...cfg.command, ...(cfg.args ?? [])].map(rewrite);
    const env = cfg.env.map(([k, v]) => [k, rewrite(v)] as [string, string]);
    const s = this.newState(cfg.kind, cfg.pod, cfg.name, cfg.restartCount, cfg.image, cfg.graceSeconds);
    s.env = env;
    s.sealedEnv = await this.opts.sealer.encrypt(Buffer.from(JSON.stringify(env)), envAad(s.id));
    s.rewrites = rewrites;
    if (cfg.workingDir) s.workingDir = rewrite(cfg.workingDir);
    this.containers.set(s.id, s);
    const out = openSync(join(s.dir, 'output.log'), 'a', 0o600);
    let input: number | undefined;
    try {
      if (cfg.stdin) {
        s.stdinPath = join(s.dir, 'stdin');
        execFileSync('mkfifo', ['-m', '600', s.stdinPath]);
        // Read-write: opening does not wait for a writer, and the wrapper keeps one.
        input = openSync(s.stdinPath, constants.O_RDWR);
      }
      const child = spawn('/bin/sh', ['-c', wrapper(input !== undefined), join(s.dir, 'exitcode'), ...argv], {
        cwd: s.workingDir ?? this.volumeRoot(cfg.pod.uid),
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...Object.fromEntries(env) },
        stdio: [input ?? 'ignore', out, out],
        detached: true,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      s.pid = child.pid!;
      s.state = 'running';
      s.startedAt = nowSeconds();
      this.children.set(s.id, child);
      child.once('exit', (code, signal) => {
        this.children.delete(s.id);
        this.finish(s, code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1));
      });
    } catch (err) {
      s.state = 'exited';
      s.exitCode = 128;
      s.reason = 'StartError';
      s.message = (err as Error).message;
      s.startedAt = s.finishedAt = nowSeconds();
      s.finishedAtMs = Date.now();
      throw new ContainerStartError('RunContainerError', (err as Error).message);
    } finally {
      closeSync(out);
      if (input !== undefined) closeSync(input);
      this.save(s);
    }
    return { ...s };
  }

  /**
   * Each container's directory (its output and state, of its latest
   * instance) and each emptyDir volume's directory, as `du` counts them.
   * What a process writes elsewhere on the host is not the pod's to count.
   */
  async storageUsage(podUid: string): Promise<StorageUsage> {
    const latest = new Map<string, ProcState>();
    for (const s of this.containers.values()) {
      if (s.pod.uid !== podUid || s.kind === 'sandbox') continue;
      const seen = latest.get(s.name);
      if (!seen || seen.createdAt < s.createdAt) latest.set(s.name, s);
    }
    const containers = new Map<string, number>();
    for (const [name, s] of latest) containers.set(name, await diskUsage(s.dir));
    const volumes = new Map<string, number>();
    const root = join(this.dir, 'pods', podUid, 'volumes');
    for (const name of existsSync(root) ? readdirSync(root) : []) volumes.set(name, await diskUsage(join(root, name)));
    return { containers, volumes };
  }

  private volumeRoot(podUid: string): string {
    const dir = join(this.dir, 'pods', podUid);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private finish(s: ProcState, fallbackCode: number): void {
    if (s.state === 'exited') return;
    let code = fallbackCode;
    try {
      code = Number(readFileSync(join(s.dir, 'exitcode'), 'utf8').trim());
    } catch {
      // killed before the wrapper could record it
    }
    s.state = 'exited';
    s.exitCode = code;
    s.reason = code === 0 ? 'Completed' : 'Error';
    s.finishedAt = nowSeconds();
    s.finishedAtMs = Date.now();
    delete s.pid;
    this.save(s);
  }

  async list(podUid?: string): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = [];
    for (const s of this.containers.values()) {
      if (podUid && s.pod.uid !== podUid) continue;
      // An adopted process (not our child) that went away.
      if (s.state === 'running' && s.kind !== 'sandbox' && !this.children.has(s.id) && !alive(s.pid)) this.finish(s, 137);
      const { pid: _pid, dir: _dir, env: _env, sealedEnv: _sealed, workingDir: _wd, rewrites: _rw, stdinPath: _in, ...info } = s;
      out.push(info);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async stopContainer(id: string, graceMs: number): Promise<void> {
    const s = this.containers.get(id);
    if (!s || s.state !== 'running') return;
    if (s.kind === 'sandbox') {
      s.state = 'exited';
      s.exitCode = 0;
      s.finishedAt = nowSeconds();
      this.save(s);
      return;
    }
    const pid = s.pid!;
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    const gone = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (!alive(pid) || s.state === 'exited') return true;
        await sleep(25);
      }
      return !alive(pid) || s.state === 'exited';
    };
    if (graceMs > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      if (await gone(graceMs)) {
        group('SIGKILL');
        await gone(2_000);
        this.finish(s, 143);
        return;
      }
    }
    group('SIGKILL');
    await gone(5_000);
    this.finish(s, 137);
  }

  async removeContainer(id: string): Promise<void> {
    const s = this.containers.get(id);
    if (!s) return;
    if (s.state === 'running') await this.stopContainer(id, 0);
    this.containers.delete(id);
    this.children.delete(id);
    rmSync(s.dir, { recursive: true, force: true });
  }

  async removePodResources(podUid: string): Promise<void> {
    rmSync(join(this.dir, 'pods', podUid), { recursive: true, force: true });
  }

  async exec(id: string, command: string[], opts: ExecOptions, io: ExecIO): Promise<number> {
    const s = this.containers.get(id);
    if (!s || s.state !== 'running') throw new Error(`container ${id} is not running`);
    if (command.length === 0) throw new Error('no command');
    const argv = command.map((a) => rewritePaths(a, s.rewrites ?? []));
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: s.workingDir ?? this.volumeRoot(s.pod.uid),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...Object.fromEntries(s.env) },
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    const exit = new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))));
    child.stdout!.on('data', (c: Buffer) => io.stdout?.(c));
    child.stderr!.on('data', (c: Buffer) => io.stderr?.(c));
    if (opts.stdin && io.stdin && child.stdin) {
      const sink = child.stdin;
      sink.on('error', () => undefined);
      void (async () => {
        try {
          for await (const chunk of io.stdin!) sink.write(chunk);
        } catch {
          // the reader went away
        }
        sink.end();
      })();
    }
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    const abort = () => child.kill('SIGKILL');
    io.signal?.addEventListener('abort', abort, { once: true });
    const code = await exit;
    clearTimeout(timer);
    io.signal?.removeEventListener('abort', abort);
    if (timedOut) throw new Error(`command timed out after ${opts.timeoutMs} ms`);
    return code;
  }

  /**
   * The process's output from now on, and its stdin when it has one (a
   * FIFO). There is no terminal: a TTY request gets the plain streams.
   */
  async attach(id: string, opts: AttachOptions, io: ExecIO): Promise<void> {
    const s = this.containers.get(id);
    if (!s || s.state !== 'running') throw new Error(`container ${id} is not running`);
    const file = join(s.dir, 'output.log');
    const from = existsSync(file) ? statSync(file).size : 0;
    let input: Socket | undefined;
    if (opts.stdin && io.stdin && s.stdinPath) {
      let fd: number;
      try {
        // Non-blocking: fails (ENXIO) instead of waiting when no process reads the FIFO any more.
        fd = openSync(s.stdinPath, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        throw new Error(`container ${id} is not running`, { cause: err });
      }
      const sink = new Socket({ fd, readable: false, writable: true });
      sink.on('error', () => undefined);
      input = sink;
      const source = io.stdin;
      void (async () => {
        try {
          for await (const chunk of source) if (!sink.write(chunk)) await once(sink, 'drain');
        } catch {
          // the caller went away
        }
        // Only this writer closes: the wrapper keeps the process's input open.
        sink.end();
      })();
    }
    try {
      for await (const chunk of this.follow(id, file, from, Infinity, true, io.signal)) io.stdout?.(chunk);
    } finally {
      input?.destroy();
    }
  }

  async *logs(id: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const s = this.containers.get(id);
    if (!s) return;
    const file = join(s.dir, 'output.log');
    if (!existsSync(file)) return;
    let pos = 0;
    if (opts.tailLines !== undefined) {
      const text = readFileSync(file);
      let lines = 0;
      // Skip a trailing newline, then walk back over tailLines line ends.
      let i = text.length - 1;
      if (i >= 0 && text[i] === 0x0a) i--;
      for (; i >= 0; i--) {
        if (text[i] === 0x0a && ++lines === opts.tailLines) break;
      }
      pos = Math.max(0, opts.tailLines === 0 ? text.length : i + 1);
    }
    yield* this.follow(id, file, pos, opts.limitBytes ?? Infinity, opts.follow, signal);
  }

  /** A container's output file from `pos`: what is there, then (with `follow`) what comes until the container ends. */
  private async *follow(id: string, file: string, pos: number, limitBytes: number, follow: boolean, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    let left = limitBytes;
    const fh = await open(file, 'r');
    try {
      for (;;) {
        const size = statSync(file).size;
        while (pos < size && left > 0) {
          const buf = Buffer.alloc(Math.min(64 * 1024, size - pos, left));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          left -= bytesRead;
          yield buf.subarray(0, bytesRead);
        }
        if (!follow || left <= 0 || signal?.aborted) return;
        const current = this.containers.get(id);
        if (!current || current.state === 'exited') {
          if (statSync(file).size <= pos) return;
          continue;
        }
        await sleep(200);
      }
    } finally {
      await fh.close();
    }
  }
}
