/**
 * Name and label rules with Kubernetes' own messages
 * (k8s.io/apimachinery/pkg/util/validation), so errors read as users know them.
 */
import { fieldErrors, type FieldError } from './field-errors.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const dns1123LabelMessage =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const dns1123SubdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export const dns1035LabelMessage =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  // A valid subdomain that is no label can only be one with dots.
  if (!LABEL.test(value)) errs.push(SUBDOMAIN.test(value) ? 'must not contain dots' : dns1123LabelMessage);
  return errs;
}

/** IsDNS1035Label: a DNS-1123 label that starts with a letter (Service names). */
export function dns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) errs.push(dns1035LabelMessage);
  return errs;
}

const SUBDOMAIN_WITH_UNDERSCORE = /^_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$/;
const dns1123SubdomainWithUnderscoreMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')";

/** A name of at most 253 characters that `pattern` takes, else kube's messages. */
function subdomainErrors(value: string, pattern: RegExp, message: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!pattern.test(value)) errs.push(message);
  return errs;
}

export function dns1123Subdomain(value: string): string[] {
  return subdomainErrors(value, SUBDOMAIN, dns1123SubdomainMessage);
}

/** IsDNS1123SubdomainWithUnderscore: a subdomain whose labels may hold '_' (and start with one), e.g. `_sip._tcp.example.com`. */
export function dns1123SubdomainWithUnderscore(value: string): string[] {
  return subdomainErrors(value, SUBDOMAIN_WITH_UNDERSCORE, dns1123SubdomainWithUnderscoreMessage);
}

const LABEL_KEY_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Label and annotation keys, finalizer names (IsQualifiedName, i.e. IsLabelKey): an optional DNS subdomain prefix and a name. */
export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  let name = value;
  const errs: string[] = [];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    name = rest;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else if (parts.length > 2) {
    return [`a valid label key ${LABEL_KEY_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${LABEL_KEY_RULE}`);
  return errs;
}

const WILDCARD_SUBDOMAIN = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** IsWildcardDNS1123Subdomain: `*.` and a DNS subdomain (Ingress hosts and TLS hosts). */
export function wildcardDns1123Subdomain(value: string): string[] {
  return subdomainErrors(
    value,
    WILDCARD_SUBDOMAIN,
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  );
}

/** path.IsValidPathSegmentName: a name usable as one URL path segment (HPAs, RBAC objects, Ingress backends); every offending character is named. */
export function pathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** IsDomainPrefixedPath (an IngressClass's controller): `<DNS subdomain>/<HTTP path>`, as field errors at `field`. */
export function domainPrefixedPath(field: string, value: string): FieldError[] {
  const [host, path] = [value.slice(0, value.indexOf('/')), value.slice(value.indexOf('/') + 1)];
  if (!value.includes('/') || host === '' || path === '') return [fieldErrors.invalid(field, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = dns1123Subdomain(host).map((msg) => fieldErrors.invalid(field, host, msg));
  if (!HTTP_PATH.test(path)) errs.push(fieldErrors.invalid(field, path, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
  return errs;
}

export function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return errs;
}

export function ianaServiceName(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 15) errs.push('must be no more than 15 characters');
  if (!IANA_SVC_NAME.test(value)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  else if (!/[a-z]/.test(value)) errs.push('must contain at least one letter (a-z)');
  else if (value.includes('--')) errs.push('must not contain consecutive hyphens');
  return errs;
}

export function validateLabels(labels: Record<string, string> | null | undefined, field: string): FieldError[] {
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of qualifiedName(k)) out.push(fieldErrors.invalid(field, k, msg));
    if (typeof v !== 'string') out.push(fieldErrors.typeInvalid(`${field}[${k}]`, v, 'must be a string'));
    else for (const msg of labelValue(v)) out.push(fieldErrors.invalid(field, v, msg));
  }
  return out;
}

export function validateAnnotations(annotations: Record<string, string> | null | undefined, field: string): FieldError[] {
  const out: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const msg of qualifiedName(k.toLowerCase())) out.push(fieldErrors.invalid(field, k, msg));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > 256 * 1024) out.push({ type: 'FieldValueTooLong', field, message: `Too long: may not be more than 262144 bytes` });
  return out;
}

/** Finalizers every object may carry without a domain prefix (core's IsStandardFinalizerName). */
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

/**
 * metadata.finalizers (apimachinery's ValidateFinalizers): qualified names,
 * and not both `orphan` and `foregroundDeletion`.
 */
export function validateFinalizers(finalizers: readonly string[] | null | undefined, field: string): FieldError[] {
  const out: FieldError[] = [];
  const list = finalizers ?? [];
  for (const f of list) for (const msg of qualifiedName(f)) out.push(fieldErrors.invalid(field, f, msg));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    out.push(fieldErrors.invalid(field, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return out;
}

/** A namespace's spec.finalizers (core's validateFinalizerName): qualified, and without a prefix only a standard name. */
export function validateFinalizerName(name: string, field: string): FieldError[] {
  const out = qualifiedName(name).map((msg) => fieldErrors.invalid(field, name, msg));
  if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name)) {
    out.push(fieldErrors.invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return out;
}
