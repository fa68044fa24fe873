/**
 * metrics.k8s.io/v1beta1, served from what is stored rather than by an
 * aggregated metrics-server: NodeMetrics and PodMetrics built from the usage
 * record each node writes on its Lease (lib/api/metrics/v1beta1/metrics.ts).
 * Read-only, as metrics-server: get and list (label and field selectors),
 * no watch. A pod's usage is taken only from the record of the node it is
 * bound to, so a node cannot report usage for pods it does not run; a
 * record older than STALE_AFTER is no longer served (a node gone quiet has
 * no current usage), as metrics-server drops a node it cannot scrape.
 */
import type { Lease } from '../api/coordination/v1/lease.js';
import { NODE_LEASE_NAMESPACE } from '../api/coordination/v1/lease.js';
import type { Pod } from '../api/core/v1/pod.js';
import { isNotFound, StatusError } from '../api/errors.js';
import {
  METRICS_GROUP,
  METRICS_VERSION,
  type NodeMetrics,
  type NodeUsage,
  type PodMetrics,
  type PodUsage,
  parseNodeUsage,
  RESOURCE_USAGE_ANNOTATION,
} from '../api/metrics/v1beta1/metrics.js';
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import { LEASES, NODES, PODS } from '../kinds/resources.js';
import { rfc3339 } from '../util/clock.js';
import type { RestStorage } from './rest.js';
import { z } from 'zod';

/** A usage record this much older than its own window is stale: two missed reports, and at least two minutes. */
const STALE_AFTER_WINDOWS = 3;
const STALE_AFTER_MIN_MS = 120_000;

const VERBS = ['get', 'list'];

/** The two resources, as discovery and the authorizer see them (not kinds of the registry: they are not stored). */
export const METRICS_RESOURCES: readonly ResourceType[] = [metricsResource('NodeMetrics', 'nodes', false), metricsResource('PodMetrics', 'pods', true)];

function metricsResource(kind: string, resource: string, namespaced: boolean): ResourceType {
  return {
    group: METRICS_GROUP,
    version: METRICS_VERSION,
    kind,
    listKind: `${kind}List`,
    resource,
    singular: '',
    namespaced,
    shortNames: [],
    categories: [],
    subresources: [],
    schema: z.unknown(),
    garbageCollection: { dependent: false, owner: false },
    authorization: { nodes: 'read' },
  };
}

export interface MetricsRoute {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  verb: 'get' | 'list';
}

/** The metrics.k8s.io request a path addresses: 'group' and 'resources' for discovery, undefined for another group. */
export function metricsRoute(method: string, path: string, query: URLSearchParams): MetricsRoute | 'group' | 'resources' | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'apis' || parts[1] !== METRICS_GROUP) return undefined;
  return routeIn(method, parts, query);
}

/** A segment percent-decoded; a malformed escape is a 400, as Go's url package refuses it. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw StatusError.badRequest(`invalid URL escape in ${JSON.stringify(segment)}`);
  }
}

function routeIn(method: string, parts: string[], query: URLSearchParams): MetricsRoute | 'group' | 'resources' {
  if (parts.length === 2) return 'group';
  if (parts[2] !== METRICS_VERSION) throw StatusError.pathNotFound();
  if (parts.length === 3) return 'resources';
  let rest = parts.slice(3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decoded(rest[1]!);
    rest = rest.slice(2);
  }
  const [resource, name, ...extra] = rest;
  const rt = METRICS_RESOURCES.find((r) => r.resource === resource);
  if (!rt || extra.length > 0 || (namespace !== undefined && !rt.namespaced) || (rt.namespaced && name !== undefined && namespace === undefined)) {
    throw StatusError.pathNotFound();
  }
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  if ((method !== 'GET' && method !== 'HEAD') || watch) throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
  return {
    resource: rt,
    verb: name === undefined ? 'list' : 'get',
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name: decoded(name) } : {}),
  };
}

export function metricsGroupDocument() {
  const gv = { groupVersion: `${METRICS_GROUP}/${METRICS_VERSION}`, version: METRICS_VERSION };
  return { kind: 'APIGroup', apiVersion: 'v1', name: METRICS_GROUP, versions: [gv], preferredVersion: gv };
}

export function metricsResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${METRICS_GROUP}/${METRICS_VERSION}`,
    resources: METRICS_RESOURCES.map((r) => ({ name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: VERBS })),
  };
}

/** Go's time.Duration text for whole seconds (metav1.Duration): `10s`, `1m0s`, `1h0m0s`. */
export function goDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** Reads the stored objects metrics are built from, and builds them at `now`. */
export class MetricsApi {
  constructor(
    private readonly rest: RestStorage,
    private readonly now: () => number,
  ) {}

  private async find(rt: ResourceType, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    try {
      return await this.rest.get(rt, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The current usage record of every node that has one. */
  private async usageByNode(): Promise<Map<string, NodeUsage>> {
    const leases = (await this.rest.list(LEASES, NODE_LEASE_NAMESPACE)).items as (Lease & KObject)[];
    const out = new Map<string, NodeUsage>();
    const now = this.now();
    for (const lease of leases) {
      const usage = parseNodeUsage(lease.metadata.annotations?.[RESOURCE_USAGE_ANNOTATION]);
      if (!usage) continue;
      const age = now - Date.parse(usage.timestamp);
      if (age > Math.max(STALE_AFTER_MIN_MS, STALE_AFTER_WINDOWS * usage.windowSeconds * 1000)) continue;
      out.set(lease.metadata.name ?? '', usage);
    }
    return out;
  }

  async serve(r: MetricsRoute, q: URLSearchParams): Promise<unknown> {
    const selectors = { labelSelector: q.get('labelSelector') ?? '', fieldSelector: q.get('fieldSelector') ?? '' };
    const usage = await this.usageByNode();
    const created = rfc3339(this.now());
    if (r.resource.resource === 'nodes') {
      const nodes = r.name !== undefined ? [await this.find(NODES, undefined, r.name)] : (await this.rest.list(NODES, undefined, selectors)).items;
      const items: NodeMetrics[] = [];
      for (const node of nodes) {
        const u = node && usage.get(node.metadata.name ?? '');
        if (node && u) items.push(nodeMetrics(node, u, created));
      }
      return r.name !== undefined ? (items[0] ?? notFound(r.resource, r.name)) : list('NodeMetricsList', items);
    }
    const pods = r.name !== undefined ? [await this.find(PODS, r.namespace, r.name)] : (await this.rest.list(PODS, r.namespace, selectors)).items;
    const items: PodMetrics[] = [];
    for (const pod of pods as ((Pod & KObject) | undefined)[]) {
      const node = pod?.spec?.nodeName;
      const u = pod && node ? usage.get(node)?.pods.find((p) => p.namespace === pod.metadata.namespace && p.name === pod.metadata.name) : undefined;
      if (pod && u) items.push(podMetrics(pod, u, usage.get(node!)!, created));
    }
    return r.name !== undefined ? (items[0] ?? notFound(r.resource, r.name)) : list('PodMetricsList', items);
  }
}

function notFound(rt: ResourceType, name: string): never {
  throw StatusError.notFound({ group: rt.group, resource: rt.resource }, name);
}

function list(kind: string, items: unknown[]) {
  return { kind, apiVersion: `${METRICS_GROUP}/${METRICS_VERSION}`, metadata: {}, items };
}

function nodeMetrics(node: KObject, u: NodeUsage, created: string): NodeMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: { name: node.metadata.name ?? '', creationTimestamp: created, ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: u.timestamp,
    window: goDuration(u.windowSeconds),
    usage: { cpu: u.cpu, memory: u.memory },
  };
}

function podMetrics(pod: KObject, p: PodUsage, u: NodeUsage, created: string): PodMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: {
      name: pod.metadata.name ?? '',
      namespace: pod.metadata.namespace ?? '',
      creationTimestamp: created,
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: u.timestamp,
    window: goDuration(u.windowSeconds),
    containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: c.cpu, memory: c.memory } })),
  };
}
