/**
 * Which requests a webhook or policy applies to, after kube's
 * admission/plugin/webhook/predicates (rules, namespace and object
 * selectors). Requests about admissionregistration.k8s.io objects are never
 * sent to webhooks or policies (IsExemptAdmissionConfigurationResource), so
 * a broken webhook can always be removed.
 */
import { fromLabelSelector, matches } from '../../api/labels.js';
import type { LabelSelector } from '../../api/meta/v1/label-selector.js';
import type { NamedRuleWithOperations, RuleWithOperations } from '../../api/admissionregistration/v1/shapes.generated.js';
import type { AdmissionAttributes } from './attributes.js';

export const ADMISSION_CONFIGURATION_GROUP = 'admissionregistration.k8s.io';

/** Requests that no webhook or policy sees. */
export function isExempt(attrs: AdmissionAttributes): boolean {
  return attrs.rt.group === ADMISSION_CONFIGURATION_GROUP;
}

const any = (list: readonly string[] | null | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);

/**
 * rules.Matcher: scope, operation, group, version and resource/subresource
 * (`*` is every resource without a subresource, `*\/*` every one, `pods/*`
 * every subresource of pods). Under matchPolicy Equivalent the version does
 * not count: kumo serves each resource under one storage version and
 * converts, so another version of the same group and resource is the same
 * resource (the object is sent in the version of the request).
 */
export function ruleMatches(rule: RuleWithOperations, attrs: AdmissionAttributes, matchPolicy: string | null | undefined): boolean {
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && attrs.namespace !== '') return false;
  if (scope === 'Namespaced' && (attrs.namespace === '' || (attrs.rt.resource === 'namespaces' && attrs.rt.group === '' && !attrs.subresource))) return false;
  if (!any(rule.operations, attrs.operation)) return false;
  if (!any(rule.apiGroups, attrs.rt.group)) return false;
  if (matchPolicy === 'Exact' && !any(rule.apiVersions, attrs.rt.version)) return false;
  const sub = attrs.subresource ?? '';
  return (rule.resources ?? []).some((r) => {
    const slash = r.indexOf('/');
    const [res, rsub] = slash < 0 ? [r, ''] : [r.slice(0, slash), r.slice(slash + 1)];
    return (res === '*' || res === attrs.rt.resource) && (rsub === '*' || rsub === sub);
  });
}

/** A policy's match: some resourceRule matches (with resourceNames) and no excludeResourceRule does. */
export function namedRulesMatch(
  include: readonly NamedRuleWithOperations[],
  exclude: readonly NamedRuleWithOperations[],
  attrs: AdmissionAttributes,
  matchPolicy: string | null | undefined,
): boolean {
  const named = (r: NamedRuleWithOperations) =>
    ruleMatches(r, attrs, matchPolicy) && ((r.resourceNames ?? []).length === 0 || (r.resourceNames ?? []).includes(attrs.name));
  return include.some(named) && !exclude.some(named);
}

function isEmpty(sel: LabelSelector | null | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

/** MatchObjectSelector: the new or the old object's labels match (an empty selector matches everything). */
export function objectSelectorMatches(sel: LabelSelector | null | undefined, attrs: AdmissionAttributes): boolean {
  if (isEmpty(sel)) return true;
  const reqs = fromLabelSelector(sel);
  return [attrs.object, attrs.oldObject].some((o) => o !== undefined && matches(reqs, o.metadata.labels));
}

/**
 * MatchNamespaceSelector: a cluster-scoped object other than a Namespace
 * always matches; a Namespace is matched by its own labels; anything else by
 * its namespace's (read through `namespaceLabels` only when the selector is
 * not empty).
 */
export async function namespaceSelectorMatches(
  sel: LabelSelector | null | undefined,
  attrs: AdmissionAttributes,
  namespaceLabels: (name: string) => Promise<Record<string, string> | undefined>,
): Promise<boolean> {
  if (isEmpty(sel)) return true;
  const isNamespace = attrs.rt.group === '' && attrs.rt.resource === 'namespaces';
  if (!isNamespace && attrs.namespace === '') return true;
  const labels = isNamespace ? (attrs.object ?? attrs.oldObject)?.metadata.labels : await namespaceLabels(attrs.namespace);
  return matches(fromLabelSelector(sel), labels ?? {});
}
