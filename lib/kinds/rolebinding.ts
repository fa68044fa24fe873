/**
 * RoleBinding (rbac.authorization.k8s.io/v1): grants a Role or ClusterRole
 * within its namespace, after kube's pkg/registry/rbac/rolebinding
 * (validation, roleRef immutable, the `bind` check:
 * lib/kinds/rbac/escalation.ts). A binding to a role that does not exist is
 * accepted and grants nothing.
 */
import { RoleBindingSchema } from '../api/rbac/v1/rolebinding.js';
import { bindingKindOf } from './rbac/kinds.js';

export const roleBindingKind = bindingKindOf({ kind: 'RoleBinding', resource: 'rolebindings', namespaced: true, schema: RoleBindingSchema });
