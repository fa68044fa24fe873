/**
 * TokenReview (authentication.k8s.io/v1): runs the API server's own
 * authenticator on `spec.token` and answers who it is. Unstored, after
 * kube's pkg/registry/authentication/tokenreview: the audiences asked for
 * (else the server's own) go to an audience-aware authenticator as they
 * are; an audience-agnostic one (kumo tokens) vouches for its tokens only
 * for the server's own audiences, as kube's WrapAudienceAgnosticToken does.
 * A refused token is `authenticated` false (left out, as Go omits it) with
 * `error` when the authenticator tells why.
 */
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import type { Authenticator, TokenAuthentication } from '../api/request.js';
import { TokenReviewSchema, type TokenReview } from '../api/authentication/v1/tokenreview.js';
import { defineUnstoredKind, reviewedUser } from './unstored.js';

/** `token` authenticated for any of `audiences` by `authenticator`; `implicit` are the audiences an audience-agnostic one's tokens are good for. */
export async function authenticateToken(
  authenticator: Authenticator,
  token: string,
  audiences: readonly string[],
  implicit: readonly string[],
): Promise<TokenAuthentication> {
  if (authenticator.authenticateToken) return authenticator.authenticateToken(token, audiences);
  const good = implicit.filter((a) => audiences.includes(a));
  if (good.length === 0) return {};
  // A request carrying nothing but the token, as kube's TokenReview builds one.
  const user = await authenticator.authenticate({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/tokenreviews',
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${token}` },
  });
  return user ? { user, audiences: good } : {};
}

export const tokenReviewKind = defineUnstoredKind({
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenReview',
  resource: 'tokenreviews',
  namespaced: false,
  schema: TokenReviewSchema,
  async answer(obj, ctx) {
    const review = obj as TokenReview & KObject;
    const token = review.spec?.token ?? '';
    if (token === '') throw StatusError.badRequest('token is required for TokenReview in authentication');
    // A server that authenticates nobody vouches for no token (kube returns the review untouched).
    if (!ctx.authenticator) return review;
    const asked = review.spec?.audiences ?? [];
    const audiences = asked.length > 0 ? asked : ctx.apiAudiences;
    const result = await authenticateToken(ctx.authenticator, token, audiences, ctx.apiAudiences);
    if (result.user && audiences.length > 0 && !(result.audiences ?? []).some((a) => audiences.includes(a))) {
      throw StatusError.internal('error validating audiences');
    }
    review.status = {
      ...(result.user ? { authenticated: true, user: reviewedUser(result.user) } : {}),
      ...(result.user && result.audiences?.length ? { audiences: result.audiences } : {}),
      ...(result.error ? { error: result.error } : {}),
    };
    return review;
  },
});
