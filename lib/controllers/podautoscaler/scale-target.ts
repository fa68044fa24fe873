/**
 * The scale subresource of whatever an HPA targets, as client-go's scale
 * client reaches it: the target's apiVersion and kind are mapped to a
 * resource through discovery (so Deployments, ReplicaSets, StatefulSets and
 * any custom resource whose CRD declares `subresources.scale` work alike),
 * then `<resource>/<name>/scale` is read and written as an autoscaling/v1
 * Scale.
 */
import { StatusError } from '../../api/errors.js';
import type { KubeClient } from '../../client/client.js';
import { type Clock, systemClock } from '../../util/clock.js';

export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** How long a group version's resource list is trusted (custom resources come and go). */
const DISCOVERY_TTL_MS = 30_000;

export class ScaleTargets {
  private readonly lists = new Map<string, { at: number; resources: ApiResource[] }>();

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The scale path of `kind` in `apiVersion`, or a NotFound error naming what is missing (as a RESTMapper's no match). */
  private async path(apiVersion: string, kind: string, namespace: string, name: string): Promise<string> {
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let cached = this.lists.get(apiVersion);
    if (!cached || this.clock.now() - cached.at > DISCOVERY_TTL_MS) {
      const list = await this.client.call<{ resources?: ApiResource[] }>({ method: 'GET', path: base });
      cached = { at: this.clock.now(), resources: list.resources ?? [] };
      this.lists.set(apiVersion, cached);
    }
    const resource = cached.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!resource) throw StatusError.notFound({ group: '', resource: kind }, name);
    if (!cached.resources.some((r) => r.name === `${resource.name}/scale`)) {
      throw StatusError.notFound({ group: apiVersion.split('/').slice(0, -1).join('/'), resource: `${resource.name}/scale` }, name);
    }
    return `${base}${resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${resource.name}/${encodeURIComponent(name)}/scale`;
  }

  async get(apiVersion: string, kind: string, namespace: string, name: string): Promise<Scale> {
    return this.client.call<Scale>({ method: 'GET', path: await this.path(apiVersion, kind, namespace, name) });
  }

  /** Writes the replicas, conditional on the Scale's resourceVersion (a conflict means the target changed since it was read). */
  async update(apiVersion: string, kind: string, scale: Scale, replicas: number): Promise<Scale> {
    const path = await this.path(apiVersion, kind, scale.metadata.namespace ?? '', scale.metadata.name ?? '');
    return this.client.call<Scale>({ method: 'PUT', path, body: { ...scale, spec: { ...(scale.spec ?? {}), replicas } } });
  }
}
