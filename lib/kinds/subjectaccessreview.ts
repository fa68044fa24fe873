/**
 * SubjectAccessReview (authorization.k8s.io/v1): may a user or group do
 * something, anywhere in the cluster. Unstored, after kube's
 * pkg/registry/authorization/subjectaccessreview: validated, then decided by
 * the server's authorizer; the review comes back with its status.
 */
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { SubjectAccessReviewSchema, type SubjectAccessReview } from '../api/authorization/v1/subjectaccessreview.js';
import { AUTHORIZATION_GROUP, decide, nonEmptyMetadata, subjectOf, validateAccessReviewSpec } from './access-review.js';
import { defineUnstoredKind } from './unstored.js';

export const subjectAccessReviewKind = defineUnstoredKind({
  group: AUTHORIZATION_GROUP,
  version: 'v1',
  kind: 'SubjectAccessReview',
  resource: 'subjectaccessreviews',
  namespaced: false,
  schema: SubjectAccessReviewSchema,
  async answer(obj, ctx) {
    const review = obj as SubjectAccessReview & KObject;
    const errs = [...validateAccessReviewSpec(review.spec ?? undefined, true), ...nonEmptyMetadata(review.metadata)];
    if (errs.length > 0) throw StatusError.invalid('SubjectAccessReview', AUTHORIZATION_GROUP, '', errs);
    review.status = await decide(subjectOf(review.spec!), review.spec!, ctx);
    return review;
  },
});
