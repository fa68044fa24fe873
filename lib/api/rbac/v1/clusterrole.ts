/** rbac.authorization.k8s.io/v1 ClusterRole, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { ClusterRoleSchema, type ClusterRole } from './shapes.generated.js';
