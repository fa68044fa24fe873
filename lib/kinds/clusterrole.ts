/**
 * ClusterRole (rbac.authorization.k8s.io/v1): cluster-scoped rules, and
 * aggregation (an aggregationRule's selectors pick the ClusterRoles whose
 * rules the clusterrole-aggregation controller copies in), after kube's
 * pkg/registry/rbac/clusterrole. The default roles are reconciled at start
 * (lib/auth/rbac/bootstrap-policy.ts), not created as bootstrap objects,
 * since their rules are kept up to date.
 */
import { ClusterRoleSchema } from '../api/rbac/v1/clusterrole.js';
import { defineKind } from './kind.js';
import { admitRoleWrite } from './rbac/escalation.js';
import { roleDescriber, rolePrinter } from './rbac/print.js';
import { rbacNameRule, RBAC_GROUP, validateRole } from './rbac/validation.js';

export const clusterRoleKind = defineKind({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRole',
  resource: 'clusterroles',
  namespaced: false,
  schema: ClusterRoleSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none', viewers: 'none' },
  strategy: {
    noGeneration: true,
    nameRule: rbacNameRule,
    validate: (obj) => validateRole(obj, false),
    admit: (obj, old, ctx) => admitRoleWrite('clusterroles', obj, old, ctx),
  },
  printer: rolePrinter,
  describer: roleDescriber,
});
