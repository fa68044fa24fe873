/**
 * Validation of RBAC objects with kube's rules and messages
 * (pkg/apis/rbac/validation/validation.go), and their defaults
 * (pkg/apis/rbac/v1/defaults.go).
 */
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { fromLabelSelector, SelectorParseError } from '../../api/labels.js';
import type { KObject } from '../../api/object.js';
import type { AggregationRule, PolicyRule, RoleRef, Subject } from '../../api/rbac/v1/policy.js';
import { dns1123Subdomain, pathSegmentName } from '../../api/validation.js';
import { deepEqual } from '../../util/json.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface RbacBinding extends KObject {
  subjects?: Subject[] | null;
  roleRef?: RoleRef | null;
}

export interface RbacRole extends KObject {
  rules?: PolicyRule[] | null;
  aggregationRule?: AggregationRule | null;
}

/** ValidateRBACName: roles and bindings are named by path segments, not DNS names. */
export const rbacNameRule = pathSegmentName;

/** ValidatePolicyRule. */
function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((rule.verbs ?? []).length === 0) errs.push(fieldErrors.required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced) errs.push(fieldErrors.invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0)
      errs.push(fieldErrors.invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0) errs.push(fieldErrors.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if ((rule.resources ?? []).length === 0) errs.push(fieldErrors.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

/** ValidateRole (namespaced) and ValidateClusterRole (with its aggregationRule). */
export function validateRole(obj: KObject, namespaced: boolean): FieldError[] {
  const role = obj as RbacRole;
  const errs = (role.rules ?? []).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
  const agg = role.aggregationRule;
  if (!namespaced && agg) {
    const selectors = agg.clusterRoleSelectors ?? [];
    if (selectors.length === 0)
      errs.push(fieldErrors.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((sel, i) => {
      try {
        fromLabelSelector(sel);
      } catch (err) {
        if (!(err instanceof SelectorParseError)) throw err;
        errs.push(fieldErrors.invalid(`aggregationRule.clusterRoleSelectors[${i}]`, sel, err.message));
      }
    });
  }
  return errs;
}

/** ValidateRoleBindingSubject. */
function validateSubject(s: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = s.name ?? '';
  if (name === '') errs.push(fieldErrors.required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name !== '') for (const msg of dns1123Subdomain(name)) errs.push(fieldErrors.invalid(`${path}.name`, name, msg));
      if (s.apiGroup) errs.push(fieldErrors.notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(fieldErrors.required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported(`${path}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldErrors.notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** ValidateRoleBinding and ValidateClusterRoleBinding: a ClusterRoleBinding refers to a ClusterRole only. */
export function validateBinding(obj: KObject, namespaced: boolean): FieldError[] {
  const b = obj as RbacBinding;
  const errs: FieldError[] = [];
  const ref = b.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind ?? '')) errs.push(fieldErrors.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fieldErrors.required('roleRef.name'));
  else for (const msg of rbacNameRule(ref.name)) errs.push(fieldErrors.invalid('roleRef.name', ref.name, msg));
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

/** ValidateRoleBindingUpdate: the role a binding grants never changes (delete and recreate it instead). */
export function validateBindingUpdate(obj: KObject, old: KObject): FieldError[] {
  const ref = (obj as RbacBinding).roleRef ?? {};
  const prev = (old as RbacBinding).roleRef ?? {};
  const same = (ref.apiGroup ?? '') === (prev.apiGroup ?? '') && (ref.kind ?? '') === (prev.kind ?? '') && (ref.name ?? '') === (prev.name ?? '');
  // The value as Go's %#v prints the internal type, as kube's message shows it.
  const shown = `rbac.RoleRef{APIGroup:${JSON.stringify(ref.apiGroup ?? '')}, Kind:${JSON.stringify(ref.kind ?? '')}, Name:${JSON.stringify(ref.name ?? '')}}`;
  return same ? [] : [fieldErrors.invalidOmitted('roleRef', `${shown}: cannot change roleRef`)];
}

/** SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject: the RBAC group where it goes without saying. */
export function defaultBinding(obj: KObject): void {
  const b = obj as RbacBinding;
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) {
    if (s.apiGroup === undefined || s.apiGroup === null || s.apiGroup === '') {
      // A ServiceAccount's group is the core group, "", which apiGroup's omitempty leaves out.
      if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
      else delete s.apiGroup;
    }
  }
}

/** Whether an update changes nothing but what the garbage collector writes (IsOnlyMutatingGCFields). */
export function onlyGarbageCollectionFields(obj: KObject, old: KObject): boolean {
  const strip = (o: KObject) => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, generation: _g, ...meta } = o.metadata;
    return { ...o, metadata: meta };
  };
  return deepEqual(strip(obj), strip(old));
}
