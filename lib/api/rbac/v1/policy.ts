/** rbac.authorization.k8s.io/v1 PolicyRule, Subject, RoleRef and AggregationRule, generated from k8s.io/api (shapes.generated.ts). */
export { type AggregationRule, type PolicyRule, type RoleRef, type Subject } from './shapes.generated.js';
