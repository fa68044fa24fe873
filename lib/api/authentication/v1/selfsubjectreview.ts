/** authentication.k8s.io/v1 SelfSubjectReview: who the API server takes the caller for, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { SelfSubjectReviewSchema, type SelfSubjectReview, type UserInfo as ReviewedUserInfo } from './shapes.generated.js';
