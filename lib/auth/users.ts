/**
 * Who a token makes its holder, in Kubernetes' terms (user name and groups),
 * and back: what the authorizer reads from a user. Nodes and the bootstrap
 * token are recognised by group and extra; everyone else is authorized by
 * RBAC, by name and groups.
 *
 * `kumo token create --role` tokens are bound: an RBAC binding named after
 * the token grants their role. Tokens stored before RBAC (grants `admin -n
 * NS` and `view [-n NS]`, not bound) keep
 * working as implicit bindings: their users carry the kumo:admins or
 * kumo:viewers group and their namespace, which `implicitBindings` turns
 * into a binding to the `admin` or `view` ClusterRole there (cluster-wide
 * for a view token without a namespace). A cluster-wide admin grant is
 * system:masters, as before.
 */
import type { UserInfo } from '../api/request.js';
import type { ImplicitBinding } from './rbac/authorizer.js';
import type { Grant } from './tokens.js';

export const GROUPS = {
  masters: 'system:masters',
  authenticated: 'system:authenticated',
  /** kube's group for readers of /metrics (bound to system:monitoring): cluster-wide view tokens are in it. */
  monitoring: 'system:monitoring',
  admins: 'kumo:admins',
  viewers: 'kumo:viewers',
  nodes: 'system:nodes',
  bootstrappers: 'system:bootstrappers',
} as const;

/** UserInfo.extra keys. */
export const EXTRA = {
  tokenId: 'kumo.dev/token-id',
  namespace: 'kumo.dev/namespace',
  node: 'kumo.dev/node',
} as const;

/** The user name of a kumo token that names none. */
export function tokenUserName(id: string): string {
  return `kumo:token:${id}`;
}

export function userOf(id: string, grant: Grant): UserInfo {
  const extra: Record<string, string> = { [EXTRA.tokenId]: id };
  const name = tokenUserName(id);
  if (grant.bound) {
    // Its binding (kumo-token-<id>) grants the role; a cluster-wide viewer also reads /metrics, as before RBAC.
    const monitoring = grant.role === 'view' && !grant.namespace ? [GROUPS.monitoring] : [];
    return { name, groups: [...monitoring, GROUPS.authenticated], extra };
  }
  switch (grant.role) {
    case 'admin':
      if (grant.namespace) return { name, groups: [GROUPS.admins, GROUPS.authenticated], extra: { ...extra, [EXTRA.namespace]: grant.namespace } };
      return { name, groups: [GROUPS.masters, GROUPS.authenticated], extra };
    case 'view':
      if (grant.namespace) return { name, groups: [GROUPS.viewers, GROUPS.authenticated], extra: { ...extra, [EXTRA.namespace]: grant.namespace } };
      return { name, groups: [GROUPS.viewers, GROUPS.monitoring, GROUPS.authenticated], extra };
    case 'user':
      return { name: grant.user ?? name, groups: [...new Set([...(grant.groups ?? []), GROUPS.authenticated])], extra };
    case 'node':
      return { name: `system:node:${grant.node}`, groups: [GROUPS.nodes, GROUPS.authenticated], extra: { ...extra, [EXTRA.node]: grant.node! } };
    case 'node-bootstrap':
      return { name: `system:bootstrap:${id}`, groups: [GROUPS.bootstrappers, GROUPS.authenticated], extra };
  }
}

/** The bindings a pre-RBAC token's grant stands for (see above). */
export function implicitBindings(user: UserInfo): ImplicitBinding[] {
  const ns = user.extra?.[EXTRA.namespace];
  if (user.groups.includes(GROUPS.admins) && ns) return [{ clusterRole: 'admin', namespace: ns }];
  if (user.groups.includes(GROUPS.viewers)) return [ns ? { clusterRole: 'view', namespace: ns } : { clusterRole: 'view' }];
  return [];
}

/** What the Node and bootstrap steps need to know about a caller. */
export type Principal = { kind: 'node'; node: string } | { kind: 'bootstrap' } | { kind: 'other' };

export function principalOf(user: UserInfo): Principal {
  const node = user.extra?.[EXTRA.node];
  if (user.groups.includes(GROUPS.nodes) && node) return { kind: 'node', node };
  if (user.groups.includes(GROUPS.bootstrappers)) return { kind: 'bootstrap' };
  return { kind: 'other' };
}
