/**
 * Which checks a level and version run, and what their results say (after
 * pod-security-admission/policy: registry.go and checks.go). A version runs
 * each check's newest version not newer than itself; `latest` (and any
 * version past the newest check) runs the newest. Restricted runs Baseline's
 * checks too, except those a restricted check overrides. Results come in
 * upstream's order: Baseline's checks by id, then Restricted's.
 */
import { BASELINE_CHECKS } from './baseline.js';
import type { Check, CheckResult, PodView, VersionedCheck } from './check.js';
import type { LevelVersion } from './levels.js';
import { RESTRICTED_CHECKS } from './restricted.js';

const byId = (a: Check, b: Check) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ORDERED: readonly Check[] = [...[...BASELINE_CHECKS].sort(byId), ...[...RESTRICTED_CHECKS].sort(byId)];

/** The newest release any check knows: what `latest` means. */
export const NEWEST_MINOR = Math.max(...ORDERED.flatMap((c) => c.versions.map((v) => v.minimumVersion)));

function versionAt(check: Check, minor: number): VersionedCheck | undefined {
  return [...check.versions].reverse().find((v) => v.minimumVersion <= minor);
}

/** Runs the checks of a level and version on a pod (or template). Privileged runs none. */
export function evaluatePod(lv: LevelVersion, pod: PodView): CheckResult[] {
  if (lv.level === 'privileged') return [];
  const minor = lv.version.latest ? NEWEST_MINOR : Math.min(lv.version.minor, NEWEST_MINOR);
  const restricted = lv.level === 'restricted';
  const active = ORDERED.filter((c) => restricted || c.level === 'baseline').flatMap((c) => {
    const v = versionAt(c, minor);
    return v ? [{ check: c, version: v }] : [];
  });
  const overridden = new Set(active.filter((a) => a.check.level === 'restricted').flatMap((a) => a.version.overrides ?? []));
  return active.filter((a) => !(a.check.level === 'baseline' && overridden.has(a.check.id))).map((a) => a.version.check(pod));
}

export interface Verdict {
  allowed: boolean;
  /** The failed checks' reasons, joined: `host namespaces, privileged`. */
  reason: string;
  /** Each reason with its detail: `host namespaces (hostNetwork=true), privileged (container "c" must not set ...)`. */
  detail: string;
}

/** AggregateCheckResults. */
export function verdictOf(results: readonly CheckResult[]): Verdict {
  const failed = results.filter((r) => !r.allowed);
  const reasons = failed.map((r) => r.reason || 'unknown forbidden reason');
  return {
    allowed: failed.length === 0,
    reason: reasons.join(', '),
    detail: failed.map((r, i) => (r.detail ? `${reasons[i]} (${r.detail})` : reasons[i])).join(', '),
  };
}
