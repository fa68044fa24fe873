/**
 * Privilege escalation prevention, as kube's RBAC registry does it
 * (pkg/registry/rbac/escalation_check.go, pkg/registry/rbac/validation
 * ConfirmNoEscalation, the policybased storages of roles and bindings): a
 * user may write a Role or ClusterRole only with rules they hold themselves,
 * unless they may `escalate` roles; and a binding only to a role whose rules
 * they hold, unless they may `bind` that role. system:masters (and the
 * server's own writes, which carry no user) are never checked. Refusals are
 * 403 with kube's messages.
 */
import { StatusError } from '../../api/errors.js';
import type { KObject } from '../../api/object.js';
import type { PolicyRule, RoleRef } from '../../api/rbac/v1/policy.js';
import type { AdmitContext } from '../strategy.js';
import { compactRules, compactString, covers } from './rules.js';
import { onlyGarbageCollectionFields, RBAC_GROUP, type RbacBinding, type RbacRole } from './validation.js';

/** user.SystemPrivilegedGroup: the API server's own loopback identity; may do anything. */
const MASTERS = 'system:masters';

/** A write that escalation prevention checks, with its user and authorizer (undefined when nothing is to be checked). */
function checked(ctx: AdmitContext, obj: KObject, old: KObject | undefined) {
  const { user, authorizer } = ctx;
  if (!user || !authorizer || user.groups.includes(MASTERS)) return undefined;
  if (old && onlyGarbageCollectionFields(obj, old)) return undefined;
  return { user, authorizer };
}

/**
 * ConfirmNoEscalation: undefined when the user's own rules in `namespace`
 * ('' for cluster-wide) cover `rules`, else kube's message listing what
 * they lack.
 */
async function escalation(ctx: AdmitContext, namespace: string, rules: readonly PolicyRule[]): Promise<string | undefined> {
  const { user, authorizer } = ctx;
  const owned = (await authorizer!.rulesFor?.(user!, namespace)) ?? { resourceRules: [], nonResourceRules: [], incomplete: true };
  const ownerRules: PolicyRule[] = [...owned.resourceRules, ...owned.nonResourceRules];
  const { covered, missing } = covers(ownerRules, rules);
  if (covered) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  const groups = `[${user!.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  let msg = `user ${JSON.stringify(user!.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (owned.evaluationError) msg += `; resolution errors: ${owned.evaluationError}`;
  return msg;
}

function forbidden(resource: string, name: string, why: string): StatusError {
  return StatusError.forbiddenObject({ group: RBAC_GROUP, resource }, name, why);
}

/** Roles and ClusterRoles: the rules written must be the writer's own, or the writer may `escalate`. */
export async function admitRoleWrite(resource: 'roles' | 'clusterroles', obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  const who = checked(ctx, obj, old);
  if (!who) return;
  const namespace = resource === 'roles' ? (obj.metadata.namespace ?? '') : '';
  const name = obj.metadata.name ?? '';
  // RoleEscalationAuthorized: the request's own name (none on a create).
  const escalate = await who.authorizer.authorize(who.user, {
    verb: 'escalate',
    apiGroup: RBAC_GROUP,
    resource,
    ...(namespace ? { namespace } : {}),
    ...(old ? { name } : {}),
  });
  if (escalate === undefined) return;
  const why = await escalation(ctx, namespace, (obj as RbacRole).rules ?? []);
  if (why) throw forbidden(resource, name, why);
}

/** The rules a roleRef grants in `namespace` (GetRoleReferenceRules), read from the store. */
async function referencedRules(ref: RoleRef, namespace: string, ctx: AdmitContext): Promise<PolicyRule[] | string> {
  const resource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
  const all = (await ctx.list({ group: RBAC_GROUP, resource })) as RbacRole[];
  const role = all.find((r) => r.metadata.name === ref.name && (resource === 'clusterroles' || r.metadata.namespace === namespace));
  return role ? (role.rules ?? []) : `${resource}.${RBAC_GROUP} ${JSON.stringify(ref.name ?? '')} not found`;
}

/** RoleBindings and ClusterRoleBindings: the role bound must hold only the writer's rules, or the writer may `bind` it. */
export async function admitBindingWrite(
  resource: 'rolebindings' | 'clusterrolebindings',
  obj: KObject,
  old: KObject | undefined,
  ctx: AdmitContext,
): Promise<void> {
  const who = checked(ctx, obj, old);
  if (!who) return;
  const ref = (obj as RbacBinding).roleRef ?? {};
  // Validation refuses any other kind; there is nothing to check here.
  if (ref.kind !== 'Role' && ref.kind !== 'ClusterRole') return;
  const namespace = resource === 'rolebindings' ? (obj.metadata.namespace ?? '') : '';
  const name = obj.metadata.name ?? '';
  // BindingAuthorized: `bind` on the role, in the binding's namespace.
  const bind = await who.authorizer.authorize(who.user, {
    verb: 'bind',
    apiGroup: ref.apiGroup ?? RBAC_GROUP,
    resource: ref.kind === 'Role' ? 'roles' : 'clusterroles',
    name: ref.name ?? '',
    ...(namespace ? { namespace } : {}),
  });
  if (bind === undefined) return;
  const rules = await referencedRules(ref, namespace, ctx);
  if (typeof rules === 'string') throw forbidden(resource, name, rules);
  const why = await escalation(ctx, namespace, rules);
  if (why) throw forbidden(resource, name, why);
}
