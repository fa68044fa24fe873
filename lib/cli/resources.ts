/**
 * Turning what users type into resources: `po`, `pods`, `deploy`,
 * `deployments.apps`, the `all` category, comma lists, and the
 * `TYPE NAME...` / `TYPE/NAME...` argument forms kubectl accepts.
 */
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { resolveResourceName, resourceTypes } from '../kinds/resources.js';
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

/** Resolves one type name, or a category (`all`), to resource types in discovery order. */
export function resolveTypes(input: string): ResourceType[] {
  const byCategory = resourceTypes.filter((t) => t.categories.includes(input.toLowerCase()));
  if (byCategory.length > 0 && !resolveResourceName(input)) return [...byCategory];
  const rt = resolveResourceName(input);
  if (!rt) throw new CliError(`the server doesn't have a resource type "${input}"`);
  return [rt];
}

/** Resolves `TYPE[,TYPE...]` without duplicates. */
export function resolveTypeList(input: string): ResourceType[] {
  const out: ResourceType[] = [];
  for (const part of input.split(',')) {
    if (part === '') continue;
    for (const rt of resolveTypes(part)) if (!out.includes(rt)) out.push(rt);
  }
  if (out.length === 0) throw new CliError(`the server doesn't have a resource type "${input}"`);
  return out;
}

/**
 * kubectl's ResourceTypeOrNameArgs: either `TYPE[,TYPE] [NAME...]` or only
 * `TYPE/NAME` arguments (mixing them is an error). Targets keep argument order.
 */
export function parseTypeOrNameArgs(args: readonly string[]): ResourceTarget[] {
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
      const rt = resolveResourceName(type);
      if (!rt) throw new CliError(`the server doesn't have a resource type "${type}"`);
      return { rt, names: [name] };
    });
  }
  const [types, ...names] = args;
  return resolveTypeList(types!).map((rt) => ({ rt, names: [...names] }));
}

/** The resource a manifest's apiVersion and kind name, if kumo serves it. */
export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return resourceTypes.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}
