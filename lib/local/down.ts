/**
 * `kumo down`: stops what a `kumo up` left running on this machine (it
 * crashed, was killed, or stopped with --keep-pods), and only that: the
 * host processes of its process-runtime agents and the Docker containers
 * labelled with its cluster (the kube-system namespace's uid, read from its
 * state.db), never another cluster's. Each running container is stopped
 * within its grace period (SIGTERM, then SIGKILL), then every container of
 * the cluster is removed with its emptyDir volumes, and the tmpfs copies of
 * its secret volumes are deleted. The API objects stay in state.db: the next
 * `kumo up` on the data directory starts the pods afresh.
 *
 * Idempotent: a second run finds nothing and says so.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../agent/docker/engine.js';
import { DockerRuntime } from '../agent/docker/runtime.js';
import { ProcessRuntime } from '../agent/process-runtime.js';
import { LABELS, type Runtime } from '../agent/runtime.js';
import { defaultSecretRoot } from '../agent/volumes/manager.js';
import { localKeyEncryptor } from '../store/encryption.js';
import { SqliteStore } from '../store/sqlite.js';
import { alive, commandLine } from '../util/processes.js';
import { PID_FILE, readPidRecord } from './cluster.js';
import { NAMESPACES } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

/** Input `kumo down` cannot act on (no cluster there, or its kumo up still runs): one line for the user. */
export class DownError extends Error {
  override name = 'DownError';
}

export interface DownReport {
  /** Containers and host processes that were running and were stopped. */
  stopped: number;
  /** Containers (running or not) removed. */
  removed: number;
}

export interface DownOptions {
  /** `kumo down`'s output: a line per thing stopped. */
  print: (line: string) => void;
  /** @default the local socket (DOCKER_HOST) */
  engine?: DockerEngine;
}

/** The kube-system namespace's uid in the data directory's state.db: the cluster's identity, as the agents label with it. */
async function clusterId(dataDir: string): Promise<string> {
  if (!existsSync(dataDir)) throw new DownError(`no kumo cluster in ${dataDir}: no such directory`);
  const db = join(dataDir, 'state.db');
  if (!existsSync(db)) throw new DownError(`no kumo cluster in ${dataDir}: it holds no state.db`);
  const store = new SqliteStore({ path: db });
  try {
    const ns = await store.get({ resource: storeResource(NAMESPACES), namespace: '', name: 'kube-system' });
    if (!ns?.metadata.uid) throw new DownError(`no kumo cluster in ${dataDir}: its state.db has no kube-system namespace`);
    return ns.metadata.uid;
  } finally {
    await store.close();
  }
}

/** Refuses while the kumo up that wrote the pid file still runs (the same pid with the same command line). */
function checkNotServed(dataDir: string): void {
  const rec = readPidRecord(join(dataDir, PID_FILE));
  if (rec && alive(rec.pid) && commandLine(rec.pid) === rec.command) {
    throw new DownError(`kumo up (pid ${rec.pid}) is still serving ${dataDir}: stop it with Ctrl-C, which stops its pods`);
  }
}

/**
 * Stops what runs in one runtime (containers within their grace periods,
 * all at once, then the sandboxes) and removes everything it holds.
 */
async function drain(runtime: Runtime, print: (line: string) => void): Promise<DownReport> {
  const all = await runtime.list();
  const line = (c: (typeof all)[number]) =>
    `pod ${c.pod.namespace}/${c.pod.name} ${c.kind === 'sandbox' ? 'sandbox' : `container ${c.name}`} (${runtime.name}://${c.id})`;
  let stopped = 0;
  const stop = async (c: (typeof all)[number], graceMs: number) => {
    await runtime.stopContainer(c.id, graceMs);
    stopped++;
    print(`kumo down: stopped ${line(c)}`);
  };
  const running = all.filter((c) => c.state === 'running');
  await Promise.all(running.filter((c) => c.kind !== 'sandbox').map((c) => stop(c, (c.graceSeconds ?? 30) * 1000)));
  // A process-runtime sandbox is a record, not a process: it is stopped, but there is nothing to report.
  for (const s of running.filter((c) => c.kind === 'sandbox')) {
    if (runtime.name === 'docker') await stop(s, 0);
    else await runtime.stopContainer(s.id, 0);
  }
  for (const c of all) await runtime.removeContainer(c.id);
  for (const uid of new Set(all.map((c) => c.pod.uid))) await runtime.removePodResources(uid);
  return { stopped, removed: all.length };
}

/** The nodes with containers of this cluster on the Docker engine, or none when no engine answers. */
async function dockerNodes(engine: DockerEngine, cluster: string): Promise<string[]> {
  if (!(await engine.ping(1_500))) return [];
  const filters = JSON.stringify({ label: [`${LABELS.cluster}=${cluster}`] });
  const list = await engine.json<{ Labels: Record<string, string> }[]>('GET', '/containers/json', { query: { all: true, filters } });
  return [...new Set(list.map((c) => c.Labels[LABELS.node]).filter((n): n is string => !!n))];
}

/** Stops and removes what the cluster of `dataDir` left running on this machine. */
export async function downCluster(dataDir: string, opts: DownOptions): Promise<DownReport> {
  // Before opening its state.db: a running kumo up's is left alone.
  checkNotServed(dataDir);
  const cluster = await clusterId(dataDir);
  const report: DownReport = { stopped: 0, removed: 0 };
  const add = (r: DownReport) => {
    report.stopped += r.stopped;
    report.removed += r.removed;
  };
  const agents = join(dataDir, 'agent');
  const nodes = existsSync(agents)
    ? readdirSync(agents, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : [];
  const sealer = localKeyEncryptor(join(dataDir, 'secrets-encryption-key'));
  for (const node of nodes) {
    const rootDir = join(agents, node);
    if (existsSync(join(rootDir, 'process'))) {
      const runtime = new ProcessRuntime({ nodeName: node, nodeIP: '127.0.0.1', rootDir, sealer });
      await runtime.init(cluster);
      add(await drain(runtime, opts.print));
    }
    // The tmpfs copies of the node's secret volumes (lib/agent/volumes/manager.ts).
    rmSync(defaultSecretRoot(rootDir), { recursive: true, force: true });
  }
  const engine = opts.engine ?? new DockerEngine();
  try {
    for (const node of await dockerNodes(engine, cluster)) {
      const runtime = new DockerRuntime({ nodeName: node, nodeIP: '127.0.0.1', engine });
      await runtime.init(cluster);
      add(await drain(runtime, opts.print));
    }
  } finally {
    if (!opts.engine) engine.close();
  }
  return report;
}
