/**
 * The RBAC authorizer, after kube's plugin/pkg/auth/authorizer/rbac
 * (rbac.go) and pkg/registry/rbac/validation (rule.go, the
 * DefaultRuleResolver): a request is allowed when a rule of a role bound to
 * the user allows it; ClusterRoleBindings apply everywhere, RoleBindings in
 * their namespace. Subjects match by user name, by group, or as a
 * ServiceAccount (`system:serviceaccount:<ns>:<name>`; a RoleBinding's
 * ServiceAccount without a namespace is in the binding's). A binding to a
 * role that does not exist grants nothing, and says so in the reason
 * (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`). RBAC never
 * denies: it has no opinion, and the next authorizer (none) decides.
 *
 * Besides the stored bindings, `implicit` may bind a user to roles by what
 * its credential says (kumo tokens stored before RBAC: lib/auth/users.ts).
 */
import type { NonResourceAttributes, ResourceAttributes, SubjectRules, UserInfo } from '../../api/request.js';
import type { PolicyRule, Subject } from '../../api/rbac/v1/policy.js';
import { ruleAllows, type RuleRequest } from '../../kinds/rbac/rules.js';
import { RBAC_GROUP, type RbacBinding } from '../../kinds/rbac/validation.js';
import { ALLOW, type AuthorizerStep, type Decision, noOpinion } from '../decision.js';
import type { RbacCache, RbacSnapshot } from './cache.js';

/** A binding the credential implies: to a ClusterRole, in `namespace` or (unset) cluster-wide. */
export interface ImplicitBinding {
  clusterRole: string;
  namespace?: string;
}

/** `system:serviceaccount:<ns>:<name>` (serviceaccount.MatchesUsername). */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

function appliesTo(user: UserInfo, subjects: readonly Subject[] | null | undefined, namespace: string): boolean {
  return (subjects ?? []).some((s) => {
    switch (s.kind) {
      case 'User':
        return user.name === s.name;
      case 'Group':
        return user.groups.includes(s.name ?? '');
      case 'ServiceAccount': {
        const ns = s.namespace || namespace;
        return ns !== '' && user.name === serviceAccountUser(ns, s.name ?? '');
      }
      default:
        return false;
    }
  });
}

/** utilerrors.NewAggregate(...).Error(): one message as it is, several in brackets (each once). */
function aggregate(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

export class RbacAuthorizer implements AuthorizerStep {
  constructor(
    private readonly cache: RbacCache,
    private readonly implicit: (user: UserInfo) => readonly ImplicitBinding[] = () => [],
  ) {}

  /** GetRoleReferenceRules: the rules of the role a binding refers to, or the error a missing role gives. */
  private roleRules(s: RbacSnapshot, ref: RbacBinding['roleRef'], namespace: string): PolicyRule[] | string {
    if (ref?.kind === 'ClusterRole') {
      const role = s.clusterRoles.get(ref.name ?? '');
      return role ? (role.rules ?? []) : `clusterrole.${RBAC_GROUP} ${JSON.stringify(ref.name ?? '')} not found`;
    }
    if (ref?.kind === 'Role') {
      const role = s.roles.get(`${namespace}/${ref.name ?? ''}`);
      return role ? (role.rules ?? []) : `role.${RBAC_GROUP} ${JSON.stringify(ref.name ?? '')} not found`;
    }
    return `unsupported role reference kind: ${JSON.stringify(ref?.kind ?? '')}`;
  }

  /**
   * VisitRulesFor: every rule granted to `user` in `namespace` ('' for the
   * cluster scope only), until `visit` returns true; returns the resolution
   * errors met on the way.
   */
  private async visitRules(user: UserInfo, namespace: string, visit: (rule: PolicyRule) => boolean): Promise<{ stopped: boolean; errors: string[] }> {
    const s = await this.cache.snapshot();
    const errors: string[] = [];
    const each = (rules: PolicyRule[] | string): boolean => {
      if (typeof rules === 'string') {
        errors.push(rules);
        return false;
      }
      return rules.some(visit);
    };
    const implied = this.implicit(user);
    for (const b of s.clusterRoleBindings) {
      if (appliesTo(user, b.subjects, '') && each(this.roleRules(s, b.roleRef, ''))) return { stopped: true, errors };
    }
    for (const b of implied) {
      if (b.namespace === undefined && each(this.roleRules(s, { kind: 'ClusterRole', name: b.clusterRole }, ''))) return { stopped: true, errors };
    }
    if (namespace !== '') {
      for (const b of s.roleBindings.get(namespace) ?? []) {
        if (appliesTo(user, b.subjects, namespace) && each(this.roleRules(s, b.roleRef, namespace))) return { stopped: true, errors };
      }
      for (const b of implied) {
        if (b.namespace === namespace && each(this.roleRules(s, { kind: 'ClusterRole', name: b.clusterRole }, namespace))) return { stopped: true, errors };
      }
    }
    return { stopped: false, errors };
  }

  private async decide(user: UserInfo, namespace: string, req: RuleRequest): Promise<Decision> {
    const { stopped, errors } = await this.visitRules(user, namespace, (rule) => ruleAllows(rule, req));
    if (stopped) return ALLOW;
    return noOpinion(errors.length > 0 ? `RBAC: ${aggregate(errors)}` : '');
  }

  authorize(user: UserInfo, a: ResourceAttributes): Promise<Decision> {
    return this.decide(user, a.namespace ?? '', {
      verb: a.verb,
      apiGroup: a.apiGroup,
      resource: a.resource,
      ...(a.subresource ? { subresource: a.subresource } : {}),
      ...(a.name ? { name: a.name } : {}),
    });
  }

  authorizeNonResource(user: UserInfo, a: NonResourceAttributes): Promise<Decision> {
    return this.decide(user, '', { verb: a.verb, path: a.path });
  }

  /** RulesFor: every rule the user holds in `namespace`, split as SelfSubjectRulesReview reports them. */
  async rulesFor(user: UserInfo, namespace: string): Promise<SubjectRules> {
    const rules: PolicyRule[] = [];
    const { errors } = await this.visitRules(user, namespace, (rule) => {
      rules.push(rule);
      return false;
    });
    const out: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
    for (const r of rules) {
      if ((r.resources ?? []).length > 0) {
        out.resourceRules.push({
          verbs: [...(r.verbs ?? [])],
          apiGroups: [...(r.apiGroups ?? [])],
          resources: [...(r.resources ?? [])],
          ...((r.resourceNames ?? []).length > 0 ? { resourceNames: [...r.resourceNames!] } : {}),
        });
      }
      if ((r.nonResourceURLs ?? []).length > 0) out.nonResourceRules.push({ verbs: [...(r.verbs ?? [])], nonResourceURLs: [...r.nonResourceURLs!] });
    }
    if (errors.length > 0) out.evaluationError = aggregate(errors);
    return out;
  }
}
