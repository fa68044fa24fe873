/**
 * What a simulated node reports as its pods' and its own usage: a load set
 * per pod or per container by annotation, else a realistic idle load (a
 * tenth of the container's CPU request, half its memory request, or 2
 * millicores and 24 MiB without requests). The node adds what its system
 * daemons would use. The annotations are read at every report, so a test
 * (or a user) changes a running pod's load with `kubectl annotate`.
 */
import type { Container, Pod } from '../api/core/v1/pod.js';
import { type NodeUsage, formatKibibytes, formatNanoCores } from '../api/metrics/v1beta1/metrics.js';
import { parseQuantity } from '../api/quantity.js';
import { rfc3339 } from '../util/clock.js';

/** Annotation: CPU each container of the pod uses (a quantity, `250m`); `kumo.io/sim-cpu.<container>` for one container. */
export const SIM_CPU = 'kumo.io/sim-cpu';
/** Annotation: memory each container of the pod uses (a quantity, `64Mi`); `kumo.io/sim-memory.<container>` for one container. */
export const SIM_MEMORY = 'kumo.io/sim-memory';

const IDLE_CPU_CORES = 0.002;
const IDLE_MEMORY_BYTES = 24 * 2 ** 20;

/** What the node itself uses beside its pods (kubelet, runtime, system). @default 100m CPU, 512 MiB */
export interface SystemUsage {
  cpuCores: number;
  memoryBytes: number;
}

export const DEFAULT_SYSTEM_USAGE: SystemUsage = { cpuCores: 0.1, memoryBytes: 512 * 2 ** 20 };

function annotated(pod: Pod, key: string, container: string): number | undefined {
  const a = pod.metadata?.annotations ?? {};
  const v = parseQuantity(a[`${key}.${container}`] ?? a[key]);
  return v !== undefined && v >= 0 ? v : undefined;
}

function request(c: Container, resource: 'cpu' | 'memory'): number | undefined {
  return parseQuantity(c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource]);
}

/** One container's simulated usage: cores and bytes. */
export function simulatedContainerUsage(pod: Pod, c: Container): { cpuCores: number; memoryBytes: number } {
  const cpuRequest = request(c, 'cpu');
  const memRequest = request(c, 'memory');
  return {
    cpuCores: annotated(pod, SIM_CPU, c.name) ?? (cpuRequest !== undefined ? cpuRequest / 10 : IDLE_CPU_CORES),
    memoryBytes: annotated(pod, SIM_MEMORY, c.name) ?? (memRequest !== undefined ? memRequest / 2 : IDLE_MEMORY_BYTES),
  };
}

/** The usage record of a simulated node running `pods` (its running pods), measured at `now` over `windowSeconds`. */
export function simulatedNodeUsage(pods: readonly Pod[], now: number, windowSeconds: number, system: SystemUsage = DEFAULT_SYSTEM_USAGE): NodeUsage {
  let cpu = system.cpuCores;
  let memory = system.memoryBytes;
  const out: NodeUsage['pods'] = [];
  for (const pod of pods) {
    const containers = (pod.spec?.containers ?? []).map((c) => {
      const u = simulatedContainerUsage(pod, c);
      cpu += u.cpuCores;
      memory += u.memoryBytes;
      return { name: c.name, cpu: formatNanoCores(u.cpuCores), memory: formatKibibytes(u.memoryBytes) };
    });
    out.push({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', containers });
  }
  return { timestamp: rfc3339(now), windowSeconds, cpu: formatNanoCores(cpu), memory: formatKibibytes(memory), pods: out };
}
