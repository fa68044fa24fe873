/**
 * How a webhook is addressed, validated as k8s.io/apiserver's
 * util/webhook/validation.go does (ValidateWebhookURL with https forced,
 * ValidateWebhookService), with its messages: for admission webhook
 * configurations and CRD conversion webhooks alike.
 */
import { fieldErrors, type FieldError } from './field-errors.js';
import { dns1123Subdomain } from './validation.js';

/** ValidateWebhookURL(forceHttps = true). */
export function validateWebhookURL(raw: string, path: string): FieldError[] {
  const form = '; desired format: https://host[/path]';
  let u: URL;
  try {
    u = new URL(raw);
  } catch (e) {
    return [fieldErrors.required(path, `url must be a valid URL: ${(e as Error).message}${form}`)];
  }
  const errs: FieldError[] = [];
  if (u.protocol !== 'https:') errs.push(fieldErrors.invalid(path, u.protocol.replace(/:$/, ''), `'https' is the only allowed URL scheme${form}`));
  if (!u.host) errs.push(fieldErrors.invalid(path, u.host, `host must be specified${form}`));
  if (u.username || u.password) errs.push(fieldErrors.invalid(path, u.username, 'user information is not permitted in the URL'));
  if (raw.includes('#')) errs.push(fieldErrors.invalid(path, u.hash.slice(1), 'fragments are not permitted in the URL'));
  if (u.search) errs.push(fieldErrors.invalid(path, u.search.slice(1), 'query parameters are not permitted in the URL'));
  return errs;
}

/** ValidateWebhookService: a name, a namespace, a valid port (default 443) and a path of DNS-subdomain segments. */
export function validateWebhookService(
  svc: { namespace?: string | null; name?: string | null; path?: string | null; port?: number | null },
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!svc.name) errs.push(fieldErrors.required(`${path}.name`, 'service name is required'));
  if (!svc.namespace) errs.push(fieldErrors.required(`${path}.namespace`, 'service namespace is required'));
  const port = svc.port ?? 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    errs.push(fieldErrors.invalid(`${path}.port`, port, 'port is not valid: must be between 1 and 65535, inclusive'));
  const p = svc.path;
  if (p === null || p === undefined || p === '' || p === '/') return errs;
  if (p === '//') return [...errs, fieldErrors.invalid(`${path}.path`, p, 'segment[0] may not be empty')];
  if (!p.startsWith('/')) errs.push(fieldErrors.invalid(`${path}.path`, p, "must start with a '/'"));
  let rest = p.slice(1);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  rest.split('/').forEach((seg, i) => {
    if (seg === '') errs.push(fieldErrors.invalid(`${path}.path`, p, `segment[${i}] may not be empty`));
    else for (const msg of dns1123Subdomain(seg)) errs.push(fieldErrors.invalid(`${path}.path`, p, `segment[${i}]: ${msg}`));
  });
  return errs;
}
