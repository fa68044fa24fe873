/**
 * Maps Kubernetes REST paths to what they address. Pure: no I/O.
 */
import type { ResourceRegistry, ResourceType } from '../api/registry.js';
import { StatusError } from '../api/errors.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRoute {
  type: 'resource';
  group: string;
  version: string;
  resourceType: ResourceType;
  /** Namespace from the path; undefined for cluster-scoped paths and all-namespace lists. */
  namespace?: string;
  name?: string;
  subresource?: string;
  verb: Verb;
}

export type Route =
  | ResourceRoute
  | { type: 'core-versions' }
  | { type: 'group-list' }
  | { type: 'group'; group: string }
  | { type: 'resource-list'; group: string; version: string }
  | { type: 'version' }
  | { type: 'health'; check: string }
  | { type: 'openapi'; rest: string[] }
  | { type: 'metrics' }
  /** ServiceAccount issuer discovery: `/.well-known/openid-configuration` and `/openid/v1/jwks`. */
  | { type: 'oidc'; document: 'configuration' | 'jwks' }
  | { type: 'not-found' };

function isWatch(query: URLSearchParams): boolean {
  const w = query.get('watch');
  return w === 'true' || w === '1';
}

function verbFor(method: string, hasName: boolean, query: URLSearchParams, subresource: string | undefined): Verb {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (!hasName) return isWatch(query) ? 'watch' : 'list';
      return 'get';
    case 'POST':
      if (hasName && !subresource) throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
      return 'create';
    case 'PUT':
      if (!hasName) throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
      return 'update';
    case 'PATCH':
      if (!hasName) throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      throw StatusError.methodNotAllowed(`the server does not allow the method ${method}`);
  }
}

/**
 * One path segment, percent-decoded as Go's url package decodes it: a
 * malformed escape is a 400 (Go's `invalid URL escape "%zz"`); escapes of
 * bytes that are not UTF-8 decode to replacement characters, which name
 * nothing, so the request finds nothing rather than failing.
 */
function decodeSegment(segment: string): string {
  const bad = /%(?![0-9a-fA-F]{2})/.exec(segment);
  if (bad) throw StatusError.badRequest(`invalid URL escape ${JSON.stringify(segment.slice(bad.index, bad.index + 3))}`);
  try {
    return decodeURIComponent(segment);
  } catch {
    return Buffer.from(
      segment.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
}

/** What a request addresses, among the kinds `kinds` holds now. */
export function route(method: string, path: string, query: URLSearchParams, kinds: ResourceRegistry): Route {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeSegment);
  if (parts.length === 0) return { type: 'not-found' };
  const [head] = parts;
  if (head === 'version' && parts.length === 1) return { type: 'version' };
  if ((head === 'healthz' || head === 'livez' || head === 'readyz') && parts.length <= 2) return { type: 'health', check: head };
  if (head === 'openapi') return { type: 'openapi', rest: parts.slice(1) };
  if (head === 'metrics' && parts.length === 1) return { type: 'metrics' };
  if (head === '.well-known' && parts.length === 2 && parts[1] === 'openid-configuration') return { type: 'oidc', document: 'configuration' };
  if (head === 'openid' && parts.length === 3 && parts[1] === 'v1' && parts[2] === 'jwks') return { type: 'oidc', document: 'jwks' };

  let group: string;
  let version: string;
  let rest: string[];
  if (head === 'api') {
    if (parts.length === 1) return { type: 'core-versions' };
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (head === 'apis') {
    if (parts.length === 1) return { type: 'group-list' };
    if (parts.length === 2) return { type: 'group', group: parts[1]! };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { type: 'not-found' };
  }
  if (rest.length === 0) return { type: 'resource-list', group, version };

  let namespace: string | undefined;
  // namespaces/{ns}/{resource}/... addresses a namespaced resource; namespaces/{name}[/status|/finalize] the namespace itself.
  if (group === '' && rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1]!;
    rest = rest.slice(2);
  } else if (group !== '' && rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource || extra.length > 0) return { type: 'not-found' };
  const resourceType = kinds.lookupResource(group, version, resource);
  if (!resourceType) return { type: 'not-found' };
  if (namespace !== undefined && !resourceType.namespaced) return { type: 'not-found' };
  if (resourceType.namespaced && namespace === undefined && name !== undefined) return { type: 'not-found' };
  if (
    subresource !== undefined &&
    !(resourceType.subresources as readonly string[]).includes(subresource) &&
    !(resource === 'namespaces' && subresource === 'finalize')
  ) {
    return { type: 'not-found' };
  }
  return {
    type: 'resource',
    group,
    version,
    resourceType,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    verb: verbFor(method, name !== undefined, query, subresource),
  };
}
