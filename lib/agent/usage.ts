/**
 * The agent's usage report (kubelet's resource metrics endpoint, in the
 * form of lib/api/metrics/v1beta1's NodeUsage): each running container's
 * CPU rate and working set from the runtime, and the node's from /proc.
 *
 * A CPU rate needs two samples: the collector keeps each container's last
 * cumulative CPU time and reports the rate between that sample and this
 * one, so the window of a report is the time since the previous report
 * (the lease renewal interval). A container seen for the first time is
 * reported from the next report on, as metrics-server skips a container
 * with a single sample; a pod is reported once all its running containers
 * are.
 */
import { type NodeUsage, formatKibibytes, formatNanoCores } from '../api/metrics/v1beta1/metrics.js';
import { type Clock, rfc3339 } from '../util/clock.js';
import { hostCpuNanoseconds, hostMemoryBytes } from './proc-stats.js';
import type { Runtime } from './runtime.js';

interface Sample {
  cpuNanoseconds: number;
  at: number;
}

export class UsageCollector {
  private readonly containers = new Map<string, Sample>();
  private host: Sample | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly clock: Clock,
  ) {}

  /** The rate (cores) since `prev`, and this sample to keep. */
  private rate(prev: Sample | undefined, cpuNanoseconds: number, at: number): number | undefined {
    if (!prev || at <= prev.at || cpuNanoseconds < prev.cpuNanoseconds) return undefined;
    return (cpuNanoseconds - prev.cpuNanoseconds) / ((at - prev.at) * 1e6);
  }

  /** Measures now; undefined until a second sample of the node makes a window. */
  async collect(): Promise<NodeUsage | undefined> {
    const at = this.clock.now();
    const running = (await this.runtime.list()).filter((c) => c.state === 'running' && c.kind !== 'sandbox');
    const pods = new Map<string, NodeUsage['pods'][number] & { complete: boolean }>();
    const seen = new Set<string>();
    for (const c of running) {
      const stats = await this.runtime.stats(c.id);
      const key = `${c.pod.namespace}/${c.pod.name}`;
      const pod = pods.get(key) ?? { namespace: c.pod.namespace, name: c.pod.name, containers: [], complete: true };
      pods.set(key, pod);
      if (!stats) {
        pod.complete = false;
        continue;
      }
      seen.add(c.id);
      const cores = this.rate(this.containers.get(c.id), stats.cpuNanoseconds, at);
      this.containers.set(c.id, { cpuNanoseconds: stats.cpuNanoseconds, at });
      if (cores === undefined) pod.complete = false;
      else pod.containers.push({ name: c.name, cpu: formatNanoCores(cores), memory: formatKibibytes(stats.memoryBytes) });
    }
    for (const id of this.containers.keys()) if (!seen.has(id)) this.containers.delete(id);
    const hostCpu = hostCpuNanoseconds();
    const prevHost = this.host;
    if (hostCpu !== undefined) this.host = { cpuNanoseconds: hostCpu, at };
    const nodeCores = hostCpu === undefined ? undefined : this.rate(prevHost, hostCpu, at);
    const memory = hostMemoryBytes();
    if (nodeCores === undefined || memory === undefined || !prevHost) return undefined;
    return {
      timestamp: rfc3339(at),
      windowSeconds: Math.max(1, Math.round((at - prevHost.at) / 1000)),
      cpu: formatNanoCores(nodeCores),
      memory: formatKibibytes(memory),
      pods: [...pods.values()].filter((p) => p.complete && p.containers.length > 0).map(({ complete: _c, ...p }) => p),
    };
  }
}
