/**
 * A pod's DNS settings (`spec.dnsPolicy`, `spec.dnsConfig`): the limits
 * Kubernetes derives from libc's resolver and kube-apiserver's
 * validation of them with its messages (pkg/apis/core/validation's
 * validatePodDNSConfig, with RelaxedDNSSearchValidation, GA since 1.34:
 * search domains may be `.` and hold underscores). The kubelet enforces the
 * same limits again when it forms a pod's resolv.conf from the node's
 * settings (lib/agent/dns/resolv-conf.ts), where they truncate instead of
 * refusing.
 */
import { fieldErrors, type FieldError } from '../../field-errors.js';
import { validateIP } from '../../ip.js';
import { dns1123SubdomainWithUnderscore } from '../../validation.js';
import type { PodDNSConfig } from './shapes.generated.js';

export const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
export type DNSPolicy = (typeof DNS_POLICIES)[number];

/** At most this many nameservers (glibc's MAXNS). */
export const MAX_DNS_NAMESERVERS = 3;
/** At most this many search domains (glibc 2.26+ has no fixed limit; kube's ExpandedDNSConfig, GA in 1.28). */
export const MAX_DNS_SEARCH_PATHS = 32;
/** At most this many characters in the search line, spaces between domains included. */
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;

export { PodDNSConfigOptionSchema, PodDNSConfigSchema, type PodDNSConfig, type PodDNSConfigOption } from './shapes.generated.js';

/**
 * validatePodDNSConfig: `dnsConfig` is required (with a nameserver) under
 * dnsPolicy None; at most 3 nameservers, each a valid IP; at most 32 search
 * domains in at most 2048 characters, each `.` or a subdomain (a trailing dot
 * allowed, underscores allowed); every option named. `path` is the dnsConfig
 * field's, e.g. `spec.dnsConfig`.
 */
export function validatePodDNSConfig(dnsConfig: PodDNSConfig | null | undefined, dnsPolicy: string | null | undefined, path: string): FieldError[] {
  if (dnsPolicy === 'None') {
    if (!dnsConfig) return [fieldErrors.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if ((dnsConfig.nameservers ?? []).length === 0) {
      return [fieldErrors.required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
    }
  }
  if (!dnsConfig) return [];
  const errs: FieldError[] = [];
  const nameservers = dnsConfig.nameservers ?? [];
  if (nameservers.length > MAX_DNS_NAMESERVERS) {
    errs.push(fieldErrors.invalid(`${path}.nameservers`, nameservers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  }
  for (const [i, ns] of nameservers.entries()) errs.push(...validateIP(`${path}.nameservers[${i}]`, ns));
  const searches = dnsConfig.searches ?? [];
  if (searches.length > MAX_DNS_SEARCH_PATHS) {
    errs.push(fieldErrors.invalid(`${path}.searches`, searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  }
  if (searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    errs.push(
      fieldErrors.invalid(
        `${path}.searches`,
        searches,
        `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`,
      ),
    );
  }
  for (const [i, search] of searches.entries()) {
    // A lone "." stands for "no search domain"; a trailing dot is allowed.
    if (search === '.') continue;
    const trimmed = search.endsWith('.') ? search.slice(0, -1) : search;
    for (const msg of dns1123SubdomainWithUnderscore(trimmed)) errs.push(fieldErrors.invalid(`${path}.searches[${i}]`, trimmed, msg));
  }
  for (const [i, option] of (dnsConfig.options ?? []).entries()) {
    if (!option.name) errs.push(fieldErrors.required(`${path}.options[${i}]`, 'must not be empty'));
  }
  return errs;
}
