/** scheduling.k8s.io/v1 PriorityClass: a name for a pod priority, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { PriorityClassSchema, type PriorityClass } from './shapes.generated.js';
