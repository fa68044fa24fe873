/**
 * ClusterRoleBinding (rbac.authorization.k8s.io/v1): grants a ClusterRole
 * in every namespace and at the cluster scope, after kube's
 * pkg/registry/rbac/clusterrolebinding (lib/kinds/rolebinding.ts says the
 * rest).
 */
import { ClusterRoleBindingSchema } from '../api/rbac/v1/clusterrolebinding.js';
import { bindingKindOf } from './rbac/kinds.js';

export const clusterRoleBindingKind = bindingKindOf({
  kind: 'ClusterRoleBinding',
  resource: 'clusterrolebindings',
  namespaced: false,
  schema: ClusterRoleBindingSchema,
});
