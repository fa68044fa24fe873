/** authorization.k8s.io/v1 SelfSubjectRulesReview: what the caller may do in a namespace, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { SelfSubjectRulesReviewSchema, type SelfSubjectRulesReview } from './shapes.generated.js';
