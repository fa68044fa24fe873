/**
 * SelfSubjectRulesReview (authorization.k8s.io/v1): what the caller may do
 * in a namespace (`kubectl auth can-i --list`). Unstored, after kube's
 * pkg/registry/authorization/selfsubjectrulesreview: the rules the server's
 * authorizer lists (`Authorizer.rulesFor`); an authorizer that cannot list
 * its rules answers none, `incomplete`; a server without an authorizer
 * allows everything and says so (kube's AlwaysAllow rule resolver).
 */
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import type { SubjectRules } from '../api/request.js';
import { SelfSubjectRulesReviewSchema, type SelfSubjectRulesReview } from '../api/authorization/v1/selfsubjectrulesreview.js';
import { AUTHORIZATION_GROUP } from './access-review.js';
import type { AnswerContext } from './kind.js';
import { defineUnstoredKind } from './unstored.js';

const EVERYTHING: SubjectRules = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
};

/** What an authorizer that cannot list its rules reports (as kube's webhook and Node authorizers word it). */
export const NO_RULE_RESOLUTION = 'the authorizer does not support user rule resolution';

async function rulesOf(ctx: AnswerContext, namespace: string): Promise<SubjectRules> {
  const authorizer = ctx.authorizer;
  if (!authorizer) return EVERYTHING;
  if (!authorizer.rulesFor) return { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: NO_RULE_RESOLUTION };
  return authorizer.rulesFor(ctx.user, namespace);
}

export const selfSubjectRulesReviewKind = defineUnstoredKind({
  group: AUTHORIZATION_GROUP,
  version: 'v1',
  kind: 'SelfSubjectRulesReview',
  resource: 'selfsubjectrulesreviews',
  namespaced: false,
  schema: SelfSubjectRulesReviewSchema,
  async answer(obj, ctx) {
    const namespace = (obj as SelfSubjectRulesReview & KObject).spec?.namespace ?? '';
    if (namespace === '') throw StatusError.badRequest('no namespace on request');
    const rules = await rulesOf(ctx, namespace);
    // As kube: a new object holding only the status (Go's zero-valued spec and metadata).
    const review: SelfSubjectRulesReview = {
      apiVersion: `${AUTHORIZATION_GROUP}/v1`,
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: {},
      status: {
        resourceRules: rules.resourceRules,
        nonResourceRules: rules.nonResourceRules,
        incomplete: rules.incomplete,
        ...(rules.evaluationError ? { evaluationError: rules.evaluationError } : {}),
      },
    };
    return review as KObject;
  },
});
