/** authentication.k8s.io/v1 TokenReview: asks the API server who a bearer token is, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { TokenReviewSchema, type TokenReview } from './shapes.generated.js';
