/**
 * ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
 * (admissionregistration.k8s.io/v1): cluster-scoped CEL policies and the
 * bindings that apply them, after kube's
 * pkg/registry/admissionregistration/validatingadmissionpolicy{,binding}:
 * v1 defaults, validation with its messages (expressions compiled in the
 * admission CEL environment), kubectl's columns. status.typeChecking is
 * left empty: kumo's CEL is dynamically typed (docs/webhooks.md).
 */
import type { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from '../api/admissionregistration/v1/validatingadmissionpolicy.js';
import { ValidatingAdmissionPolicyBindingSchema, ValidatingAdmissionPolicySchema } from '../api/admissionregistration/v1/validatingadmissionpolicy.js';
import { checkAdmissionExpression } from '../apiextensions/cel-admission.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { dns1035Label, dns1123Subdomain, qualifiedName } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { defineKind } from './kind.js';
import { ADMISSION_REGISTRATION } from './webhookconfiguration.js';
import type { Strategy } from './strategy.js';
import {
  defaultMatchResources,
  FAILURE_POLICIES,
  validateMatchConditions,
  validateMatchResources,
  validateSelector,
} from './validation/admissionregistration.js';

const VALIDATION_ACTIONS = ['Audit', 'Deny', 'Warn'] as const;
const REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge'] as const;
const PARAM_NOT_FOUND_ACTIONS = ['Allow', 'Deny'] as const;
const CEL_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

function checked(path: string, expr: string, want: 'bool' | 'string' | 'any'): FieldError[] {
  const why = checkAdmissionExpression(expr, want);
  return why ? [fieldErrors.invalid(path, expr, why)] : [];
}

/** validateParamKind. */
function validateParamKind(path: string, apiVersion: string, kind: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!apiVersion) errs.push(fieldErrors.required(`${path}.apiVersion`));
  else {
    const parts = apiVersion.split('/');
    if (parts.length > 2) errs.push(fieldErrors.invalid(`${path}.apiVersion`, apiVersion, `unexpected GroupVersion string: ${apiVersion}`));
    else {
      const [group, version] = parts.length === 2 ? parts : ['', parts[0]!];
      if (group) {
        const e = dns1123Subdomain(group!);
        if (e.length > 0) errs.push(fieldErrors.invalid(`${path}.apiVersion`, group, e.join(',')));
      }
      if (!version) errs.push(fieldErrors.invalid(`${path}.apiVersion`, apiVersion, 'version must be specified'));
      else {
        const e = dns1035Label(version);
        if (e.length > 0) errs.push(fieldErrors.invalid(`${path}.apiVersion`, version, e.join(',')));
      }
    }
  }
  if (!kind) errs.push(fieldErrors.required(`${path}.kind`));
  else {
    const e = dns1035Label(kind.toLowerCase());
    if (e.length > 0) errs.push(fieldErrors.invalid(`${path}.kind`, kind, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  }
  return errs;
}

const policyStrategy: Strategy = {
  defaults(obj) {
    const p = obj as ValidatingAdmissionPolicy;
    p.spec ??= {};
    p.spec.failurePolicy ??= 'Fail';
    defaultMatchResources(p.spec.matchConstraints);
  },
  prepareForCreate(obj) {
    delete (obj as ValidatingAdmissionPolicy).status;
  },
  validate(obj) {
    const spec = (obj as ValidatingAdmissionPolicy).spec ?? {};
    const errs: FieldError[] = [];
    if (!spec.failurePolicy) errs.push(fieldErrors.required('spec.failurePolicy'));
    else if (!(FAILURE_POLICIES as readonly string[]).includes(spec.failurePolicy))
      errs.push(fieldErrors.notSupported('spec.failurePolicy', spec.failurePolicy, FAILURE_POLICIES));
    if (spec.paramKind) errs.push(...validateParamKind('spec.paramKind', spec.paramKind.apiVersion ?? '', spec.paramKind.kind ?? ''));
    if (!spec.matchConstraints) errs.push(fieldErrors.required('spec.matchConstraints'));
    else {
      errs.push(...validateMatchResources('spec.matchConstraints', spec.matchConstraints));
      if ((spec.matchConstraints.resourceRules ?? []).length === 0) errs.push(fieldErrors.required('spec.matchConstraints.resourceRules'));
    }
    errs.push(...validateMatchConditions('spec.matchConditions', spec.matchConditions ?? [], (e) => checkAdmissionExpression(e, 'bool')));
    (spec.variables ?? []).forEach((v, i) => {
      const path = `spec.variables[${i}]`;
      const name = (v.name ?? '').trim();
      if (!name) errs.push(fieldErrors.required(`${path}.name`, 'name is not specified'));
      else if (!CEL_IDENTIFIER.test(v.name ?? '')) errs.push(fieldErrors.invalid(`${path}.name`, v.name, 'name is not a valid CEL identifier'));
      if (!(v.expression ?? '').trim()) errs.push(fieldErrors.required(`${path}.expression`, 'expression is not specified'));
      else errs.push(...checked(`${path}.expression`, v.expression!, 'any'));
    });
    const validations = spec.validations ?? [];
    if (validations.length === 0 && (spec.auditAnnotations ?? []).length === 0) {
      errs.push(fieldErrors.required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
      errs.push(fieldErrors.required('spec.auditAnnotations', 'validations or auditAnnotations must contain at least one item'));
    }
    validations.forEach((v, i) => {
      const path = `spec.validations[${i}]`;
      if (!(v.expression ?? '').trim()) errs.push(fieldErrors.required(`${path}.expression`, 'expression is not specified'));
      else errs.push(...checked(`${path}.expression`, v.expression!, 'bool'));
      const me = v.messageExpression ?? '';
      if (me.length > 0 && !me.trim()) errs.push(fieldErrors.invalid(`${path}.messageExpression`, me, 'must be non-empty if specified'));
      else if (me.trim()) errs.push(...checked(`${path}.messageExpression`, me, 'string'));
      const msg = v.message ?? '';
      if (msg.length > 0 && !msg.trim()) errs.push(fieldErrors.invalid(`${path}.message`, msg, 'message must be non-empty if specified'));
      else if (/[\n\r]/.test(msg.trim())) errs.push(fieldErrors.invalid(`${path}.message`, msg, 'message must not contain line breaks'));
      if (v.reason !== undefined && v.reason !== null && !(REASONS as readonly string[]).includes(v.reason))
        errs.push(fieldErrors.notSupported(`${path}.reason`, v.reason, REASONS));
    });
    const keys = new Set<string>();
    (spec.auditAnnotations ?? []).forEach((a, i) => {
      const path = `spec.auditAnnotations[${i}]`;
      const key = a.key ?? '';
      for (const e of qualifiedName(`${obj.metadata.name ?? ''}/${key}`)) errs.push(fieldErrors.invalid(`${path}.key`, key, e));
      if (keys.has(key)) errs.push(fieldErrors.duplicate(`${path}.key`, key));
      keys.add(key);
      if (!(a.valueExpression ?? '').trim()) errs.push(fieldErrors.required(`${path}.valueExpression`, 'valueExpression is not specified'));
      else errs.push(...checked(`${path}.valueExpression`, a.valueExpression!, 'any'));
    });
    return errs;
  },
};

const bindingStrategy: Strategy = {
  defaults(obj) {
    defaultMatchResources((obj as ValidatingAdmissionPolicyBinding).spec?.matchResources);
  },
  validate(obj) {
    const spec = (obj as ValidatingAdmissionPolicyBinding).spec ?? {};
    const errs: FieldError[] = [];
    if (!spec.policyName) errs.push(fieldErrors.required('spec.policyName'));
    else for (const e of dns1123Subdomain(spec.policyName)) errs.push(fieldErrors.invalid('spec.policyName', spec.policyName, e));
    const ref = spec.paramRef;
    if (ref) {
      if (ref.name && ref.selector) errs.push(fieldErrors.forbidden('spec.paramRef.name', 'name and selector are mutually exclusive'));
      if (!ref.name && !ref.selector) errs.push(fieldErrors.required('spec.paramRef', 'one of name or selector must be specified'));
      if (ref.name) for (const e of dns1123Subdomain(ref.name)) errs.push(fieldErrors.invalid('spec.paramRef.name', ref.name, e));
      errs.push(...validateSelector('spec.paramRef.selector', ref.selector));
      if (!ref.parameterNotFoundAction) errs.push(fieldErrors.required('spec.paramRef.parameterNotFoundAction'));
      else if (!(PARAM_NOT_FOUND_ACTIONS as readonly string[]).includes(ref.parameterNotFoundAction))
        errs.push(fieldErrors.notSupported('spec.paramRef.parameterNotFoundAction', ref.parameterNotFoundAction, PARAM_NOT_FOUND_ACTIONS));
    }
    if (spec.matchResources) errs.push(...validateMatchResources('spec.matchResources', spec.matchResources));
    // validateValidationActions
    const actions = spec.validationActions ?? [];
    const seen = new Set<string>();
    actions.forEach((a, i) => {
      if (!(VALIDATION_ACTIONS as readonly string[]).includes(a)) errs.push(fieldErrors.notSupported(`spec.validationActions[${i}]`, a, VALIDATION_ACTIONS));
      if (seen.has(a)) errs.push(fieldErrors.duplicate(`spec.validationActions[${i}]`, a));
      seen.add(a);
    });
    if (seen.has('Deny') && seen.has('Warn')) {
      errs.push(
        fieldErrors.invalid(
          'spec.validationActions',
          actions,
          'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
        ),
      );
    }
    if (seen.size === 0) errs.push(fieldErrors.required('spec.validationActions', 'at least one validation action is required'));
    return errs;
  },
};

/** printValidatingAdmissionPolicy: NAME VALIDATIONS PARAMKIND AGE. */
const policyPrinter: Printer = {
  columns: [NAME, col('Validations', 'integer'), col('ParamKind'), AGE],
  row(obj, now) {
    const spec = (obj as ValidatingAdmissionPolicy).spec ?? {};
    const pk = spec.paramKind;
    return [
      obj.metadata.name ?? '',
      (spec.validations ?? []).length,
      pk ? `${pk.apiVersion ?? ''}/${pk.kind ?? ''}` : '<unset>',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

/** printValidatingAdmissionPolicyBinding: NAME POLICYNAME PARAMREF AGE. */
const bindingPrinter: Printer = {
  columns: [NAME, col('PolicyName'), col('ParamRef'), AGE],
  row(obj, now) {
    const spec = (obj as ValidatingAdmissionPolicyBinding).spec ?? {};
    const ref = spec.paramRef;
    const refText = !ref ? '<unset>' : ref.namespace ? `${ref.namespace}/${ref.name ?? '*'}` : (ref.name ?? '*');
    return [obj.metadata.name ?? '', spec.policyName ?? '', refText, age(obj.metadata.creationTimestamp, now)];
  },
};

export const validatingAdmissionPolicyKind = defineKind({
  ...ADMISSION_REGISTRATION,
  kind: 'ValidatingAdmissionPolicy',
  resource: 'validatingadmissionpolicies',
  schema: ValidatingAdmissionPolicySchema,
  subresources: ['status'],
  strategy: policyStrategy,
  printer: policyPrinter,
});

export const validatingAdmissionPolicyBindingKind = defineKind({
  ...ADMISSION_REGISTRATION,
  kind: 'ValidatingAdmissionPolicyBinding',
  resource: 'validatingadmissionpolicybindings',
  schema: ValidatingAdmissionPolicyBindingSchema,
  subresources: [],
  strategy: bindingStrategy,
  printer: bindingPrinter,
});
