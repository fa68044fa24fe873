/** rbac.authorization.k8s.io/v1 Role, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { RoleSchema, type Role } from './shapes.generated.js';
