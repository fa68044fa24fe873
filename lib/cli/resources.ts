/**
 * Turning what users type into resources: `po`, `pods`, `deploy`,
 * `deployments.apps`, the `all` category, comma lists, and the
 * `TYPE NAME...` / `TYPE/NAME...` argument forms kubectl accepts; custom
 * resources by the server's discovery.
 */
import { apiVersionOf, ResourceRegistry, type ResourceType } from '../api/registry.js';
import type { KubeClient } from '../client/client.js';
import { resolveResourceName, resourceTypes } from '../kinds/resources.js';
import { discoverCustomResources } from './discovery.js';
import { CliError } from './errors.js';

/** One resource type and the names asked for; no names means every object (a list). */
export interface ResourceTarget {
  rt: ResourceType;
  names: string[];
}

/** `kind` or `kind.group`, lower-case: how kubectl names a resource in output (`pod/nginx`, `deployment.apps/web`). */
export function kindString(rt: ResourceType): string {
  return rt.group ? `${rt.kind.toLowerCase()}.${rt.group}` : rt.kind.toLowerCase();
}

/**
 * Resolves one type name, or a category (`all`), to resource types in
 * discovery order: the built-in kinds first, then `custom` (the server's
 * other resources, from discovery), so a built-in keeps a plural a custom
 * resource of another group shares, as kubectl resolves it.
 */
export function resolveTypes(input: string, custom: readonly ResourceType[] = []): ResourceType[] {
  const category = input.toLowerCase();
  const byCategory = [...resourceTypes, ...custom].filter((t) => t.categories.includes(category));
  const rt = resolveResourceName(input) ?? (custom.length > 0 ? new ResourceRegistry(custom).resolve(input) : undefined);
  if (byCategory.length > 0 && !rt) return byCategory;
  if (!rt) throw new CliError(`the server doesn't have a resource type "${input}"`);
  return [rt];
}

/** Resolves `TYPE[,TYPE...]` without duplicates. */
export function resolveTypeList(input: string, custom: readonly ResourceType[] = []): ResourceType[] {
  const out: ResourceType[] = [];
  for (const part of input.split(',')) {
    if (part === '') continue;
    for (const rt of resolveTypes(part, custom)) if (!out.includes(rt)) out.push(rt);
  }
  if (out.length === 0) throw new CliError(`the server doesn't have a resource type "${input}"`);
  return out;
}

/**
 * kubectl's ResourceTypeOrNameArgs: either `TYPE[,TYPE] [NAME...]` or only
 * `TYPE/NAME` arguments (mixing them is an error). Targets keep argument order.
 */
export function parseTypeOrNameArgs(args: readonly string[], custom: readonly ResourceType[] = []): ResourceTarget[] {
  if (args.length === 0) return [];
  if (args.some((a) => a.includes('/'))) {
    if (!args.every((a) => a.includes('/'))) {
      throw new CliError(
        "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kumo get resource/<resource_name>' instead of 'kumo get resource resource/<resource_name>'",
      );
    }
    return args.map((a) => {
      const i = a.indexOf('/');
      const type = a.slice(0, i);
      const name = a.slice(i + 1);
      if (!type || !name) throw new CliError(`arguments in resource/name form must have a single resource and name`);
      const [rt] = resolveTypes(type, custom);
      return { rt: rt!, names: [name] };
    });
  }
  const [types, ...names] = args;
  return resolveTypeList(types!, custom).map((rt) => ({ rt, names: [...names] }));
}

/** The type names the arguments of parseTypeOrNameArgs give. */
function typeNames(args: readonly string[]): string[] {
  if (args.some((a) => a.includes('/'))) return args.map((a) => a.slice(0, a.indexOf('/')));
  return (args[0] ?? '').split(',').filter((p) => p !== '');
}

/**
 * parseTypeOrNameArgs against what the server serves: when a type is not a
 * built-in kind, or is a category (custom resources may join `all`), the
 * server's discovery is read first; a server whose discovery cannot be read
 * leaves the built-in kinds.
 */
export async function resolveTargets(client: KubeClient, args: readonly string[]): Promise<ResourceTarget[]> {
  const needsDiscovery = typeNames(args).some((t) => !resolveResourceName(t) || resourceTypes.some((k) => k.categories.includes(t.toLowerCase())));
  const custom = needsDiscovery ? await discoverCustomResources(client).catch(() => []) : [];
  return parseTypeOrNameArgs(args, custom);
}

/** The resource a manifest's apiVersion and kind name, if kumo serves it. */
export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return resourceTypes.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}
