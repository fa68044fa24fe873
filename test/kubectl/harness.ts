/**
 * The real kubectl v1.35 (and helm) against an in-process `kumo up`: a
 * LocalCluster on a free port with controllers and three simulated nodes,
 * a temporary kubeconfig, and kubectl with its own HOME and --cache-dir so
 * runs never share discovery caches.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import type { LocalCluster, LocalClusterOptions } from '#lib/local/cluster';
import { startCluster } from '../helpers/cluster.js';
import { helmPath, kubectlPath } from '../helpers/kubectl.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlCluster {
  cluster: LocalCluster;
  dir: string;
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  /** Runs kubectl to completion (killed after `timeoutMs`, default 30 s). */
  kubectl(args: readonly string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Starts a long-running kubectl (`get -w`); the caller kills it. */
  spawnKubectl(args: readonly string[]): Promise<ChildProcessWithoutNullStreams>;
  helm(args: readonly string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Writes a file under `dir` and returns its path. */
  file(name: string, text: string): string;
  dispose(): Promise<void>;
}

/** Runs a program to completion, feeding `stdin`; killed after `timeoutMs` (its stderr says so). */
export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr: signal === 'SIGKILL' ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
    child.stdin.end(stdin);
  });
}

/** A kubeconfig for `server`, optionally with a CA and a bearer token. */
export function kubeconfigFor(server: string, opts: { caData?: string; token?: string; contexts?: string[] } = {}): string {
  const names = opts.contexts ?? ['kumo'];
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kumo', cluster: { server, ...(opts.caData ? { 'certificate-authority-data': opts.caData } : {}) } }],
    users: [{ name: 'kumo', user: opts.token ? { token: opts.token } : {} }],
    contexts: names.map((name, i) => ({ name, context: { cluster: 'kumo', user: 'kumo', ...(i > 0 ? { namespace: name } : {}) } })),
    'current-context': names[0],
  });
}

export async function startKubectlCluster(opts: Partial<LocalClusterOptions> = {}): Promise<KubectlCluster> {
  const cluster = await startCluster({ fakeNodes: { names: ['node-1', 'node-2', 'node-3'], startDelayMs: 50 }, ...opts });
  const dir = mkdtempSync(join(tmpdir(), 'kumo-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor(cluster.url, { contexts: ['kumo', 'kumo-other'] }));
  const home = join(dir, 'home');
  mkdirSync(home);
  const cache = join(dir, 'cache');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, KUBECONFIG: kubeconfig, HOME: home, KUBECTL_KUBERC: 'false' };
  const [kubectl, helm] = await Promise.all([kubectlPath(), helmPath()]);
  return {
    cluster,
    dir,
    kubeconfig,
    env,
    kubectl: (args, o = {}) => run(kubectl, ['--cache-dir', cache, ...args], env, o.stdin ?? '', o.timeoutMs ?? 30_000),
    async spawnKubectl(args) {
      return spawn(kubectl, ['--cache-dir', cache, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    helm: (args, o = {}) =>
      run(
        helm,
        args,
        { ...env, HELM_CACHE_HOME: join(dir, 'helm-cache'), HELM_CONFIG_HOME: join(dir, 'helm-config'), HELM_DATA_HOME: join(dir, 'helm-data') },
        '',
        o.timeoutMs ?? 60_000,
      ),
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

/** A test file's cluster: started before its tests, disposed after them; kubectl bound to it. */
export interface KubectlSuite {
  kubectl: KubectlCluster['kubectl'];
  helm: KubectlCluster['helm'];
  file: KubectlCluster['file'];
  /** kubectlOk on the suite's cluster. */
  ok(args: string[], stdin?: string): Promise<string>;
  /** kubectlRefused on the suite's cluster. */
  refused(args: string[], stdin?: string): Promise<string>;
  /** The suite's cluster itself (its client, for what kubectl does not show). */
  cluster(): KubectlCluster;
}

/** Registers the beforeAll/afterAll of a test file's cluster (no simulated nodes unless `opts` says). */
export function kubectlSuite(opts: Partial<LocalClusterOptions> = { fakeNodes: { names: [], startDelayMs: 0 } }): KubectlSuite {
  let k: KubectlCluster | undefined;
  beforeAll(async () => {
    k = await startKubectlCluster(opts);
  });
  afterAll(async () => {
    await k?.dispose();
  });
  const cluster = (): KubectlCluster => {
    if (!k) throw new Error('the kubectl cluster is not started (use the suite inside tests)');
    return k;
  };
  return {
    kubectl: (args, o) => cluster().kubectl(args, o),
    helm: (args, o) => cluster().helm(args, o),
    file: (name, text) => cluster().file(name, text),
    ok: (args, stdin) => kubectlOk(cluster(), args, stdin),
    refused: (args, stdin) => kubectlRefused(cluster(), args, stdin),
    cluster,
  };
}

/** Runs kubectl and returns its stdout; a non-zero exit fails with its stderr. */
export async function kubectlOk(k: KubectlCluster, args: string[], stdin?: string): Promise<string> {
  const r = await k.kubectl(args, stdin !== undefined ? { stdin } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs kubectl that must fail and returns its stderr, trimmed; a zero exit fails with its stdout. */
export async function kubectlRefused(k: KubectlCluster, args: string[], stdin?: string): Promise<string> {
  const r = await k.kubectl(args, stdin !== undefined ? { stdin } : {});
  if (r.code === 0) throw new Error(`kubectl ${args.join(' ')} succeeded: ${r.stdout}`);
  return r.stderr.trim();
}

/** Collects a child's stdout until `until` matches (or the time is up), without ending it. */
export function readUntil(child: ChildProcessWithoutNullStreams, until: (out: string) => boolean, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.stdout.off('data', onData);
      reject(new Error(`timed out after ${timeoutMs} ms; output so far:\n${out}`));
    }, timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      if (until(out)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(out);
      }
    };
    child.stdout.on('data', onData);
  });
}

/** Table rows of kubectl output as arrays of cells (split on runs of 2+ spaces). */
export function rows(out: string): string[][] {
  return out
    .trimEnd()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s{2,}/));
}
