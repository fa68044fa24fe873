/**
 * The shape of a Pod Security check (after pod-security-admission/policy:
 * checks.go, helpers.go, visitor.go): an id, a level, and the check's
 * versions, each applying from a Kubernetes minor release until the next.
 */
import type { Container, PodSpec } from '../../api/core/v1/pod.js';

export interface CheckResult {
  allowed: boolean;
  /** Short, stable reason (`host namespaces`); the warning and error messages list these. */
  reason?: string;
  /** What exactly is at fault (`hostNetwork=true`). */
  detail?: string;
}

export const ALLOWED: CheckResult = { allowed: true };

/** What a check reads: the pod's (or template's) annotations and spec. */
export interface PodView {
  annotations: Readonly<Record<string, string>>;
  spec: PodSpec;
}

export type CheckPod = (pod: PodView) => CheckResult;

export interface VersionedCheck {
  /** The first v1.<minor> this version of the check applies to. */
  minimumVersion: number;
  check: CheckPod;
  /** Baseline checks this restricted check replaces from this version on. */
  overrides?: readonly string[];
}

export interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** In increasing minimumVersion order. */
  versions: readonly VersionedCheck[];
}

/** `"a", "b"`: quoted names for messages. */
export function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "a"` / `containers "a", "b"`. */
export function containersPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Sorted, without duplicates (Go's sets.List). */
export function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}

/** Init containers, containers, then ephemeral containers (which share Container's fields). */
export function containersOf(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as Container[])];
}

/** A pod in a user namespace (`hostUsers: false`), for which 1.35 relaxes the root-related checks. */
export function inUserNamespace(spec: PodSpec): boolean {
  return spec.hostUsers === false;
}

export function isWindows(spec: PodSpec): boolean {
  return spec.os?.name === 'windows';
}

/** Go's "pointer is set": present and not null. */
export function isSet<T>(v: T | null | undefined): v is T {
  return v !== undefined && v !== null;
}

/**
 * Who sets a pod's or its containers' seccomp or AppArmor profile to a type
 * `allowed` refuses: `pod` and `container(s) "a", ...`, with the refused
 * types (sorted); whether the pod sets an allowed one; the containers that
 * set none.
 */
export function forbiddenProfiles(
  spec: PodSpec,
  field: 'seccompProfile' | 'appArmorProfile',
  allowed: (type: string) => boolean,
): { setters: string[]; types: string[]; podAllowed: boolean; unset: string[] } {
  const setters: string[] = [];
  const types: string[] = [];
  const pod = spec.securityContext?.[field];
  if (isSet(pod) && !allowed(pod.type)) {
    setters.push('pod');
    types.push(pod.type);
  }
  const bad: string[] = [];
  const unset: string[] = [];
  for (const c of containersOf(spec)) {
    const profile = c.securityContext?.[field];
    if (!isSet(profile)) unset.push(c.name);
    else if (!allowed(profile.type)) {
      bad.push(c.name);
      types.push(profile.type);
    }
  }
  if (bad.length > 0) setters.push(containersPhrase(bad));
  return { setters, types: sortedSet(types), podAllowed: isSet(pod) && allowed(pod.type), unset };
}
