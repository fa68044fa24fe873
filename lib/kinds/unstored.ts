/**
 * The pieces every unstored kind shares (kube's review APIs: a rest.Creater
 * with no storage behind it). Nothing is kept, so there is nothing to print,
 * describe, collect or bootstrap: NAME and AGE, kubectl's generic describer,
 * no garbage collection; no node agent and no viewer creates one by the
 * kind's scope (the authorizer grants the self reviews to everyone).
 */
import type { UserInfo } from '../api/request.js';
import { defineKind, type Answer, type Kind, type KindDeclaration } from './kind.js';

/** What an unstored kind declares: its identity, schema and create. */
export type UnstoredDeclaration = Pick<KindDeclaration, 'group' | 'version' | 'kind' | 'resource' | 'namespaced' | 'schema'> & { answer: Answer };

export function defineUnstoredKind(d: UnstoredDeclaration): Kind {
  return defineKind({
    ...d,
    shortNames: [],
    categories: [],
    subresources: [],
    garbageCollection: { dependent: false, owner: false },
    authorization: { nodes: 'none' },
    strategy: {},
    printer: 'default',
    describer: 'generic',
  });
}

/**
 * A user as authentication.k8s.io/v1 UserInfo shows it: extras are lists
 * (kumo keeps one string per key, several values joined by commas, as the
 * impersonation filter joins them), empty fields left out as Go omits them.
 */
export function reviewedUser(user: UserInfo): { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } {
  const extra = Object.entries(user.extra ?? {});
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
    ...(extra.length > 0 ? { extra: Object.fromEntries(extra.map(([k, v]) => [k, v.split(',')])) } : {}),
  };
}
