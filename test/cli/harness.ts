/**
 * A cluster for CLI tests: an in-process LocalCluster, a kubeconfig that
 * points at it, and three ways to run commands against it: `kumo` (main()
 * in-process, capturing output), `kumoBin` (the built binary, as users run
 * it) and `kubectl` (the real kubectl v1.35, for side-by-side comparisons).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { main } from '#lib/cli/main';
import { memoryIO } from '#lib/cli/io';
import type { LocalCluster, LocalClusterOptions } from '#lib/local/cluster';
import { startCluster } from '../helpers/cluster.js';
import { kubectlPath } from '../helpers/kubectl.js';
import { sleep } from '#lib/util/sleep';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KUMO_BIN = join(ROOT, 'dist', 'bin', 'kumo.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, feeding `stdin` if given. */
export function run(cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; stdin?: string; cwd?: string }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (entry.name.endsWith(ext) && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function distIsStale(): boolean {
  try {
    const built = statSync(KUMO_BIN).mtimeMs;
    return Math.max(newestMtime(join(ROOT, 'lib'), '.ts'), newestMtime(join(ROOT, 'bin'), '.ts')) > built;
  } catch {
    return true;
  }
}

/**
 * Builds dist/ when a source is newer than the binary. Test files run in
 * parallel, so one builds at a time (a lock directory) and the others wait
 * for it, then re-check.
 */
export async function ensureBuilt(): Promise<void> {
  if (!distIsStale()) return;
  const lock = join(ROOT, 'node_modules', '.cache', 'kumo', 'build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the deadline is left over from a killed run.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 120_000) rmdirSync(lock);
      if (Date.now() > deadline) throw new Error('timed out waiting for another test to build dist/');
      await sleep(200);
    }
  }
  try {
    if (!distIsStale()) return;
    const res = await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { env: process.env });
    if (res.code !== 0) throw new Error(`npm run build failed: ${res.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

export interface CliCluster {
  cluster: LocalCluster;
  /** A scratch directory for manifests; removed by dispose(). */
  dir: string;
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  kumo(args: readonly string[], opts?: { stdin?: string }): Promise<RunResult>;
  kumoBin(args: readonly string[], opts?: { stdin?: string }): Promise<RunResult>;
  kubectl(args: readonly string[], opts?: { stdin?: string }): Promise<RunResult>;
  /** Writes a file under `dir` and returns its path. */
  file(name: string, text: string): string;
  dispose(): Promise<void>;
}

/**
 * Starts a cluster for CLI tests. Controllers are off unless asked for, so
 * what the CLI prints depends only on what the test wrote; `fakeNodes` adds
 * simulated nodes that run the pods.
 */
export async function startCliCluster(opts: { controllers?: boolean; fakeNodes?: LocalClusterOptions['fakeNodes'] } = {}): Promise<CliCluster> {
  const cluster = await startCluster({ controllers: opts.controllers ?? false, ...(opts.fakeNodes ? { fakeNodes: opts.fakeNodes } : {}) });
  const dir = mkdtempSync(join(tmpdir(), 'kumo-cli-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kumo-test', cluster: { server: cluster.url } }],
      users: [{ name: 'kumo-test', user: {} }],
      contexts: [{ name: 'kumo-test', context: { cluster: 'kumo-test', user: 'kumo-test' } }],
      'current-context': 'kumo-test',
    }),
  );
  // HOME too: kubectl caches discovery under ~/.kube/cache.
  const home = join(dir, 'home');
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, HOME: home };
  return {
    cluster,
    dir,
    kubeconfig,
    env,
    async kumo(args, o = {}) {
      const io = memoryIO(o.stdin ?? '', env);
      const code = await main([...args], io);
      return { code, stdout: io.stdout, stderr: io.stderr };
    },
    kumoBin: (args, o = {}) => run(process.execPath, [KUMO_BIN, ...args], { env, ...o }),
    kubectl: async (args, o = {}) => run(await kubectlPath(), args, { env, ...o }),
    file(name, text) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    async dispose() {
      await cluster.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the same arguments through kumo and kubectl until both print the
 * same (ages printed at different instants can differ by a second), at most
 * `tries` times, and returns the last pair.
 */
export async function sideBySide(c: CliCluster, args: readonly string[], tries = 5): Promise<{ kumo: RunResult; kubectl: RunResult }> {
  let last: { kumo: RunResult; kubectl: RunResult } | undefined;
  for (let i = 0; i < tries; i++) {
    const [kumo, kubectl] = await Promise.all([c.kumo(args), c.kubectl(args)]);
    last = { kumo, kubectl };
    if (kumo.stdout === kubectl.stdout && kumo.stderr === kubectl.stderr && kumo.code === kubectl.code) break;
  }
  return last!;
}

/** A `kumo up` child process, as users run it. */
export interface KumoUp {
  pid: number;
  /** What it printed on stdout so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the built `kumo up` with these arguments and resolves once it says it is ready. */
export async function startKumoUp(args: readonly string[], env: NodeJS.ProcessEnv): Promise<KumoUp> {
  const child = spawn(process.execPath, [KUMO_BIN, 'up', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kumo up did not get ready: ${out}${err}`)), 30_000);
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('kumo: ready.')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`kumo up exited: ${out}${err}`)));
  });
  return {
    pid: child.pid!,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
      child.kill(signal);
      return exited;
    },
  };
}
