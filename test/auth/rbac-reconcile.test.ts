/**
 * The default roles' reconciliation at start (kube's bootstrap-roles hook)
 * on the API server's storage over SQLite: created once, idempotent, missing
 * rules and subjects added back, user additions kept, autoupdate "false"
 * respected.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiServer } from '#lib/apiserver/server';
import { reconcileDefaultRbac } from '#lib/auth/rbac/reconcile';
import { DEFAULT_CLUSTER_ROLE_BINDINGS, DEFAULT_CLUSTER_ROLES } from '#lib/auth/rbac/bootstrap-policy';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES } from '#lib/kinds/resources';
import type { RbacBinding, RbacRole } from '#lib/kinds/rbac/validation';
import { SqliteStore } from '#lib/store/sqlite';

let store: SqliteStore;
let api: ApiServer;
beforeEach(() => {
  store = new SqliteStore({ path: ':memory:' });
  api = new ApiServer({ store });
});
afterEach(async () => {
  await store.close();
});

describe('reconcileDefaultRbac', () => {
  it('creates every default once, and a second run writes nothing', async () => {
    const first = await reconcileDefaultRbac(api.rest);
    expect(first.created).toHaveLength(DEFAULT_CLUSTER_ROLES.length + DEFAULT_CLUSTER_ROLE_BINDINGS.length);
    expect(await reconcileDefaultRbac(api.rest)).toEqual({ created: [], updated: [] });
    const view = (await api.rest.get(CLUSTER_ROLES, undefined, 'view')) as RbacRole;
    expect(view.metadata.labels).toMatchObject({ 'kubernetes.io/bootstrapping': 'rbac-defaults', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' });
    expect(view.aggregationRule?.clusterRoleSelectors).toEqual([{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }]);
    // Aggregated at once, before any controller runs: view holds system:aggregate-to-view's rules and metrics-server's reader's.
    expect(view.rules).toEqual(expect.arrayContaining([{ verbs: ['get', 'list', 'watch'], apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'] }]));
    const admin = (await api.rest.get(CLUSTER_ROLES, undefined, 'admin')) as RbacRole;
    expect(admin.rules?.length).toBeGreaterThan(view.rules!.length);
  });

  it('adds back what a default lost and keeps what a user added', async () => {
    await reconcileDefaultRbac(api.rest);
    const basic = (await api.rest.get(CLUSTER_ROLES, undefined, 'system:basic-user')) as RbacRole;
    const extra = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] };
    await api.rest.update(CLUSTER_ROLES, undefined, 'system:basic-user', {
      ...basic,
      rules: [extra],
      metadata: { ...basic.metadata, labels: { mine: 'yes' } },
    });
    const binding = (await api.rest.get(CLUSTER_ROLE_BINDINGS, undefined, 'system:discovery')) as RbacBinding;
    const someone = { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'someone' };
    await api.rest.update(CLUSTER_ROLE_BINDINGS, undefined, 'system:discovery', { ...binding, subjects: [someone] });

    expect(await reconcileDefaultRbac(api.rest)).toEqual({ created: [], updated: ['clusterrole/system:basic-user', 'clusterrolebinding/system:discovery'] });
    const after = (await api.rest.get(CLUSTER_ROLES, undefined, 'system:basic-user')) as RbacRole;
    expect(after.rules?.[0]).toEqual(extra);
    expect(after.rules?.slice(1)).toEqual(DEFAULT_CLUSTER_ROLES.find((r) => r.metadata.name === 'system:basic-user')!.rules);
    expect(after.metadata.labels).toMatchObject({ mine: 'yes', 'kubernetes.io/bootstrapping': 'rbac-defaults' });
    const subjects = ((await api.rest.get(CLUSTER_ROLE_BINDINGS, undefined, 'system:discovery')) as RbacBinding).subjects;
    expect(subjects).toEqual([someone, { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' }]);
  });

  it('leaves a default annotated autoupdate "false" as it is', async () => {
    await reconcileDefaultRbac(api.rest);
    const edit = (await api.rest.get(CLUSTER_ROLES, undefined, 'system:aggregate-to-edit')) as RbacRole;
    const frozen = {
      ...edit,
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
      metadata: { ...edit.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } },
    };
    await api.rest.update(CLUSTER_ROLES, undefined, 'system:aggregate-to-edit', frozen);
    // edit and admin, which aggregate it, follow its rules; the frozen role itself is left alone.
    const result = await reconcileDefaultRbac(api.rest);
    expect(result.created).toEqual([]);
    expect(result.updated).not.toContain('clusterrole/system:aggregate-to-edit');
    expect(((await api.rest.get(CLUSTER_ROLES, undefined, 'system:aggregate-to-edit')) as RbacRole).rules).toEqual(frozen.rules);
  });
});
