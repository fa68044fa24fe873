/**
 * LocalSubjectAccessReview (authorization.k8s.io/v1): a SubjectAccessReview
 * confined to the namespace it is created in, so that a namespace's admin
 * may ask it. Unstored, after kube's
 * pkg/registry/authorization/localsubjectaccessreview: resource attributes
 * only, their namespace the object's and the URL's.
 */
import { StatusError } from '../api/errors.js';
import { fieldErrors } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { LocalSubjectAccessReviewSchema, type LocalSubjectAccessReview } from '../api/authorization/v1/localsubjectaccessreview.js';
import { AUTHORIZATION_GROUP, decide, goNonResourceAttributes, nonEmptyMetadata, subjectOf, validateAccessReviewSpec } from './access-review.js';
import { defineUnstoredKind } from './unstored.js';

export const localSubjectAccessReviewKind = defineUnstoredKind({
  group: AUTHORIZATION_GROUP,
  version: 'v1',
  kind: 'LocalSubjectAccessReview',
  resource: 'localsubjectaccessreviews',
  namespaced: true,
  schema: LocalSubjectAccessReviewSchema,
  async answer(obj, ctx) {
    const review = obj as LocalSubjectAccessReview & KObject;
    const spec = review.spec ?? undefined;
    const namespace = review.metadata.namespace ?? '';
    const errs = [...validateAccessReviewSpec(spec, true), ...nonEmptyMetadata(review.metadata, ['namespace'])];
    if (spec?.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace) {
      errs.push(fieldErrors.invalid('spec.resourceAttributes.namespace', spec.resourceAttributes.namespace ?? '', 'must match metadata.namespace'));
    }
    if (spec?.nonResourceAttributes) {
      errs.push(
        fieldErrors.invalidOmitted('spec.nonResourceAttributes', `${goNonResourceAttributes(spec.nonResourceAttributes)}: disallowed on this kind of request`),
      );
    }
    if (errs.length > 0) throw StatusError.invalid('LocalSubjectAccessReview', AUTHORIZATION_GROUP, '', errs);
    if (!ctx.namespace) throw StatusError.badRequest(`namespace is required on this type: ${ctx.namespace ?? ''}`);
    if (ctx.namespace !== namespace) throw StatusError.badRequest(`spec.resourceAttributes.namespace must match namespace: ${ctx.namespace}`);
    review.status = await decide(subjectOf(spec!), spec!, ctx);
    return review;
  },
});
