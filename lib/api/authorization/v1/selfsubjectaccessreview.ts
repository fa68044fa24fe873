/** authorization.k8s.io/v1 SelfSubjectAccessReview: may the caller do something, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { SelfSubjectAccessReviewSchema, type SelfSubjectAccessReview } from './shapes.generated.js';
