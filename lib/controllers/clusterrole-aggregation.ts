/**
 * The ClusterRole aggregation controller (kube's
 * pkg/controller/clusterroleaggregation): a ClusterRole with an
 * aggregationRule gets, as its rules, the rules of every other ClusterRole
 * its selectors match, in name order per selector, each distinct rule once.
 * Any ClusterRole's change queues every aggregated role (a label or a rule
 * may have moved), so adding a role labelled
 * `rbac.authorization.k8s.io/aggregate-to-view: "true"` widens view, edit and
 * admin. Writes only when the rules differ; a conflict is retried by the
 * runtime.
 */
import { isNotFound } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KObject } from '../api/object.js';
import type { AggregationRule, PolicyRule } from '../api/rbac/v1/policy.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { CLUSTER_ROLES } from '../kinds/resources.js';
import { deepEqual } from '../util/json.js';

type ClusterRole = KObject & { rules?: PolicyRule[] | null; aggregationRule?: AggregationRule | null };

/** The rules `role`'s aggregationRule selects from `all` (kube's syncClusterRole). */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
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

export class ClusterRoleAggregationController implements Reconciler {
  readonly name = 'clusterrole-aggregation';
  readonly watches: Watch[] = [{ resource: storeResource(CLUSTER_ROLES), keys: () => this.listKeys() }];

  constructor(private readonly client: KubeClient) {}

  /** The aggregated ClusterRoles. */
  async listKeys(): Promise<string[]> {
    const all = (await this.client.listAll<ClusterRole>(CLUSTER_ROLES, undefined)).items;
    return all.filter((r) => r.aggregationRule).map((r) => r.metadata.name!);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    let role: ClusterRole;
    try {
      role = await this.client.get<ClusterRole>(CLUSTER_ROLES, undefined, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!role.aggregationRule) return;
    const all = (await this.client.listAll<ClusterRole>(CLUSTER_ROLES, undefined)).items;
    const rules = aggregatedRules(role, all);
    if (deepEqual(rules, role.rules ?? [])) return;
    // The stored resourceVersion makes this a compare-and-swap: a role changed meanwhile is reconciled again.
    await this.client.update(CLUSTER_ROLES, { ...role, rules });
  }
}
