/**
 * Validation of a CustomResourceDefinition with kube-apiserver's field paths
 * and messages (pkg/apis/apiextensions/validation/validation.go).
 *
 * kube validates its internal form of the CRD: when every version declares
 * the same schema (or subresources, printer columns, selectable fields), that
 * value is moved up to spec.validation (spec.subresources, ...) before
 * validation, so errors about it are reported there
 * (`spec.validation.openAPIV3Schema.properties[spec].type`); versions that
 * differ are reported under `spec.versions[i].schema...`. toInternal does the
 * same here.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { dns1035Label, dns1123Subdomain } from '../api/validation.js';
import { deepEqual } from '../util/json.js';
import { validateWebhookService, validateWebhookURL } from '../api/webhook-client-validation.js';
import { resolveFieldPath } from './field-path.js';
import { child, index, key } from './paths.js';
import { validateCRDSchema } from './schema-validation.js';
import {
  KUBE_API_APPROVED_ANNOTATION,
  type CustomResourceColumnDefinition,
  type CustomResourceDefinition,
  type CustomResourceDefinitionNames,
  type CustomResourceDefinitionVersion,
  type CustomResourceSubresources,
  type JSONSchemaProps,
  type SelectableField,
} from './types.js';

const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const PRINTER_COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const ACCEPTED_CONVERSION_REVIEW_VERSIONS = ['v1', 'v1beta1'];
/** At most this many selectable fields per version (validation.MaxSelectableFields). */
export const MAX_SELECTABLE_FIELDS = 8;

type Version = CustomResourceDefinitionVersion;

/** The internal form kube validates: per-version values hoisted to the spec when all versions agree. */
interface InternalSpec {
  versions: Version[];
  validation?: { openAPIV3Schema?: JSONSchemaProps | null } | null;
  subresources?: CustomResourceSubresources | null;
  additionalPrinterColumns?: CustomResourceColumnDefinition[] | null;
  selectableFields?: SelectableField[] | null;
}

function toInternal(versions: readonly CustomResourceDefinitionVersion[]): InternalSpec {
  const out: InternalSpec = { versions: versions.map((v) => ({ ...v })) };
  if (versions.length === 0) return out;
  const hoist = <K extends 'schema' | 'subresources' | 'additionalPrinterColumns' | 'selectableFields'>(k: K, into: keyof InternalSpec) => {
    const first = versions[0]![k];
    if (!versions.every((v) => deepEqual(v[k], first))) return;
    (out as unknown as Record<string, unknown>)[into] = first;
    for (const v of out.versions) delete v[k];
  };
  hoist('schema', 'validation');
  hoist('subresources', 'subresources');
  hoist('additionalPrinterColumns', 'additionalPrinterColumns');
  hoist('selectableFields', 'selectableFields');
  return out;
}

export interface ValidateOptions {
  /** The CRD being replaced, on update: some fields become immutable once it is Established. */
  old?: CustomResourceDefinition;
}

/** The CRD's errors, empty when it may be stored. Expects defaults applied (defaultCustomResourceDefinition). */
export function validateCustomResourceDefinition(crd: CustomResourceDefinition, opts: ValidateOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec;
  const names = spec.names ?? {};
  const name = crd.metadata.name ?? '';
  if (name && !opts.old) {
    for (const msg of dns1123Subdomain(name)) errs.push(fieldErrors.invalid('metadata.name', name, msg));
    if (name !== `${names.plural ?? ''}.${spec.group ?? ''}`) errs.push(fieldErrors.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  errs.push(...validateSpec(crd));
  if (opts.old) errs.push(...validateSpecUpdate(crd, opts.old));
  errs.push(...validateNames(crd.status?.acceptedNames ?? {}, 'status.acceptedNames'));
  errs.push(...validateStoredVersions(crd.status?.storedVersions ?? [], spec.versions ?? []));
  errs.push(...validateAPIApproval(crd, opts.old));
  if (spec.preserveUnknownFields && !opts.old?.spec.preserveUnknownFields) {
    errs.push(
      fieldErrors.invalid(
        'spec.preserveUnknownFields',
        true,
        'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
      ),
    );
  }
  return errs;
}

/** Whether the CRD's Established condition is True. */
export function isEstablished(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

function validateSpecUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const immutable = (path: string, now: unknown, before: unknown) => {
    if (!deepEqual(now, before)) errs.push(fieldErrors.invalid(path, now, 'field is immutable'));
  };
  if (isEstablished(old)) {
    immutable('spec.scope', crd.spec.scope, old.spec.scope);
    immutable('spec.names.kind', crd.spec.names?.kind, old.spec.names?.kind);
  }
  immutable('spec.group', crd.spec.group, old.spec.group);
  immutable('spec.names.plural', crd.spec.names?.plural, old.spec.names?.plural);
  return errs;
}

function hasStatus(s: CustomResourceSubresources | null | undefined): boolean {
  return s?.status != null;
}

function validateSpec(crd: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec;
  const errs: FieldError[] = [];
  const group = spec.group ?? '';
  if (!group) errs.push(fieldErrors.required('spec.group'));
  else {
    const groupErrs = dns1123Subdomain(group);
    if (groupErrs.length > 0) errs.push(fieldErrors.invalid('spec.group', group, groupErrs.join(',')));
    else if (group.split('.').length < 2) errs.push(fieldErrors.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const scope = spec.scope ?? '';
  if (!scope) errs.push(fieldErrors.required('spec.scope'));
  else if (scope !== 'Cluster' && scope !== 'Namespaced') errs.push(fieldErrors.notSupported('spec.scope', scope, ['Cluster', 'Namespaced']));

  const versions = spec.versions ?? [];
  const internal = toInternal(versions);
  if (!internal.validation?.openAPIV3Schema) {
    internal.versions.forEach((v, i) => {
      if (!v.schema?.openAPIV3Schema) errs.push(fieldErrors.required(child(index('spec.versions', i), 'schema', 'openAPIV3Schema')));
    });
  }
  const anyStatus = hasStatus(internal.subresources) || internal.versions.some((v) => hasStatus(v.subresources));
  let storage = 0;
  const seen = new Set<string>();
  let unique = true;
  internal.versions.forEach((v, i) => {
    const path = index('spec.versions', i);
    if (v.storage) storage++;
    const vname = v.name ?? '';
    if (seen.has(vname)) unique = false;
    seen.add(vname);
    const nameErrs = dns1035Label(vname);
    if (nameErrs.length > 0) errs.push(fieldErrors.invalid(child(path, 'name'), vname, nameErrs.join(',')));
    const statusEnabled = hasStatus(internal.subresources ?? v.subresources);
    errs.push(...validateVersion(v, path, statusEnabled));
  });
  if (!unique) errs.push(fieldErrors.invalid('spec.versions', versions, 'must contain unique version names'));
  if (storage !== 1) errs.push(fieldErrors.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));

  const names = spec.names ?? {};
  for (const f of ['plural', 'singular', 'kind', 'listKind'] as const) if (!names[f]) errs.push(fieldErrors.required(child('spec.names', f)));
  errs.push(...validateNames(names, 'spec.names'));
  errs.push(...validateCRDSchema(internal.validation?.openAPIV3Schema, anyStatus, 'spec.validation'));
  errs.push(...validateSubresources(internal.subresources, 'spec.subresources'));
  (internal.additionalPrinterColumns ?? []).forEach((c, i) => errs.push(...validateColumn(c, index('spec.additionalPrinterColumns', i))));
  if ((internal.selectableFields ?? []).length > 0) {
    const schema = internal.validation?.openAPIV3Schema;
    if (!schema) errs.push(fieldErrors.invalid('spec.selectableFields', '', 'may only be set when validations.schema is included'));
    else errs.push(...validateSelectableFields(internal.selectableFields ?? [], schema, 'spec.selectableFields'));
  }
  errs.push(...validateConversion(crd));
  return errs;
}

function validateVersion(v: Version, path: string, statusEnabled: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const warning = v.deprecationWarning;
  if (warning != null) {
    const at = child(path, 'deprecationWarning');
    if (!v.deprecated) errs.push(fieldErrors.invalid(at, warning, 'can only be set for deprecated versions'));
    if (warning.length > 256) errs.push(fieldErrors.invalid(at, warning, 'must be <= 256 characters long'));
    if (warning.length === 0) errs.push(fieldErrors.invalid(at, warning, 'must not be an empty string'));
    const bad = [...warning].findIndex((ch) => /\p{C}/u.test(ch));
    if (bad >= 0) errs.push(fieldErrors.invalid(at, warning, `must only contain printable UTF-8 characters; non-printable character found at index ${bad}`));
  }
  errs.push(...validateCRDSchema(v.schema?.openAPIV3Schema, statusEnabled, child(path, 'schema')));
  errs.push(...validateSubresources(v.subresources, child(path, 'subresources')));
  (v.additionalPrinterColumns ?? []).forEach((c, i) => errs.push(...validateColumn(c, index(child(path, 'additionalPrinterColumns'), i))));
  if ((v.selectableFields ?? []).length > 0) {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) errs.push(fieldErrors.invalid(child(path, 'selectableFields'), '', 'may only be set when `version.schema.openAPIV3Schema` is not included'));
    else errs.push(...validateSelectableFields(v.selectableFields ?? [], schema, child(path, 'selectableFields')));
  }
  return errs;
}

function validateNames(names: CustomResourceDefinitionNames, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const check = (f: 'plural' | 'singular', v: string | undefined) => {
    const e = v ? dns1035Label(v) : [];
    if (e.length > 0) errs.push(fieldErrors.invalid(child(path, f), v, e.join(',')));
  };
  check('plural', names.plural);
  check('singular', names.singular);
  for (const f of ['kind', 'listKind'] as const) {
    const v = names[f];
    const e = v ? dns1035Label(v.toLowerCase()) : [];
    if (e.length > 0) errs.push(fieldErrors.invalid(child(path, f), v, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  }
  (names.shortNames ?? []).forEach((s, i) => {
    const e = dns1035Label(s);
    if (e.length > 0) errs.push(fieldErrors.invalid(index(child(path, 'shortNames'), i), s, e.join(',')));
  });
  if (names.kind && names.kind === names.listKind)
    errs.push(fieldErrors.invalid(child(path, 'listKind'), names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((c, i) => {
    const e = dns1035Label(c);
    if (e.length > 0) errs.push(fieldErrors.invalid(index(child(path, 'categories'), i), c, e.join(',')));
  });
  return errs;
}

function validateSimpleJSONPath(s: string, path: string): FieldError[] {
  if (s.length === 0) return [fieldErrors.invalid(path, s, 'must not be empty')];
  if (!s.startsWith('.')) return [fieldErrors.invalid(path, s, 'must be a simple json path starting with .')];
  return [];
}

function validateSubresources(sub: CustomResourceSubresources | null | undefined, path: string): FieldError[] {
  const scale = sub?.scale;
  if (!scale) return [];
  const errs: FieldError[] = [];
  const check = (f: 'specReplicasPath' | 'statusReplicasPath', prefix: string, detail: string) => {
    const at = child(path, `scale.${f}`);
    const v = scale[f] ?? '';
    if (!v) errs.push(fieldErrors.required(at));
    else {
      const e = validateSimpleJSONPath(v, at);
      if (e.length > 0) errs.push(...e);
      else if (!v.startsWith(prefix)) errs.push(fieldErrors.invalid(at, v, detail));
    }
  };
  check('specReplicasPath', '.spec.', 'should be a json path under .spec');
  check('statusReplicasPath', '.status.', 'should be a json path under .status');
  const selector = scale.labelSelectorPath;
  if (selector) {
    const at = child(path, 'scale.labelSelectorPath');
    const e = validateSimpleJSONPath(selector, at);
    if (e.length > 0) errs.push(...e);
    else if (!selector.startsWith('.spec.') && !selector.startsWith('.status.'))
      errs.push(fieldErrors.invalid(at, selector, 'should be a json path under either .spec or .status'));
  }
  return errs;
}

function validateColumn(c: CustomResourceColumnDefinition, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(fieldErrors.required(child(path, 'name')));
  const types = `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`;
  if (!c.type) errs.push(fieldErrors.required(child(path, 'type'), types));
  else if (!PRINTER_COLUMN_TYPES.includes(c.type)) errs.push(fieldErrors.invalid(child(path, 'type'), c.type, types));
  if (c.format && !PRINTER_COLUMN_FORMATS.includes(c.format))
    errs.push(fieldErrors.invalid(child(path, 'format'), c.format, `must be one of ${PRINTER_COLUMN_FORMATS.join(',')}`));
  // kube names the field as its internal type does: JSONPath.
  if (!c.jsonPath) errs.push(fieldErrors.required(child(path, 'JSONPath')));
  else errs.push(...validateSimpleJSONPath(c.jsonPath, child(path, 'JSONPath')));
  return errs;
}

function validateSelectableFields(fields: SelectableField[], schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Set<string>();
  fields.forEach((f, i) => {
    const at = child(index(path, i), 'jsonPath');
    if (!f.jsonPath) {
      errs.push(fieldErrors.required(at));
      return;
    }
    const r = resolveFieldPath(f.jsonPath, schema, false);
    if (r.error) {
      errs.push(fieldErrors.invalid(at, f.jsonPath, `is an invalid path: ${r.error}`));
      return;
    }
    if (r.root === 'metadata') errs.push(fieldErrors.invalid(at, f.jsonPath, 'must not point to fields in metadata'));
    if (!['string', 'boolean', 'integer'].includes(r.schema?.type ?? '')) {
      errs.push(
        fieldErrors.invalid(
          at,
          f.jsonPath,
          'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
        ),
      );
    }
    if (unique.has(f.jsonPath)) errs.push(fieldErrors.duplicate(at, f.jsonPath));
    unique.add(f.jsonPath);
  });
  if (unique.size > MAX_SELECTABLE_FIELDS) errs.push(fieldErrors.tooMany(path, unique.size, MAX_SELECTABLE_FIELDS));
  return errs;
}

/** Conversion: None, or Webhook with one of url or service and an accepted ConversionReview version. */
function validateConversion(crd: CustomResourceDefinition): FieldError[] {
  const conversion = crd.spec.conversion;
  if (!conversion) return [];
  const errs: FieldError[] = [];
  const strategy = conversion.strategy ?? '';
  if (strategy && strategy !== 'None' && crd.spec.preserveUnknownFields) {
    errs.push(fieldErrors.invalid('spec.conversion.strategy', strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  if (!strategy) errs.push(fieldErrors.required('spec.conversion.strategy'));
  else if (strategy !== 'None' && strategy !== 'Webhook') errs.push(fieldErrors.notSupported('spec.conversion.strategy', strategy, ['None', 'Webhook']));
  // kube's internal form puts webhook.clientConfig at webhookClientConfig and webhook.conversionReviewVersions beside it.
  const cc = conversion.webhook?.clientConfig;
  const reviewVersions = conversion.webhook?.conversionReviewVersions ?? [];
  if (strategy === 'Webhook') {
    if (!cc) errs.push(fieldErrors.required('spec.conversion.webhookClientConfig', 'required when strategy is set to Webhook'));
    else if ((cc.url == null) === (cc.service == null))
      errs.push(fieldErrors.required('spec.conversion.webhookClientConfig', 'exactly one of url or service is required'));
    else if (cc.url != null) errs.push(...validateWebhookURL(cc.url, 'spec.conversion.webhookClientConfig.url'));
    else if (cc.service) errs.push(...validateWebhookService(cc.service, 'spec.conversion.webhookClientConfig.service'));
    errs.push(...validateReviewVersions(reviewVersions, 'spec.conversion.conversionReviewVersions'));
  } else {
    if (cc) errs.push(fieldErrors.forbidden('spec.conversion.webhookClientConfig', 'should not be set when strategy is not set to Webhook'));
    if (reviewVersions.length > 0)
      errs.push(fieldErrors.forbidden('spec.conversion.conversionReviewVersions', 'should not be set when strategy is not set to Webhook'));
  }
  return errs;
}

function validateReviewVersions(versions: string[], path: string): FieldError[] {
  if (versions.length === 0) return [fieldErrors.required(path)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (seen.has(v)) {
      errs.push(fieldErrors.invalid(index(path, i), v, 'duplicate version'));
      return;
    }
    seen.add(v);
    for (const msg of dns1035Label(v)) errs.push(fieldErrors.invalid(index(path, i), v, msg));
  });
  if (!versions.some((v) => ACCEPTED_CONVERSION_REVIEW_VERSIONS.includes(v))) {
    errs.push(fieldErrors.invalid(path, versions, `must include at least one of ${ACCEPTED_CONVERSION_REVIEW_VERSIONS.join(', ')}`));
  }
  return errs;
}

function validateStoredVersions(stored: string[], versions: readonly CustomResourceDefinitionVersion[]): FieldError[] {
  const path = 'status.storedVersions';
  if (stored.length === 0) return [fieldErrors.invalid(path, stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of versions) {
    const has = remaining.has(v.name ?? '');
    if (v.storage && !has) errs.push(fieldErrors.invalid(path, stored, `must have the storage version ${v.name ?? ''}`));
    remaining.delete(v.name ?? '');
  }
  for (const [v, i] of remaining) {
    errs.push(
      fieldErrors.invalid(
        index(path, i),
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return errs;
}

/** kube's own groups (`k8s.io`, `kubernetes.io` and their subdomains) need an approval annotation. */
export function isProtectedCommunityGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

type Approval = 'invalid' | 'approved' | 'bypassed' | 'missing';

function approvalState(annotations: Record<string, string> | null | undefined): { state: Approval; reason: string } {
  const value = annotations?.[KUBE_API_APPROVED_ANNOTATION] ?? '';
  if (!value) {
    return {
      state: 'missing',
      reason: `protected groups must have approval annotation "${KUBE_API_APPROVED_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`,
    };
  }
  if (value.startsWith('unapproved')) return { state: 'bypassed', reason: `not approved: "${value}"` };
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.host && url.protocol) return { state: 'approved', reason: `approved in ${value}` };
  return {
    state: 'invalid',
    reason: `protected groups must have approval annotation "${KUBE_API_APPROVED_ANNOTATION}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
  };
}

function validateAPIApproval(crd: CustomResourceDefinition, old: CustomResourceDefinition | undefined): FieldError[] {
  if (!isProtectedCommunityGroup(crd.spec.group ?? '')) return [];
  const now = approvalState(crd.metadata.annotations);
  if (old && approvalState(old.metadata.annotations).state === now.state) return [];
  const path = key('metadata.annotations', KUBE_API_APPROVED_ANNOTATION);
  if (now.state === 'missing') return [fieldErrors.required(path, now.reason)];
  if (now.state === 'invalid') return [fieldErrors.invalid(path, crd.metadata.annotations?.[KUBE_API_APPROVED_ANNOTATION] ?? '', now.reason)];
  return [];
}
