/**
 * A `kumo up` in its own process for the benchmarks: the control plane's
 * memory and CPU are then its own (the benchmark's clients, watches and
 * bookkeeping run in the parent), the way a user's kubectl and `kumo up`
 * are separate. Started by bench/lib/cluster-process.ts with fork(); the
 * options come as JSON in argv[2]; it answers over IPC.
 */
import { LocalCluster } from '#lib/local/cluster';
import type { ChildOptions, ChildReply, ChildRequest } from './lib/cluster-process.js';
import { jsonLogger } from '#lib/log/logger';

const opts = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const names = Array.from({ length: opts.fakeNodes ?? 0 }, (_, i) => `node-${i + 1}`);
const cluster = new LocalCluster({
  dataDir: opts.dataDir,
  port: 0,
  // Plain HTTP on loopback, as the API-latency figures have always been measured (beside an empty HTTP round trip).
  insecureHttp: true,
  print: (line) => {
    if (opts.verbose) process.stderr.write(`[cluster] ${line}\n`);
  },
  logger: jsonLogger({ service: 'kumo', sink: (line) => process.stderr.write(`[cluster] ${line}\n`) }),
  ...(names.length > 0 ? { fakeNodes: { names, ...(opts.fakeNodeOptions ?? {}) } } : {}),
  ...(opts.runtime ? { runtime: opts.runtime, nodeNames: opts.nodeNames ?? ['bench-node'] } : {}),
  ...(opts.controllers === false ? { controllers: false } : {}),
});

// BENCH_COUNT_CALLS=1: count API requests by verb and path shape, printed when the cluster stops (to find hot paths).
const counts = new Map<string, number>();
if (process.env.BENCH_COUNT_CALLS) {
  const handle = cluster.api.handle.bind(cluster.api);
  cluster.api.handle = async (req) => {
    const shape = req.path.replace(/\/namespaces\/[^/]+/, '/namespaces/NS').replace(/^(\/apis?\/(?:[^/]+\/)?v1(?:\/namespaces\/NS)?\/[^/]+)\/[^/]+/, '$1/NAME');
    const q = ['watch', 'labelSelector', 'fieldSelector', 'limit'].filter((k) => req.query.has(k)).join(',');
    const key = `${req.method} ${shape}${q ? ` ?${q}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return handle(req);
  };
}

function send(reply: ChildReply): void {
  process.send?.(reply);
}

let stopping: Promise<void> | undefined;
async function stop(): Promise<void> {
  stopping ??= cluster.stop();
  await stopping;
  if (counts.size > 0) {
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40);
    process.stderr.write(`[cluster] API requests:\n${top.map(([k, n]) => `  ${String(n).padStart(8)}  ${k}`).join('\n')}\n`);
  }
}

process.on('message', (msg: ChildRequest) => {
  if (msg.cmd === 'memory') send({ type: 'memory', memory: process.memoryUsage() });
  else if (msg.cmd === 'stop') void stop().then(() => process.exit(0));
});
process.on('SIGTERM', () => void stop().then(() => process.exit(0)));
process.on('disconnect', () => void stop().then(() => process.exit(0)));

try {
  await cluster.start();
  send({ type: 'ready', url: cluster.url, pid: process.pid });
} catch (err) {
  send({ type: 'error', message: (err as Error).stack ?? String(err) });
  process.exit(1);
}
