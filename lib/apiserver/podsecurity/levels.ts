/**
 * Pod Security levels, versions and the policy a namespace's labels ask for
 * (after k8s.io/pod-security-admission/api: constants.go and helpers.go),
 * with upstream's parsing rules and messages.
 */
import { fieldErrors, type FieldError } from '../../api/field-errors.js';

export const LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type Level = (typeof LEVELS)[number];

/** A policy version: `latest`, or v1.<minor> (the checks of that Kubernetes release). */
export type Version = { latest: true } | { latest: false; minor: number };

export const LATEST: Version = { latest: true };

export interface LevelVersion {
  level: Level;
  version: Version;
}

/** What a namespace enforces, audits and warns about. */
export interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const LABELS = {
  enforce: `${LABEL_PREFIX}enforce`,
  enforceVersion: `${LABEL_PREFIX}enforce-version`,
  audit: `${LABEL_PREFIX}audit`,
  auditVersion: `${LABEL_PREFIX}audit-version`,
  warn: `${LABEL_PREFIX}warn`,
  warnVersion: `${LABEL_PREFIX}warn-version`,
} as const;

/** Where kumo records audit violations: upstream's audit annotation key, on the object itself (kumo keeps no audit log). */
export const AUDIT_VIOLATIONS_ANNOTATION = `${LABEL_PREFIX}audit-violations`;

export function versionOf(minor: number): Version {
  return { latest: false, minor };
}

export function formatVersion(v: Version): string {
  return v.latest ? 'latest' : `v1.${v.minor}`;
}

export function formatLevelVersion(lv: LevelVersion): string {
  return `${lv.level}:${formatVersion(lv.version)}`;
}

export function sameVersion(a: Version, b: Version): boolean {
  return a.latest === b.latest && (a.latest || (b as { minor: number }).minor === a.minor);
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && sameVersion(a.version, b.version);
}

/** ParseLevel: an unknown level is an error, and reads as restricted. */
export function parseLevel(value: string): { level: Level; error?: string } {
  return (LEVELS as readonly string[]).includes(value) ? { level: value as Level } : { level: 'restricted', error: `must be one of ${LEVELS.join(', ')}` };
}

/** ParseVersion: `latest` or `v1.<minor>`; anything else is an error, and reads as latest. */
export function parseVersion(value: string): { version: Version; error?: string } {
  if (value === 'latest') return { version: LATEST };
  const m = /^v1\.([0-9]|[1-9][0-9]*)$/.exec(value);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return { version: LATEST, error: 'must be "latest" or "v1.x"' };
  return { version: versionOf(Number(m[1])) };
}

/** CompareLevels: -1, 0 or 1 as `a` is less, as or more strict than `b`. */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

export function fullyPrivileged(p: Policy): boolean {
  return p.enforce.level === 'privileged' && p.audit.level === 'privileged' && p.warn.level === 'privileged';
}

/** Equivalent: both privileged, or the same level and version. */
function equivalent(a: LevelVersion, b: LevelVersion): boolean {
  return (a.level === 'privileged' && b.level === 'privileged') || sameLevelVersion(a, b);
}

export function equivalentPolicies(a: Policy, b: Policy): boolean {
  return equivalent(a.enforce, b.enforce) && equivalent(a.audit, b.audit) && equivalent(a.warn, b.warn);
}

/**
 * PolicyToEvaluate: the namespace's labels over the cluster defaults. A bad
 * label is an error (namespace writes are refused for it) and still yields a
 * policy: enforce fails closed (restricted, latest), audit and warn fail
 * open (privileged). Without a warn label, warn follows a stricter enforce
 * label.
 */
export function policyToEvaluate(labels: Readonly<Record<string, string>> | null | undefined, defaults: Policy): { policy: Policy; errors: FieldError[] } {
  const p: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: FieldError[] = [];
  if (!labels || Object.keys(labels).length === 0) return { policy: p, errors };
  const fail = (label: string, value: string, error: string | undefined) => {
    if (error) errors.push(fieldErrors.invalid(`metadata.labels[${label}]`, value, error));
    return error !== undefined;
  };
  // In upstream's order: each mode's level, then its version. A bad level reads as restricted for enforce
  // (ParseLevel's answer), privileged for audit and warn; a bad version as latest. Returns whether the level label is valid.
  const read = (mode: 'enforce' | 'audit' | 'warn', levelLabel: string, versionLabel: string): boolean => {
    const level = labels[levelLabel];
    let valid = false;
    if (level !== undefined) {
      const r = parseLevel(level);
      valid = !fail(levelLabel, level, r.error);
      p[mode].level = valid || mode === 'enforce' ? r.level : 'privileged';
    }
    const version = labels[versionLabel];
    if (version !== undefined) {
      const r = parseVersion(version);
      p[mode].version = r.version;
      fail(versionLabel, version, r.error);
    }
    return valid;
  };
  const hasEnforceLevel = read('enforce', LABELS.enforce, LABELS.enforceVersion);
  read('audit', LABELS.audit, LABELS.auditVersion);
  read('warn', LABELS.warn, LABELS.warnVersion);
  const warn = labels[LABELS.warn];
  const warnVersion = labels[LABELS.warnVersion];
  if (warn === undefined && hasEnforceLevel && compareLevels(p.enforce.level, p.warn.level) > 0) {
    p.warn.level = p.enforce.level;
    if (warnVersion === undefined) p.warn.version = p.enforce.version;
  }
  return { policy: p, errors };
}
