/**
 * The cluster's Pod Security defaults and exemptions: upstream's
 * PodSecurityConfiguration (pod-security.admission.config.k8s.io), read
 * bare or as the PodSecurity plugin's entry of an AdmissionConfiguration
 * (the file kube-apiserver's --admission-control-config-file names), with
 * upstream's defaulting (privileged, latest) and validation.
 */
import { z } from 'zod';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { dns1123Label, dns1123Subdomain } from '../../api/validation.js';
import { type Level, parseLevel, parseVersion, type Policy } from './levels.js';

export interface PodSecurityConfig {
  defaults: Policy;
  exemptions: {
    /** Users whose requests are never checked (upstream exempts users by name only, not by group). */
    usernames: readonly string[];
    namespaces: readonly string[];
    runtimeClasses: readonly string[];
  };
}

/** Upstream's default: everything privileged, nothing exempt (and so nothing checked unless a namespace asks). */
export const PRIVILEGED: PodSecurityConfig = {
  defaults: {
    enforce: { level: 'privileged', version: { latest: true } },
    audit: { level: 'privileged', version: { latest: true } },
    warn: { level: 'privileged', version: { latest: true } },
  },
  exemptions: { usernames: [], namespaces: [], runtimeClasses: [] },
};

const PodSecurityConfigurationSchema = z.strictObject({
  apiVersion: z
    .enum(['pod-security.admission.config.k8s.io/v1', 'pod-security.admission.config.k8s.io/v1beta1', 'pod-security.admission.config.k8s.io/v1alpha1'])
    .optional(),
  kind: z.literal('PodSecurityConfiguration').optional(),
  defaults: z
    .strictObject({
      enforce: z.string().optional(),
      'enforce-version': z.string().optional(),
      audit: z.string().optional(),
      'audit-version': z.string().optional(),
      warn: z.string().optional(),
      'warn-version': z.string().optional(),
    })
    .optional(),
  exemptions: z
    .strictObject({
      usernames: z.array(z.string()).optional(),
      namespaces: z.array(z.string()).optional(),
      runtimeClasses: z.array(z.string()).optional(),
    })
    .optional(),
});

export type PodSecurityConfiguration = z.input<typeof PodSecurityConfigurationSchema>;

const AdmissionConfigurationSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.literal('AdmissionConfiguration'),
  plugins: z.array(z.object({ name: z.string(), configuration: z.unknown().optional(), path: z.string().optional() })).optional(),
});

export class PodSecurityConfigError extends Error {
  override name = 'PodSecurityConfigError';
}

function unique(values: readonly string[], field: string, check: (v: string) => string[]): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const [i, v] of values.entries()) {
    const msgs = check(v);
    if (msgs.length > 0) errs.push(fieldErrors.invalid(`${field}[${i}]`, v, msgs.join(', ')));
    else if (seen.has(v)) errs.push(fieldErrors.duplicate(`${field}[${i}]`, v));
    else seen.add(v);
  }
  return errs;
}

/**
 * Reads a configuration: a PodSecurityConfiguration, or an
 * AdmissionConfiguration whose PodSecurity plugin embeds one. Throws
 * PodSecurityConfigError naming every problem, as kube-apiserver refuses to
 * start on one.
 */
export function parsePodSecurityConfig(value: unknown): PodSecurityConfig {
  let raw = value;
  const admission = AdmissionConfigurationSchema.safeParse(value);
  if (admission.success) {
    const plugin = (admission.data.plugins ?? []).find((p) => p.name === 'PodSecurity');
    if (!plugin) return PRIVILEGED;
    if (plugin.path !== undefined) throw new PodSecurityConfigError('the PodSecurity plugin configuration must be embedded (configuration:), not a path');
    raw = plugin.configuration ?? {};
  }
  const parsed = PodSecurityConfigurationSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PodSecurityConfigError(
      `invalid PodSecurityConfiguration: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const d = parsed.data.defaults ?? {};
  const e = parsed.data.exemptions ?? {};
  const errs: FieldError[] = [];
  const mode = (levelKey: 'enforce' | 'audit' | 'warn') => {
    const levelText = d[levelKey] || 'privileged';
    const versionKey = `${levelKey}-version` as const;
    const versionText = d[versionKey] || 'latest';
    const level = parseLevel(levelText);
    const version = parseVersion(versionText);
    if (level.error) errs.push(fieldErrors.invalid(`defaults.${levelKey}`, levelText, level.error));
    if (version.error) errs.push(fieldErrors.invalid(`defaults.${versionKey}`, versionText, version.error));
    return { level: level.level as Level, version: version.version };
  };
  const defaults: Policy = { enforce: mode('enforce'), warn: mode('warn'), audit: mode('audit') };
  const exemptions = { usernames: e.usernames ?? [], namespaces: e.namespaces ?? [], runtimeClasses: e.runtimeClasses ?? [] };
  errs.push(...unique(exemptions.namespaces, 'exemptions.namespaces', dns1123Label));
  errs.push(...unique(exemptions.runtimeClasses, 'exemptions.runtimeClasses', dns1123Subdomain));
  errs.push(...unique(exemptions.usernames, 'exemptions.usernames', (u) => (u === '' ? ['username must not be empty'] : [])));
  if (errs.length > 0) throw new PodSecurityConfigError(`invalid PodSecurityConfiguration: ${errs.map((x) => `${x.field}: ${x.message}`).join(', ')}`);
  return { defaults, exemptions };
}
