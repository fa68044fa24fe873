/**
 * ValidatingAdmissionPolicy (kube's admission/plugin/policy/validating):
 * each policy whose matchConstraints match the request is evaluated once per
 * binding that matches it, and per param object the binding selects, with
 * `object`, `oldObject`, `request`, `params`, `namespaceObject` and
 * `variables`. A failed validation is acted on as the binding says: Deny
 * refuses (the first denial, with kube's message, reason and code), Warn
 * adds a warning, Audit has no effect (kumo keeps no audit log). An
 * expression that fails to evaluate, or a binding whose params cannot be
 * found, follows the policy's failurePolicy. auditAnnotations are not
 * evaluated (they only feed the audit log).
 */
import type { AdmissionRequest } from '../../api/admission/v1/admissionreview.js';
import type { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, Validation } from '../../api/admissionregistration/v1/validatingadmissionpolicy.js';
import { StatusError, type StatusReason } from '../../api/errors.js';
import type { KObject } from '../../api/object.js';
import { admissionExpression, type AdmissionActivation } from '../../apiextensions/cel-admission.js';
import { admissionRequest, type AdmissionAttributes } from './attributes.js';
import { namedRulesMatch, namespaceSelectorMatches, objectSelectorMatches } from './matching.js';

/** What evaluating policies reads besides the request. */
export interface PolicyContext {
  namespace(name: string): Promise<KObject | undefined>;
  /** The param objects a binding selects: by paramKind, the paramRef and the request's namespace. Throws (a message) when they cannot be read. */
  params(
    paramKind: { apiVersion: string; kind: string },
    ref: NonNullable<ValidatingAdmissionPolicyBinding['spec']>['paramRef'],
    namespace: string,
  ): Promise<KObject[]>;
  warnings: string[];
}

interface Denial {
  policy: string;
  binding: string;
  message: string;
  reason?: string | undefined;
}

const REASON_CODES: Record<string, number> = { Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

async function matchResources(
  m: NonNullable<ValidatingAdmissionPolicy['spec']>['matchConstraints'],
  attrs: AdmissionAttributes,
  ctx: PolicyContext,
  requireRules: boolean,
): Promise<boolean> {
  if (!m) return !requireRules;
  const include = m.resourceRules ?? [];
  if ((requireRules || include.length > 0) && !namedRulesMatch(include, m.excludeResourceRules ?? [], attrs, m.matchPolicy)) return false;
  if (!requireRules && include.length === 0 && namedRulesMatch(m.excludeResourceRules ?? [], [], attrs, m.matchPolicy)) return false;
  if (!objectSelectorMatches(m.objectSelector, attrs)) return false;
  return namespaceSelectorMatches(m.namespaceSelector, attrs, async (n) => (await ctx.namespace(n))?.metadata.labels ?? undefined);
}

/** Why a validation failed, as kube words it: messageExpression, else message, else the expression. */
function failureMessage(v: Validation, activation: AdmissionActivation): string {
  if (v.messageExpression) {
    try {
      const m = admissionExpression(v.messageExpression).evaluate(activation);
      if (typeof m === 'string' && m.trim() !== '' && !m.includes('\n')) return m.trim();
    } catch {
      // kube falls back to message when messageExpression fails.
    }
  }
  return v.message ? v.message.trim() : `failed expression: ${(v.expression ?? '').trim()}`;
}

/**
 * One policy under one binding with one params object: the denials it
 * produces (Deny) after its warnings were added (Warn). `fail` is the
 * policy's failurePolicy: an evaluation error denies under Fail.
 */
function evaluate(policy: ValidatingAdmissionPolicy, binding: ValidatingAdmissionPolicyBinding, base: AdmissionActivation, ctx: PolicyContext): Denial[] {
  const spec = policy.spec ?? {};
  const fail = spec.failurePolicy !== 'Ignore';
  const policyName = policy.metadata.name ?? '';
  const bindingName = binding.metadata.name ?? '';
  const actions = binding.spec?.validationActions ?? [];
  const variables: Record<string, unknown> = {};
  const activation: AdmissionActivation = { ...base, variables };
  const errorDenial = (message: string): Denial[] => (fail ? [{ policy: policyName, binding: bindingName, message }] : []);
  for (const c of spec.matchConditions ?? []) {
    try {
      if (admissionExpression(c.expression ?? '').evaluate(activation) === false) return [];
    } catch (e) {
      return errorDenial((e as Error).message);
    }
  }
  for (const v of spec.variables ?? []) {
    try {
      // Values stay CEL values: later expressions read them as they were computed.
      variables[v.name ?? ''] = admissionExpression(v.expression ?? '').evaluate(activation);
    } catch {
      // A variable that fails is absent: an expression that reads it fails (and follows failurePolicy).
    }
  }
  const denials: Denial[] = [];
  for (const v of spec.validations ?? []) {
    let ok: unknown;
    try {
      ok = admissionExpression(v.expression ?? '').evaluate(activation);
    } catch (e) {
      denials.push(...errorDenial((e as Error).message));
      continue;
    }
    if (ok === true) continue;
    const message = failureMessage(v, activation);
    if (actions.includes('Deny')) denials.push({ policy: policyName, binding: bindingName, message, reason: v.reason ?? undefined });
    if (actions.includes('Warn'))
      ctx.warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}': ${message}`);
  }
  return denials;
}

/** The Status of the first denial, as kube builds it (admission.NewForbidden with the validation's reason and its code). */
function refusal(d: Denial, attrs: AdmissionAttributes): StatusError {
  const message = `ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}' denied request: ${d.message}`;
  const reason = (d.reason || 'Invalid') as StatusReason;
  const { group, resource } = attrs.rt;
  const qualified = group ? `${resource}.${group}` : resource;
  return new StatusError(REASON_CODES[reason] ?? 422, reason, `${qualified} "${attrs.name}" is forbidden: ${message}`, {
    name: attrs.name,
    ...(group ? { group } : {}),
    kind: resource,
    causes: [{ message }],
  });
}

/** Evaluates every policy bound and matching; throws the first denial. */
export async function dispatchPolicies(
  policies: readonly ValidatingAdmissionPolicy[],
  bindings: readonly ValidatingAdmissionPolicyBinding[],
  attrs: AdmissionAttributes,
  ctx: PolicyContext,
): Promise<void> {
  let request: AdmissionRequest | undefined;
  let namespaceObject: KObject | undefined;
  const denials: Denial[] = [];
  for (const policy of [...policies].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
    const spec = policy.spec ?? {};
    const bound = bindings.filter((b) => b.spec?.policyName === policy.metadata.name);
    if (bound.length === 0 || !(await matchResources(spec.matchConstraints, attrs, ctx, true))) continue;
    for (const binding of bound) {
      if (!(await matchResources(binding.spec?.matchResources, attrs, ctx, false))) continue;
      request ??= admissionRequest(attrs, '');
      const isNamespace = attrs.rt.group === '' && attrs.rt.resource === 'namespaces';
      if (attrs.namespace && !isNamespace && namespaceObject === undefined) namespaceObject = await ctx.namespace(attrs.namespace);
      let params: (KObject | null)[] = [null];
      if (spec.paramKind) {
        const configError = (why: string) =>
          spec.failurePolicy === 'Ignore'
            ? []
            : [{ policy: policy.metadata.name ?? '', binding: binding.metadata.name ?? '', message: `failed to configure binding: ${why}` }];
        const ref = binding.spec?.paramRef;
        if (!ref) {
          denials.push(...configError('paramRef is required when paramKind is specified'));
          continue;
        }
        try {
          params = await ctx.params({ apiVersion: spec.paramKind.apiVersion ?? '', kind: spec.paramKind.kind ?? '' }, ref, attrs.namespace);
        } catch (e) {
          denials.push(...configError((e as Error).message));
          continue;
        }
        if (params.length === 0) {
          if (ref.parameterNotFoundAction === 'Deny') denials.push(...configError('no params found for policy binding with `Deny` parameterNotFoundAction'));
          continue;
        }
      }
      for (const p of params) {
        const base: AdmissionActivation = { object: attrs.object, oldObject: attrs.oldObject, request, params: p, namespaceObject };
        denials.push(...evaluate(policy, binding, base, ctx));
      }
    }
  }
  if (denials.length > 0) throw refusal(denials[0]!, attrs);
}
