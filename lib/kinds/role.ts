/**
 * Role (rbac.authorization.k8s.io/v1): namespaced rules, after kube's
 * pkg/registry/rbac/role (validation, and the policybased storage's
 * escalation check: lib/kinds/rbac/escalation.ts).
 */
import { RoleSchema } from '../api/rbac/v1/role.js';
import { defineKind } from './kind.js';
import { admitRoleWrite } from './rbac/escalation.js';
import { roleDescriber, rolePrinter } from './rbac/print.js';
import { rbacNameRule, RBAC_GROUP, validateRole } from './rbac/validation.js';

export const roleKind = defineKind({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'Role',
  resource: 'roles',
  namespaced: true,
  schema: RoleSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none', viewers: 'none' },
  strategy: {
    noGeneration: true,
    nameRule: rbacNameRule,
    validate: (obj) => validateRole(obj, true),
    admit: (obj, old, ctx) => admitRoleWrite('roles', obj, old, ctx),
  },
  printer: rolePrinter,
  describer: roleDescriber,
});
