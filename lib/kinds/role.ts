/**
 * Role (rbac.authorization.k8s.io/v1): namespaced rules, after kube's
 * pkg/registry/rbac/role (validation, and the policybased storage's
 * escalation check: lib/kinds/rbac/escalation.ts).
 */
import { RoleSchema } from '../api/rbac/v1/role.js';
import { roleKindOf } from './rbac/kinds.js';

export const roleKind = roleKindOf({ kind: 'Role', resource: 'roles', namespaced: true, schema: RoleSchema });
