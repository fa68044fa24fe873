/** authorization.k8s.io/v1 SubjectAccessReview: may a user or group do something, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { SubjectAccessReviewSchema, type SubjectAccessReview, type SubjectAccessReviewSpec, type SubjectAccessReviewStatus } from './shapes.generated.js';
