/**
 * Ephemeral-storage limits, enforced as the kubelet's eviction manager does
 * (pkg/kubelet/eviction, localStorageEviction): a pod is evicted when an
 * emptyDir volume holds more than its `sizeLimit`, when the pod as a whole
 * (its containers' writable layers and logs, and its emptyDir volumes on
 * disk) uses more than its containers' ephemeral-storage limits together,
 * or when one container uses more than its own limit; checked in that
 * order, the first that applies is the reason. Pure: the runtime measures.
 */
import type { Container, Pod } from '../api/core/v1/pod.js';
import { formatBytes, parseQuantity } from '../api/quantity.js';
import type { StorageUsage } from './runtime.js';

const EPHEMERAL_STORAGE = 'ephemeral-storage';

/** The reason a pod evicted by the kubelet's eviction manager shows (status.reason, and the Warning event's). */
export const EVICTED = 'Evicted';

/** A limit as the kubelet prints it: the quantity as written where there is one, else in binary units. */
interface Limit {
  bytes: number;
  text: string;
}

function limitOf(c: Container): Limit | undefined {
  const q = c.resources?.limits?.[EPHEMERAL_STORAGE];
  const bytes = parseQuantity(q);
  return bytes !== undefined && bytes > 0 ? { bytes, text: String(q) } : undefined;
}

/**
 * The pod's ephemeral-storage limit, as kube's PodLimits sums it: its app
 * containers' and sidecars' limits together, or one init container's when
 * that is more. Undefined when no container sets one.
 */
function podLimit(pod: Pod): Limit | undefined {
  const spec = pod.spec ?? { containers: [] };
  const running = [...(spec.containers ?? []), ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const limits = running.map(limitOf).filter((l): l is Limit => l !== undefined);
  let total: Limit | undefined =
    limits.length === 0 ? undefined : limits.length === 1 ? limits[0] : { bytes: limits.reduce((n, l) => n + l.bytes, 0), text: '' };
  for (const ic of spec.initContainers ?? []) {
    const l = ic.restartPolicy === 'Always' ? undefined : limitOf(ic);
    if (l && l.bytes > (total?.bytes ?? 0)) total = l;
  }
  return total && { bytes: total.bytes, text: total.text || formatBytes(total.bytes) };
}

/** Whether any limit here needs measuring: a container's ephemeral-storage limit or an emptyDir sizeLimit. */
export function hasStorageLimits(pod: Pod): boolean {
  const spec = pod.spec;
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  return containers.some((c) => limitOf(c) !== undefined) || (spec?.volumes ?? []).some((v) => (parseQuantity(v.emptyDir?.sizeLimit) ?? 0) > 0);
}

/**
 * Why the kubelet would evict this pod for its disk use (its message, with
 * the trailing space the kubelet's has), or undefined. A volume with
 * `medium: Memory` is not on disk and counts against memory instead.
 */
export function storageEvictionMessage(pod: Pod, usage: StorageUsage): string | undefined {
  const volumes = pod.spec?.volumes ?? [];
  for (const v of volumes) {
    const size = parseQuantity(v.emptyDir?.sizeLimit);
    const used = usage.volumes.get(v.name);
    if (size !== undefined && size > 0 && used !== undefined && used > size) {
      return `Usage of EmptyDir volume ${JSON.stringify(v.name)} exceeds the limit ${JSON.stringify(String(v.emptyDir!.sizeLimit))}. `;
    }
  }
  const limit = podLimit(pod);
  if (limit) {
    const onDisk = volumes.filter((v) => v.emptyDir && v.emptyDir.medium !== 'Memory').map((v) => usage.volumes.get(v.name) ?? 0);
    const total = [...usage.containers.values(), ...onDisk].reduce((n, b) => n + b, 0);
    if (total > limit.bytes) return `Pod ephemeral local storage usage exceeds the total limit of containers ${limit.text}. `;
  }
  for (const c of pod.spec?.containers ?? []) {
    const l = limitOf(c);
    const used = usage.containers.get(c.name);
    if (l && used !== undefined && used > l.bytes) return `Container ${c.name} exceeded its local ephemeral storage limit ${JSON.stringify(l.text)}. `;
  }
  return undefined;
}
