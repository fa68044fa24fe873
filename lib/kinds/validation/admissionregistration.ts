/**
 * Validation of admissionregistration.k8s.io/v1 objects, after kube's
 * pkg/apis/admissionregistration/validation and k8s.io/apiserver's
 * util/webhook (ValidateWebhookURL, ValidateWebhookService), with their
 * messages. CEL expressions are checked by compiling them in the admission
 * environment (lib/apiserver/admission/cel.ts checks through `compile`,
 * injected so this floor does not reach up into the API server).
 */
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { fromLabelSelector, SelectorParseError } from '../../api/labels.js';
import type { LabelSelector } from '../../api/meta/v1/label-selector.js';
import type { MatchCondition, RuleWithOperations, WebhookClientConfig } from '../../api/admissionregistration/v1/webhookconfiguration.js';
import type { MatchResources, NamedRuleWithOperations } from '../../api/admissionregistration/v1/validatingadmissionpolicy.js';
import { dns1035Label, dns1123Subdomain, qualifiedName } from '../../api/validation.js';
import { validateWebhookService, validateWebhookURL } from '../../api/webhook-client-validation.js';

export const FAILURE_POLICIES = ['Fail', 'Ignore'] as const;
export const MATCH_POLICIES = ['Equivalent', 'Exact'] as const;
/** The side-effect classes a v1 webhook may declare (noSideEffectClasses). */
export const NO_SIDE_EFFECT_CLASSES = ['None', 'NoneOnDryRun'] as const;
export const REINVOCATION_POLICIES = ['IfNeeded', 'Never'] as const;
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'] as const;
const SCOPES = ['*', 'Cluster', 'Namespaced'] as const;
const REVIEW_VERSIONS = ['v1', 'v1beta1'] as const;

/** Why a CEL expression does not compile, or undefined. */
export type ExpressionCheck = (expression: string) => string | undefined;

const has = (list: readonly string[], v: string) => list.includes(v);

function notSupported(path: string, value: string | null | undefined, allowed: readonly string[]): FieldError[] {
  return value !== undefined && value !== null && !has(allowed, value) ? [fieldErrors.notSupported(path, value, allowed)] : [];
}

/** utilvalidation.IsFullyQualifiedName: a DNS subdomain of at least three segments. */
function fullyQualifiedName(path: string, name: string): FieldError[] {
  if (!name) return [fieldErrors.required(path)];
  const errs = dns1123Subdomain(name);
  if (errs.length > 0) return [fieldErrors.invalid(path, name, errs.join(','))];
  if (name.split('.').length < 3) return [fieldErrors.invalid(path, name, 'should be a domain with at least three segments separated by dots')];
  return [];
}

/** metav1validation.ValidateLabelSelector, as far as a selector that does not parse. */
export function validateSelector(path: string, sel: LabelSelector | null | undefined): FieldError[] {
  if (!sel) return [];
  try {
    fromLabelSelector(sel);
    return [];
  } catch (err) {
    if (err instanceof SelectorParseError) return [fieldErrors.invalid(path, sel, err.message)];
    throw err;
  }
}

function validateResources(resources: readonly string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (resources.length === 0) errs.push(fieldErrors.required(path));
  const withWildcardSub = new Set<string>();
  const subWithWildcardRes = new Set<string>();
  let doubleWildcard = false;
  let singleWildcard = false;
  let plain = false;
  resources.forEach((rs, i) => {
    if (rs === '') {
      errs.push(fieldErrors.required(`${path}[${i}]`));
      return;
    }
    if (rs === '*/*') doubleWildcard = true;
    if (rs === '*') singleWildcard = true;
    const slash = rs.indexOf('/');
    if (slash < 0) {
      plain = rs !== '*';
      return;
    }
    const res = rs.slice(0, slash);
    const sub = rs.slice(slash + 1);
    if (withWildcardSub.has(res)) errs.push(fieldErrors.invalid(`${path}[${i}]`, rs, `if '${res}/*' is present, must not specify ${rs}`));
    if (subWithWildcardRes.has(sub)) errs.push(fieldErrors.invalid(`${path}[${i}]`, rs, `if '*/${sub}' is present, must not specify ${rs}`));
    if (sub === '*') withWildcardSub.add(res);
    if (res === '*') subWithWildcardRes.add(sub);
  });
  if (resources.length > 1 && doubleWildcard) errs.push(fieldErrors.invalid(path, resources, "if '*/*' is present, must not specify other resources"));
  if (singleWildcard && plain) errs.push(fieldErrors.invalid(path, resources, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

/** validateRuleWithOperations (subresources allowed). */
export function validateRule(rule: RuleWithOperations, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops = rule.operations ?? [];
  if (ops.length === 0) errs.push(fieldErrors.required(`${path}.operations`));
  if (ops.length > 1 && ops.includes('*')) errs.push(fieldErrors.invalid(`${path}.operations`, ops, "if '*' is present, must not specify other operations"));
  ops.forEach((op, i) => errs.push(...notSupported(`${path}.operations[${i}]`, op, OPERATIONS)));
  const groups = rule.apiGroups ?? [];
  if (groups.length === 0) errs.push(fieldErrors.required(`${path}.apiGroups`));
  if (groups.length > 1 && groups.includes('*'))
    errs.push(fieldErrors.invalid(`${path}.apiGroups`, groups, "if '*' is present, must not specify other API groups"));
  const versions = rule.apiVersions ?? [];
  if (versions.length === 0) errs.push(fieldErrors.required(`${path}.apiVersions`));
  if (versions.length > 1 && versions.includes('*'))
    errs.push(fieldErrors.invalid(`${path}.apiVersions`, versions, "if '*' is present, must not specify other API versions"));
  versions.forEach((v, i) => {
    if (v === '') errs.push(fieldErrors.required(`${path}.apiVersions[${i}]`));
  });
  errs.push(...validateResources(rule.resources ?? [], `${path}.resources`));
  errs.push(...notSupported(`${path}.scope`, rule.scope, SCOPES));
  return errs;
}

export function validateClientConfig(path: string, cc: WebhookClientConfig | null | undefined): FieldError[] {
  const url = cc?.url ?? undefined;
  const service = cc?.service ?? undefined;
  if ((url === undefined) === (service === undefined)) return [fieldErrors.required(path, 'exactly one of url or service is required')];
  return url !== undefined ? validateWebhookURL(url, `${path}.url`) : validateWebhookService(service!, `${path}.service`);
}

export function validateMatchConditions(path: string, conditions: readonly MatchCondition[], check: ExpressionCheck): FieldError[] {
  const errs: FieldError[] = [];
  if (conditions.length > 64) errs.push(fieldErrors.tooMany(path, conditions.length, 64));
  const names = new Set<string>();
  conditions.forEach((c, i) => {
    const expr = (c.expression ?? '').trim();
    if (!expr) errs.push(fieldErrors.required(`${path}[${i}].expression`));
    else {
      const why = check(expr);
      if (why) errs.push(fieldErrors.invalid(`${path}[${i}].expression`, expr, why));
    }
    const name = c.name ?? '';
    if (!name) errs.push(fieldErrors.required(`${path}[${i}].name`));
    else for (const e of qualifiedName(name)) errs.push(fieldErrors.invalid(`${path}[${i}].name`, name, e));
    if (name) {
      if (names.has(name)) errs.push(fieldErrors.duplicate(`${path}[${i}].name`, name));
      names.add(name);
    }
  });
  return errs;
}

/** What mutating and validating webhooks share (validateValidatingWebhook / validateMutatingWebhook). */
export interface WebhookFields {
  name?: string | null;
  clientConfig?: WebhookClientConfig | null;
  rules?: RuleWithOperations[] | null;
  failurePolicy?: string | null;
  matchPolicy?: string | null;
  namespaceSelector?: LabelSelector | null;
  objectSelector?: LabelSelector | null;
  sideEffects?: string | null;
  timeoutSeconds?: number | null;
  admissionReviewVersions?: string[] | null;
  matchConditions?: MatchCondition[] | null;
}

/** One webhook of a configuration at `path` (webhooks[i]). */
export function validateWebhook(path: string, hook: WebhookFields, check: ExpressionCheck): FieldError[] {
  const errs: FieldError[] = [...fullyQualifiedName(`${path}.name`, hook.name ?? '')];
  (hook.rules ?? []).forEach((r, i) => errs.push(...validateRule(r, `${path}.rules[${i}]`)));
  errs.push(...notSupported(`${path}.failurePolicy`, hook.failurePolicy, FAILURE_POLICIES));
  errs.push(...notSupported(`${path}.matchPolicy`, hook.matchPolicy, MATCH_POLICIES));
  if (hook.sideEffects === undefined || hook.sideEffects === null) {
    errs.push(fieldErrors.required(`${path}.sideEffects`, `must specify one of ${NO_SIDE_EFFECT_CLASSES.join(', ')}`));
  } else errs.push(...notSupported(`${path}.sideEffects`, hook.sideEffects, NO_SIDE_EFFECT_CLASSES));
  const t = hook.timeoutSeconds;
  if (t !== undefined && t !== null && (t > 30 || t < 1))
    errs.push(fieldErrors.invalid(`${path}.timeoutSeconds`, t, 'the timeout value must be between 1 and 30 seconds'));
  errs.push(...validateSelector(`${path}.namespaceSelector`, hook.namespaceSelector));
  errs.push(...validateSelector(`${path}.objectSelector`, hook.objectSelector));
  errs.push(...validateClientConfig(`${path}.clientConfig`, hook.clientConfig));
  errs.push(...validateMatchConditions(`${path}.matchConditions`, hook.matchConditions ?? [], check));
  // validateAdmissionReviewVersions
  const versions = hook.admissionReviewVersions ?? [];
  const vpath = `${path}.admissionReviewVersions`;
  if (versions.length === 0) errs.push(fieldErrors.required(vpath, `must specify one of ${REVIEW_VERSIONS.join(', ')}`));
  else {
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      if (seen.has(v)) {
        errs.push(fieldErrors.invalid(`${vpath}[${i}]`, v, 'duplicate version'));
        return;
      }
      seen.add(v);
      for (const e of dns1035Label(v)) errs.push(fieldErrors.invalid(`${vpath}[${i}]`, v, e));
    });
    if (!versions.some((v) => has(REVIEW_VERSIONS, v)))
      errs.push(fieldErrors.invalid(vpath, versions, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  }
  return errs;
}

/** Duplicate webhook names within one configuration. */
export function duplicateWebhookNames(hooks: readonly { name?: string | null }[]): FieldError[] {
  const seen = new Set<string>();
  const errs: FieldError[] = [];
  hooks.forEach((h, i) => {
    const name = h.name ?? '';
    if (!name) return;
    if (seen.has(name)) errs.push(fieldErrors.duplicate(`webhooks[${i}].name`, name));
    seen.add(name);
  });
  return errs;
}

/** SetDefaults_Rule and the webhook defaults both kinds share (SetDefaults_ValidatingWebhook, SetDefaults_ServiceReference). */
export function defaultWebhook(hook: WebhookFields): void {
  hook.failurePolicy ??= 'Fail';
  hook.matchPolicy ??= 'Equivalent';
  hook.namespaceSelector ??= {};
  hook.objectSelector ??= {};
  hook.timeoutSeconds ??= 10;
  for (const r of hook.rules ?? []) r.scope ??= '*';
  const svc = hook.clientConfig?.service;
  if (svc) svc.port ??= 443;
}

/** SetDefaults_MatchResources: the policy kinds' match criteria. */
export function defaultMatchResources(m: MatchResources | null | undefined): void {
  if (!m) return;
  m.matchPolicy ??= 'Equivalent';
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  for (const r of [...(m.resourceRules ?? []), ...(m.excludeResourceRules ?? [])]) r.scope ??= '*';
}

function validateNamedRule(rule: NamedRuleWithOperations, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (rule.resourceNames ?? []).forEach((n, i) => {
    if (n === '.' || n === '..') errs.push(fieldErrors.invalid(`${path}.resourceNames[${i}]`, n, `may not be '${n}'`));
    else if (n.includes('/') || n.includes('%'))
      errs.push(fieldErrors.invalid(`${path}.resourceNames[${i}]`, n, `may not contain '${n.includes('/') ? '/' : '%'}'`));
    if (names.has(n)) errs.push(fieldErrors.duplicate(`${path}.resourceNames[${i}]`, n));
    names.add(n);
  });
  return [...errs, ...validateRule(rule, path)];
}

/** validateMatchResources. `requireSelectors` for a policy's matchConstraints (the binding's may leave them out). */
export function validateMatchResources(path: string, m: MatchResources): FieldError[] {
  const errs: FieldError[] = [];
  if (!m.matchPolicy) errs.push(fieldErrors.required(`${path}.matchPolicy`));
  else errs.push(...notSupported(`${path}.matchPolicy`, m.matchPolicy, MATCH_POLICIES));
  if (!m.namespaceSelector) errs.push(fieldErrors.required(`${path}.namespaceSelector`));
  else errs.push(...validateSelector(`${path}.namespaceSelector`, m.namespaceSelector));
  if (!m.objectSelector) errs.push(fieldErrors.required(`${path}.objectSelector`));
  else errs.push(...validateSelector(`${path}.objectSelector`, m.objectSelector));
  (m.resourceRules ?? []).forEach((r, i) => errs.push(...validateNamedRule(r, `${path}.resourceRules[${i}]`)));
  (m.excludeResourceRules ?? []).forEach((r, i) => errs.push(...validateNamedRule(r, `${path}.excludeResourceRules[${i}]`)));
  return errs;
}
