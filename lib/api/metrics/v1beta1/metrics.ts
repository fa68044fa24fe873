/**
 * metrics.k8s.io/v1beta1 (k8s.io/metrics pkg/apis/metrics/v1beta1): the
 * resource metrics `kubectl top` and the HorizontalPodAutoscaler read, and
 * the record a node reports them in.
 *
 * kumo has no metrics-server to scrape kubelets (the API function of the
 * cloud cannot reach the nodes): each node measures its pods and itself and
 * writes one usage record into an annotation of its own Lease in
 * kube-node-lease, at the lease's next renewal, so reporting costs no write
 * of its own. The API server serves NodeMetrics and PodMetrics from those
 * records (lib/apiserver/metrics-api.ts). The annotation is written by the
 * node and read as untrusted input: `parseNodeUsage` returns undefined for
 * anything that is not a well-formed record.
 */
import { z } from 'zod';
import { parseQuantity } from '../../quantity.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

/** The Lease annotation holding a node's last usage record (JSON of NodeUsage). */
export const RESOURCE_USAGE_ANNOTATION = 'metrics.kumo.io/resource-usage';

/** What one container uses: `cpu` a rate in cores over the window, `memory` its working set (quantities). */
export const ContainerUsageSchema = z.object({ name: z.string().max(253), cpu: z.string().max(32), memory: z.string().max(32) });
export type ContainerUsage = z.infer<typeof ContainerUsageSchema>;

export const PodUsageSchema = z.object({
  namespace: z.string().max(253),
  name: z.string().max(253),
  containers: z.array(ContainerUsageSchema).max(100),
});
export type PodUsage = z.infer<typeof PodUsageSchema>;

/**
 * One node's measurement: the node's own usage and its pods', over the
 * `window` (seconds) that ends at `timestamp` (RFC 3339), as metrics-server
 * reports a kubelet's summary.
 */
export const NodeUsageSchema = z.object({
  timestamp: z.string().max(40),
  windowSeconds: z.number().positive().max(86_400),
  cpu: z.string().max(32),
  memory: z.string().max(32),
  pods: z.array(PodUsageSchema).max(5000),
});
export type NodeUsage = z.infer<typeof NodeUsageSchema>;

/** A node's usage record from its Lease's annotation; undefined when missing or malformed (it is the node's word, not ours). */
export function parseNodeUsage(text: string | null | undefined): NodeUsage | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = NodeUsageSchema.safeParse(value);
  if (!parsed.success || Number.isNaN(Date.parse(parsed.data.timestamp))) return undefined;
  const quantities = [parsed.data.cpu, parsed.data.memory, ...parsed.data.pods.flatMap((p) => p.containers.flatMap((c) => [c.cpu, c.memory]))];
  return quantities.every((q) => (parseQuantity(q) ?? -1) >= 0) ? parsed.data : undefined;
}

/** CPU cores as metrics-server writes them: whole nanocores. */
export function formatNanoCores(cores: number): string {
  return `${Math.max(0, Math.round(cores * 1e9))}n`;
}

/** Bytes as metrics-server writes them: whole KiB. */
export function formatKibibytes(bytes: number): string {
  return `${Math.max(0, Math.round(bytes / 1024))}Ki`;
}

/** metrics.k8s.io's resource list: `cpu` and `memory` quantities. */
export interface ResourceUsage {
  cpu: string;
  memory: string;
}

export interface ContainerMetrics {
  name: string;
  usage: ResourceUsage;
}

export interface NodeMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'NodeMetrics';
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: ResourceUsage;
}

export interface PodMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'PodMetrics';
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: ContainerMetrics[];
}
