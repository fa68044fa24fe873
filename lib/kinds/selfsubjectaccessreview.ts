/**
 * SelfSubjectAccessReview (authorization.k8s.io/v1): may the caller do
 * something (`kubectl auth can-i`). Unstored, after kube's
 * pkg/registry/authorization/selfsubjectaccessreview: the subject is the
 * caller as the server sees it, impersonation applied; every authenticated
 * user may ask about itself.
 */
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { SelfSubjectAccessReviewSchema, type SelfSubjectAccessReview } from '../api/authorization/v1/selfsubjectaccessreview.js';
import { AUTHORIZATION_GROUP, decide, nonEmptyMetadata, validateAccessReviewSpec } from './access-review.js';
import { defineUnstoredKind } from './unstored.js';

export const selfSubjectAccessReviewKind = defineUnstoredKind({
  group: AUTHORIZATION_GROUP,
  version: 'v1',
  kind: 'SelfSubjectAccessReview',
  resource: 'selfsubjectaccessreviews',
  namespaced: false,
  schema: SelfSubjectAccessReviewSchema,
  async answer(obj, ctx) {
    const review = obj as SelfSubjectAccessReview & KObject;
    const errs = [...validateAccessReviewSpec(review.spec ?? undefined, false), ...nonEmptyMetadata(review.metadata)];
    if (errs.length > 0) throw StatusError.invalid('SelfSubjectAccessReview', AUTHORIZATION_GROUP, '', errs);
    review.status = await decide(ctx.user, review.spec!, ctx);
    return review;
  },
});
