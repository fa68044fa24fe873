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
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { CLUSTER_ROLES } from '../kinds/resources.js';
import { aggregatedRules } from '../kinds/rbac/aggregation.js';
import type { RbacRole as ClusterRole } from '../kinds/rbac/validation.js';
import { deepEqual } from '../util/json.js';

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
