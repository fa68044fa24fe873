/**
 * What SubjectAccessReview, LocalSubjectAccessReview and
 * SelfSubjectAccessReview share, after kube's
 * pkg/apis/authorization/validation and pkg/registry/authorization/util:
 * the spec's validation (exactly one of resourceAttributes and
 * nonResourceAttributes; a subject for the reviews about someone else),
 * metadata that must be empty, and the decision, asked of the server's own
 * authorizer by name (a review may name a resource this server does not
 * serve) and reported as kube fills the status: `allowed`, and the
 * authorizer's reason when it gives one. kumo's authorizers never deny
 * outright (kube's DecisionDeny), so `denied` stays unset.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { SubjectAccessReviewSpec, SubjectAccessReviewStatus } from '../api/authorization/v1/subjectaccessreview.js';
import type { ObjectMeta } from '../api/object.js';
import type { ResourceAttributes, UserInfo } from '../api/request.js';
import type { AnswerContext } from './kind.js';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

/** Go's %#v of the internal NonResourceAttributes, as kube's field.Invalid prints the value. */
export function goNonResourceAttributes(a: { path?: string | null; verb?: string | null }): string {
  return `authorization.NonResourceAttributes{Path:${JSON.stringify(a.path ?? '')}, Verb:${JSON.stringify(a.verb ?? '')}}`;
}

/** ValidateSubjectAccessReviewSpec (`subject`: the spec names a user or groups) or ValidateSelfSubjectAccessReviewSpec. */
export function validateAccessReviewSpec(spec: SubjectAccessReviewSpec | undefined, subject: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const resource = spec?.resourceAttributes;
  const nonResource = spec?.nonResourceAttributes;
  if (resource && nonResource) {
    errs.push(
      fieldErrors.invalidOmitted(
        'spec.nonResourceAttributes',
        `${goNonResourceAttributes(nonResource)}: cannot be specified in combination with resourceAttributes`,
      ),
    );
  }
  // kube passes the (nil) nonResourceAttributes as the value, which field.Invalid prints as "null".
  if (!resource && !nonResource)
    errs.push(fieldErrors.invalid('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (subject && !spec?.user && (spec?.groups ?? []).length === 0) {
    errs.push(fieldErrors.invalid('spec.user', spec?.user ?? '', 'at least one of user or group must be specified'));
  }
  return errs;
}

/** Whether a value is Go's zero value once decoded (a client may send `creationTimestamp: null`). */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZero);
  return false;
}

/** A review's metadata must be empty (managedFields aside, and `except` the fields the kind allows): the error, if it is not. */
export function nonEmptyMetadata(meta: ObjectMeta, except: readonly string[] = []): FieldError[] {
  const rest = Object.entries(meta).filter(([k]) => k !== 'managedFields' && !except.includes(k));
  if (rest.every(([, v]) => isZero(v))) return [];
  return [fieldErrors.invalid('metadata', meta, `must be empty${except.length > 0 ? ` except for ${except.join(', ')}` : ''}`)];
}

/** The user a SubjectAccessReview asks about (AuthorizationAttributesFrom); several values of an extra are joined by commas, as kumo keeps them. */
export function subjectOf(spec: SubjectAccessReviewSpec): UserInfo {
  const extra = Object.entries(spec.extra ?? {});
  return {
    name: spec.user ?? '',
    groups: [...(spec.groups ?? [])],
    ...(spec.uid ? { uid: spec.uid } : {}),
    ...(extra.length > 0 ? { extra: Object.fromEntries(extra.map(([k, v]) => [k, v.join(',')])) } : {}),
  };
}

/** What `user` may do as `spec` asks, by the server's authorizer; no authorizer allows everything (kube's AlwaysAllow). */
export async function decide(user: UserInfo, spec: SubjectAccessReviewSpec, ctx: AnswerContext): Promise<SubjectAccessReviewStatus> {
  const authorizer = ctx.authorizer;
  if (!authorizer) return { allowed: true };
  let reason: string | undefined;
  const r = spec.resourceAttributes;
  if (r) {
    const group = r.group ?? '';
    const resource = r.resource ?? '';
    const served = ctx.served(group, resource);
    const attrs: ResourceAttributes = {
      verb: r.verb ?? '',
      apiGroup: group,
      resource,
      ...(r.subresource ? { subresource: r.subresource } : {}),
      ...(r.namespace ? { namespace: r.namespace } : {}),
      ...(r.name ? { name: r.name } : {}),
      ...(served ? { type: served } : {}),
    };
    reason = await authorizer.authorize(user, attrs);
  } else {
    const n = spec.nonResourceAttributes ?? {};
    const attrs = { verb: n.verb ?? '', path: n.path ?? '' };
    // As the server answers a non-resource URL: an authorizer that cannot judge one refuses it.
    reason = authorizer.authorizeNonResource ? await authorizer.authorizeNonResource(user, attrs) : 'no non-resource URL is authorized';
  }
  return reason === undefined ? { allowed: true } : { allowed: false, ...(reason ? { reason } : {}) };
}
