/**
 * SelfSubjectReview (authentication.k8s.io/v1): who the API server takes
 * the caller for, impersonation applied (`kubectl auth whoami`). Unstored,
 * after kube's pkg/registry/authentication/selfsubjectreview: the answer is
 * a new object holding only its creation time and the caller.
 */
import type { KObject } from '../api/object.js';
import { SelfSubjectReviewSchema, type SelfSubjectReview } from '../api/authentication/v1/selfsubjectreview.js';
import { rfc3339 } from '../util/clock.js';
import { defineUnstoredKind, reviewedUser } from './unstored.js';

export const selfSubjectReviewKind = defineUnstoredKind({
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  resource: 'selfsubjectreviews',
  namespaced: false,
  schema: SelfSubjectReviewSchema,
  async answer(_obj, ctx) {
    const review: SelfSubjectReview = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: rfc3339(ctx.now) },
      status: { userInfo: reviewedUser(ctx.user) },
    };
    return review as KObject;
  },
});
