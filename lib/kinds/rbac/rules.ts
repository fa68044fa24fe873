/**
 * RBAC policy rules as kube reads them: whether a rule allows a request
 * (pkg/apis/rbac/v1/evaluation_helpers.go, and RuleAllows of
 * plugin/pkg/auth/authorizer/rbac), whether one set of rules covers another
 * (pkg/registry/rbac/validation/policy_comparator.go, for escalation
 * prevention), and the breakdown, compaction and compact text kubectl
 * describe and the escalation message print. Pure functions over plain rules.
 */
import type { PolicyRule } from '../../api/rbac/v1/policy.js';

/** rbacv1.VerbAll, APIGroupAll, ResourceAll, NonResourceAll. */
export const ALL = '*';

/** A request as a rule sees it: a resource (with its subresource and name) or a non-resource URL. */
export type RuleRequest = { verb: string; apiGroup: string; resource: string; subresource?: string; name?: string } | { verb: string; path: string };

const list = (v: readonly string[] | null | undefined): readonly string[] => v ?? [];

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return list(rule.verbs).some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return list(rule.apiGroups).some((g) => g === ALL || g === group);
}

/** `combined` is `resource` or `resource/subresource`; a rule's `*\/sub` matches any resource's `sub`. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string | undefined): boolean {
  return list(rule.resources).some(
    (r) => r === ALL || r === combined || (!!subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)),
  );
}

/** No resourceNames: every name (and requests that name none, list and create); else only those names. */
export function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = list(rule.resourceNames);
  return names.length === 0 || names.some((n) => n === (name ?? ''));
}

/** An exact URL, `*`, or a prefix ending in `*`. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return list(rule.nonResourceURLs).some((u) => u === ALL || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))));
}

/** RuleAllows: whether `rule` allows the request. */
export function ruleAllows(rule: PolicyRule, req: RuleRequest): boolean {
  if (!verbMatches(rule, req.verb)) return false;
  if ('path' in req) return nonResourceURLMatches(rule, req.path);
  const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  return apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, combined, req.subresource) && resourceNameMatches(rule, req.name);
}

/** BreakdownRule: one rule per (group, resource, verb[, name]) and per (URL, verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const names = list(rule.resourceNames);
  for (const group of list(rule.apiGroups))
    for (const resource of list(rule.resources))
      for (const verb of list(rule.verbs)) {
        if (names.length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        else for (const n of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] });
      }
  for (const url of list(rule.nonResourceURLs)) for (const verb of list(rule.verbs)) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

/**
 * CompactRules: rules naming one group and one resource (and at most one
 * name) merge their verbs; the rest are kept as they are, before them.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const key = simpleKey(rule);
    if (key === undefined) {
      compacted.push(rule);
      continue;
    }
    const existing = simple.get(key);
    if (!existing) simple.set(key, { ...rule, verbs: [...list(rule.verbs)] });
    else for (const v of list(rule.verbs)) if (!existing.verbs!.includes(v)) existing.verbs!.push(v);
  }
  return [...compacted, ...simple.values()];
}

function simpleKey(rule: PolicyRule): string | undefined {
  if (list(rule.resourceNames).length > 1 || list(rule.nonResourceURLs).length > 0) return undefined;
  if (list(rule.apiGroups).length !== 1 || list(rule.resources).length !== 1) return undefined;
  const known = new Set(['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']);
  if (Object.keys(rule).some((k) => !known.has(k))) return undefined;
  const name = list(rule.resourceNames)[0];
  return JSON.stringify([rule.apiGroups![0], rule.resources![0], name !== undefined, name ?? '']);
}

/** Go's `%v` of a []string: `[a b]`. */
export function goList(v: readonly string[] | null | undefined): string {
  return `[${list(v).join(' ')}]`;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuoted(v: readonly string[]): string {
  return `[${v.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** The generated PolicyRule.String(), by which kubectl describe sorts rules (verbs first). */
export function ruleString(r: PolicyRule): string {
  return `&PolicyRule{Verbs:${goList(r.verbs)},APIGroups:${goList(r.apiGroups)},Resources:${goList(r.resources)},ResourceNames:${goList(r.resourceNames)},NonResourceURLs:${goList(r.nonResourceURLs)},}`;
}

/** rbacv1helpers.CompactString, as the escalation message lists missing rules. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  const add = (label: string, v: readonly string[] | null | undefined) => {
    if (list(v).length > 0) parts.push(`${label}:${goQuoted(list(v))}`);
  };
  add('APIGroups', r.apiGroups);
  add('Resources', r.resources);
  add('NonResourceURLs', r.nonResourceURLs);
  add('ResourceNames', r.resourceNames);
  add('Verbs', r.verbs);
  return `{${parts.join(', ')}}`;
}

const has = (set: readonly string[], v: string) => set.includes(v);
const hasAll = (set: readonly string[], vs: readonly string[]) => vs.every((v) => set.includes(v));

function resourceCoversAll(owner: readonly string[], wanted: readonly string[]): boolean {
  if (has(owner, ALL) || hasAll(owner, wanted)) return true;
  return wanted.every((path) => {
    if (has(owner, path)) return true;
    const slash = path.indexOf('/');
    return slash >= 0 && has(owner, `*/${path.slice(slash + 1)}`);
  });
}

function nonResourceURLCovers(owner: string, path: string): boolean {
  return owner === path || (owner.endsWith('*') && path.startsWith(owner.replace(/\*+$/, '')));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(list(owner.verbs), ALL) || hasAll(list(owner.verbs), list(sub.verbs));
  const groups = has(list(owner.apiGroups), ALL) || hasAll(list(owner.apiGroups), list(sub.apiGroups));
  const resources = resourceCoversAll(list(owner.resources), list(sub.resources));
  const urls = list(sub.nonResourceURLs).every((p) => list(owner.nonResourceURLs).some((o) => nonResourceURLCovers(o, p)));
  const ownerNames = list(owner.resourceNames);
  const names = list(sub.resourceNames).length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, list(sub.resourceNames));
  return verbs && groups && resources && names && urls;
}

/** Covers: whether `owner` holds every permission of `servant`, and the broken-down rules it lacks. */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = servant.flatMap(breakdownRule).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
  return { covered: missing.length === 0, missing };
}
