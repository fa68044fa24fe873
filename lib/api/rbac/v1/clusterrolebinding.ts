/** rbac.authorization.k8s.io/v1 ClusterRoleBinding, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { ClusterRoleBindingSchema, type ClusterRoleBinding } from './shapes.generated.js';
