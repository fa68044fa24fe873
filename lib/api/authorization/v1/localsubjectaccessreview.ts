/** authorization.k8s.io/v1 LocalSubjectAccessReview: a SubjectAccessReview confined to one namespace, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { LocalSubjectAccessReviewSchema, type LocalSubjectAccessReview } from './shapes.generated.js';
