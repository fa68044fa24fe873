/**
 * The resources a server serves beyond the built-in kinds (custom
 * resources), read from its aggregated discovery as kubectl reads it, so
 * that `kumo get`, `describe` and `delete` resolve their names, short names
 * and categories. The built-in kinds are known without asking.
 */
import { z } from 'zod';
import { TypeMetaSchema } from '../api/meta/v1/object-meta.js';
import type { ResourceType, Subresource } from '../api/registry.js';
import type { KubeClient } from '../client/client.js';
import { AGGREGATED_CONTENT_TYPE } from '../apiserver/discovery.js';
import { isBuiltin } from '../kinds/resources.js';

/** The parts of an apidiscovery.k8s.io/v2 APIGroupDiscoveryList read here. */
const DiscoverySchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string().optional() }),
      versions: z.array(
        z.object({
          version: z.string(),
          resources: z.array(
            z.object({
              resource: z.string(),
              responseKind: z.object({ kind: z.string() }).optional(),
              scope: z.string().optional(),
              singularResource: z.string().optional(),
              shortNames: z.array(z.string()).optional(),
              categories: z.array(z.string()).optional(),
              subresources: z.array(z.object({ subresource: z.string() })).optional(),
            }),
          ),
        }),
      ),
    }),
  ),
});

/**
 * The named groups' resources that are not built-in kinds, in discovery
 * order (a group's preferred version first, so a bare name resolves to it).
 * What the CLI does not use of a ResourceType (schema, garbage collection,
 * authorization) is given inert values.
 */
export async function discoverCustomResources(client: KubeClient): Promise<ResourceType[]> {
  const body = await client.call<unknown>({ method: 'GET', path: '/apis', accept: AGGREGATED_CONTENT_TYPE });
  const parsed = DiscoverySchema.safeParse(body);
  if (!parsed.success) return [];
  const out: ResourceType[] = [];
  for (const group of parsed.data.items) {
    for (const v of group.versions) {
      for (const r of v.resources) {
        const kind = r.responseKind?.kind ?? '';
        const t: ResourceType = {
          group: group.metadata.name ?? '',
          version: v.version,
          kind,
          listKind: `${kind}List`,
          resource: r.resource,
          singular: r.singularResource || kind.toLowerCase(),
          namespaced: r.scope === 'Namespaced',
          shortNames: r.shortNames ?? [],
          categories: r.categories ?? [],
          subresources: (r.subresources ?? []).map((s) => s.subresource as Subresource),
          schema: TypeMetaSchema,
          garbageCollection: { dependent: false, owner: false },
          authorization: { nodes: 'none' },
        };
        if (!isBuiltin(t)) out.push(t);
      }
    }
  }
  return out;
}
