/**
 * Keeps the default ClusterRoles and ClusterRoleBindings current, as
 * kube-apiserver's `rbac/bootstrap-roles` post-start hook does
 * (pkg/registry/rbac/rest/storage_rbac.go with pkg/registry/rbac/reconciliation):
 * at every start, a missing default is created; an existing one whose
 * `rbac.authorization.kubernetes.io/autoupdate` annotation is not "false"
 * gets the labels, annotations, rules, aggregation selectors and subjects it
 * lacks, and keeps whatever a user added; a binding whose roleRef differs is
 * recreated (a roleRef cannot change in place). Idempotent: a second run
 * writes nothing. One list of each kind, so a start costs two reads when
 * nothing changed.
 */
import { isAlreadyExists, isConflict, isNotFound } from '../../api/errors.js';
import type { ResourceType } from '../../api/registry.js';
import type { KList } from '../../api/meta/v1/list.js';
import type { KObject } from '../../api/object.js';
import type { RbacBinding as ClusterRoleBinding, RbacRole as ClusterRole } from '../../kinds/rbac/validation.js';
import type { Subject } from '../../api/rbac/v1/policy.js';
import type { LabelSelector } from '../../api/meta/v1/label-selector.js';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES } from '../../kinds/resources.js';
import { covers } from '../../kinds/rbac/rules.js';
import { aggregatedRules } from '../../kinds/rbac/aggregation.js';
import { deepEqual } from '../../util/json.js';
import { AUTO_UPDATE_ANNOTATION, DEFAULT_CLUSTER_ROLE_BINDINGS, DEFAULT_CLUSTER_ROLES } from './bootstrap-policy.js';

/** The API server's storage, as far as this needs it (its RestStorage). */
export interface ReconcileStorage {
  list(rt: ResourceType, namespace: string | undefined): Promise<KList>;
  create(rt: ResourceType, namespace: string | undefined, obj: KObject): Promise<KObject>;
  update(rt: ResourceType, namespace: string | undefined, name: string, obj: KObject): Promise<KObject>;
  delete(rt: ResourceType, namespace: string | undefined, name: string): Promise<unknown>;
}

/** What one run changed, by name (for the log and the tests). */
export interface ReconcileResult {
  created: string[];
  updated: string[];
}

const merged = (have: Record<string, string> | null | undefined, want: Record<string, string> | null | undefined) => ({ ...want, ...have });

/** Whether the object opts out of reconciliation (autoupdate "false"). */
function frozen(obj: KObject): boolean {
  return obj.metadata.annotations?.[AUTO_UPDATE_ANNOTATION] === 'false';
}

/** The role with what the default adds (computeReconciledRole without removing extras), or undefined when it lacks nothing. */
export function reconciledRole(existing: ClusterRole, expected: ClusterRole): ClusterRole | undefined {
  const out: ClusterRole = structuredClone(existing);
  out.metadata.labels = merged(existing.metadata.labels, expected.metadata.labels);
  out.metadata.annotations = merged(existing.metadata.annotations, expected.metadata.annotations);
  // The default's rules the role does not cover yet (an aggregated default has none: its rules are the aggregation controller's).
  const missing = (expected.rules ?? []).filter((r) => !covers(existing.rules ?? [], [r]).covered);
  if (missing.length > 0) out.rules = [...(existing.rules ?? []), ...missing];
  if (expected.aggregationRule) {
    const have: LabelSelector[] = existing.aggregationRule?.clusterRoleSelectors ?? [];
    const add = (expected.aggregationRule.clusterRoleSelectors ?? []).filter((s) => !have.some((h) => deepEqual(h, s)));
    if (add.length > 0 || !existing.aggregationRule) out.aggregationRule = { ...existing.aggregationRule, clusterRoleSelectors: [...have, ...add] };
  }
  return deepEqual(out, existing) ? undefined : out;
}

/** The binding with the subjects the default adds, or undefined when it lacks nothing. */
export function reconciledBinding(existing: ClusterRoleBinding, expected: ClusterRoleBinding): ClusterRoleBinding | undefined {
  const out: ClusterRoleBinding = structuredClone(existing);
  out.metadata.labels = merged(existing.metadata.labels, expected.metadata.labels);
  out.metadata.annotations = merged(existing.metadata.annotations, expected.metadata.annotations);
  const subjects = unionSubjects(existing.subjects ?? [], expected.subjects ?? []);
  if (subjects.length > 0) out.subjects = subjects;
  return deepEqual(out, existing) ? undefined : out;
}

/** `have` and then what `want` adds (subjects are the same when kind, name and namespace are). */
function unionSubjects(have: readonly Subject[], want: readonly Subject[]): Subject[] {
  const same = (a: Subject, b: Subject) => a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
  return [...have, ...want.filter((s) => !have.some((h) => same(h, s)))];
}

function sameRoleRef(a: ClusterRoleBinding, b: ClusterRoleBinding): boolean {
  return a.roleRef?.kind === b.roleRef?.kind && a.roleRef?.name === b.roleRef?.name && a.roleRef?.apiGroup === b.roleRef?.apiGroup;
}

/** Tolerates a concurrent start (another API server instance) doing the same write. */
async function racing(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isAlreadyExists(err) || isConflict(err) || isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Fills the aggregated roles' rules (admin, edit, view, and any a user
 * made) as the aggregation controller would, so they grant what they say
 * from the first request, before the controller has run (kube leaves that to
 * the controller-manager). Aggregated roles may aggregate each other (edit
 * into admin): passes repeat until nothing changes.
 */
async function aggregateAtStart(rest: ReconcileStorage, result: ReconcileResult): Promise<void> {
  const roles = new Map((await rest.list(CLUSTER_ROLES, undefined)).items.map((o) => [o.metadata.name!, o as ClusterRole]));
  const changed = new Set<string>();
  for (let pass = 0, moved = true; moved && pass <= roles.size; pass++) {
    moved = false;
    for (const [name, role] of roles) {
      if (!role.aggregationRule || frozen(role)) continue;
      const rules = aggregatedRules(role, [...roles.values()]);
      if (deepEqual(rules, role.rules ?? [])) continue;
      roles.set(name, { ...role, rules });
      changed.add(name);
      moved = true;
    }
  }
  for (const name of changed) {
    if (await racing(() => rest.update(CLUSTER_ROLES, undefined, name, roles.get(name)!))) {
      if (!result.created.includes(`clusterrole/${name}`)) result.updated.push(`clusterrole/${name}`);
    }
  }
}

export async function reconcileDefaultRbac(rest: ReconcileStorage): Promise<ReconcileResult> {
  const result: ReconcileResult = { created: [], updated: [] };
  const roles = new Map((await rest.list(CLUSTER_ROLES, undefined)).items.map((o) => [o.metadata.name!, o as ClusterRole]));
  for (const expected of DEFAULT_CLUSTER_ROLES) {
    const name = expected.metadata.name!;
    const existing = roles.get(name);
    if (!existing) {
      if (await racing(() => rest.create(CLUSTER_ROLES, undefined, structuredClone(expected)))) result.created.push(`clusterrole/${name}`);
      continue;
    }
    if (frozen(existing)) continue;
    const next = reconciledRole(existing, expected);
    if (next && (await racing(() => rest.update(CLUSTER_ROLES, undefined, name, next)))) result.updated.push(`clusterrole/${name}`);
  }
  await aggregateAtStart(rest, result);
  const bindings = new Map((await rest.list(CLUSTER_ROLE_BINDINGS, undefined)).items.map((o) => [o.metadata.name!, o as ClusterRoleBinding]));
  for (const expected of DEFAULT_CLUSTER_ROLE_BINDINGS) {
    const name = expected.metadata.name!;
    const existing = bindings.get(name);
    if (existing && frozen(existing)) continue;
    if (existing && !sameRoleRef(existing, expected)) {
      // kube recreates a binding whose roleRef differs, keeping its subjects.
      await racing(() => rest.delete(CLUSTER_ROLE_BINDINGS, undefined, name));
      const recreated = { ...structuredClone(expected), subjects: unionSubjects(existing.subjects ?? [], expected.subjects ?? []) };
      if (await racing(() => rest.create(CLUSTER_ROLE_BINDINGS, undefined, recreated))) result.updated.push(`clusterrolebinding/${name}`);
      continue;
    }
    if (!existing) {
      if (await racing(() => rest.create(CLUSTER_ROLE_BINDINGS, undefined, structuredClone(expected)))) result.created.push(`clusterrolebinding/${name}`);
      continue;
    }
    const next = reconciledBinding(existing, expected);
    if (next && (await racing(() => rest.update(CLUSTER_ROLE_BINDINGS, undefined, name, next)))) result.updated.push(`clusterrolebinding/${name}`);
  }
  return result;
}
