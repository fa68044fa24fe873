/** rbac.authorization.k8s.io/v1 RoleBinding, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { RoleBindingSchema, type RoleBinding } from './shapes.generated.js';
