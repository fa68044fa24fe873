/**
 * ClusterRole (rbac.authorization.k8s.io/v1): cluster-scoped rules, and
 * aggregation (an aggregationRule's selectors pick the ClusterRoles whose
 * rules the clusterrole-aggregation controller copies in), after kube's
 * pkg/registry/rbac/clusterrole. The default roles are reconciled at start
 * (lib/auth/rbac/reconcile.ts), not created as bootstrap objects, since
 * their rules are kept up to date.
 */
import { ClusterRoleSchema } from '../api/rbac/v1/clusterrole.js';
import { roleKindOf } from './rbac/kinds.js';

export const clusterRoleKind = roleKindOf({ kind: 'ClusterRole', resource: 'clusterroles', namespaced: false, schema: ClusterRoleSchema });
