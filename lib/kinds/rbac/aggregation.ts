/**
 * ClusterRole aggregation (kube's pkg/controller/clusterroleaggregation
 * syncClusterRole): the rules an aggregated role gets from the roles its
 * selectors match. Used by the controller that keeps them current, and by
 * the default roles' reconciliation at start, so admin, edit and view grant
 * their rules before the controller has run.
 */
import { fromLabelSelector, matches } from '../../api/labels.js';
import type { PolicyRule } from '../../api/rbac/v1/policy.js';
import { deepEqual } from '../../util/json.js';
import type { RbacRole } from './validation.js';

/** The rules `role`'s aggregationRule selects from `all` (kube's syncClusterRole). */
export function aggregatedRules(role: RbacRole, all: readonly RbacRole[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const byName = [...all].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const selector of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const sel = fromLabelSelector(selector);
    for (const other of byName) {
      if (other.metadata.name === role.metadata.name || !matches(sel, other.metadata.labels)) continue;
      for (const rule of other.rules ?? []) if (!out.some((r) => deepEqual(r, rule))) out.push(rule);
    }
  }
  return out;
}
