/**
 * Runs a `kumo up` (LocalCluster) in a child process (bench/cluster-child.ts)
 * and talks to it over HTTP like any client. Its resident memory is read from
 * /proc, so the figure is the control plane's alone. With BENCH_CPU_PROF set
 * to a directory, the child writes a V8 CPU profile there when it stops.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeNodeOptions } from '#lib/sim/fake-nodes';
import { KubeClient } from '#lib/client/client';
import { HttpTransport } from '#lib/client/transport';

export interface ChildOptions {
  dataDir: string;
  fakeNodes?: number;
  fakeNodeOptions?: Omit<FakeNodeOptions, 'names' | 'log' | 'clock' | 'labels'>;
  runtime?: 'docker' | 'process';
  nodeNames?: string[];
  controllers?: boolean;
  verbose?: boolean;
}

export type ChildRequest = { cmd: 'memory' } | { cmd: 'stop' };
export type ChildReply = { type: 'ready'; url: string; pid: number } | { type: 'memory'; memory: NodeJS.MemoryUsage } | { type: 'error'; message: string };

const here = dirname(fileURLToPath(import.meta.url));

export class ClusterProcess {
  private readonly transport: HttpTransport;
  readonly client: KubeClient;
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly pid: number,
  ) {
    this.transport = new HttpTransport({ server: url, timeoutMs: 120_000 });
    this.client = new KubeClient(this.transport);
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  static async start(opts: ChildOptions): Promise<ClusterProcess> {
    const profileDir = process.env.BENCH_CPU_PROF;
    const child = fork(join(here, '..', 'cluster-child.js'), [JSON.stringify(opts)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the cluster process exited (${code}) before it was ready`)));
      child.on('message', (m: ChildReply) => {
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'error') reject(new Error(`the cluster process failed to start: ${m.message}`));
      });
    });
    return new ClusterProcess(child, ready.url, ready.pid);
  }

  /** Resident set size now and its peak so far, in bytes (from /proc/<pid>/status). */
  rss(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  /** Stops the cluster (its pods, simulated nodes and agents first) and waits for the process to end. */
  async stop(timeoutMs = 120_000): Promise<void> {
    this.transport.close();
    if (this.child.exitCode !== null) return;
    this.child.send({ cmd: 'stop' } satisfies ChildRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
