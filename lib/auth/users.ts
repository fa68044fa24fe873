/**
 * Who a token makes its holder, in Kubernetes' terms (user name and groups),
 * and back: what the authorizer reads from a user. The authorizer decides on
 * groups and extras, never on user names, so a name can be anything readable.
 */
import type { UserInfo } from '../api/request.js';
import type { Grant } from './tokens.js';

export const GROUPS = {
  masters: 'system:masters',
  authenticated: 'system:authenticated',
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

export function userOf(id: string, grant: Grant): UserInfo {
  const extra: Record<string, string> = { [EXTRA.tokenId]: id };
  switch (grant.role) {
    case 'admin':
      if (grant.namespace)
        return { name: `kumo:token:${id}`, groups: [GROUPS.admins, GROUPS.authenticated], extra: { ...extra, [EXTRA.namespace]: grant.namespace } };
      return { name: `kumo:token:${id}`, groups: [GROUPS.masters, GROUPS.authenticated], extra };
    case 'view':
      return {
        name: `kumo:token:${id}`,
        groups: [GROUPS.viewers, GROUPS.authenticated],
        extra: { ...extra, ...(grant.namespace ? { [EXTRA.namespace]: grant.namespace } : {}) },
      };
    case 'node':
      return { name: `system:node:${grant.node}`, groups: [GROUPS.nodes, GROUPS.authenticated], extra: { ...extra, [EXTRA.node]: grant.node! } };
    case 'node-bootstrap':
      return { name: `system:bootstrap:${id}`, groups: [GROUPS.bootstrappers, GROUPS.authenticated], extra };
  }
}

/** What the authorizer needs to know about a caller. */
export type Principal =
  | { kind: 'cluster-admin' }
  | { kind: 'admin'; namespace: string }
  | { kind: 'view'; namespace?: string }
  | { kind: 'node'; node: string }
  | { kind: 'bootstrap' }
  | { kind: 'none' };

export function principalOf(user: UserInfo): Principal {
  const g = new Set(user.groups);
  const ns = user.extra?.[EXTRA.namespace];
  if (g.has(GROUPS.masters)) return { kind: 'cluster-admin' };
  if (g.has(GROUPS.admins) && ns) return { kind: 'admin', namespace: ns };
  if (g.has(GROUPS.viewers)) return ns ? { kind: 'view', namespace: ns } : { kind: 'view' };
  const node = user.extra?.[EXTRA.node];
  if (g.has(GROUPS.nodes) && node) return { kind: 'node', node };
  if (g.has(GROUPS.bootstrappers)) return { kind: 'bootstrap' };
  return { kind: 'none' };
}
