/**
 * The RBAC kinds with the real kubectl: `kubectl create role|clusterrole|
 * rolebinding|clusterrolebinding`, kubectl's columns and describers, kube's
 * validation messages, and a roleRef that never changes.
 */
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite();
const { ok, refused } = k;

describe('RBAC kinds', () => {
  it('creates roles and bindings with kubectl create, in kubectl get columns', async () => {
    await ok(['create', 'namespace', 'rbac-a']);
    expect(await ok(['create', 'role', 'pod-reader', '-n', 'rbac-a', '--verb=get,list', '--resource=pods,pods/log'])).toBe(
      'role.rbac.authorization.k8s.io/pod-reader created\n',
    );
    await ok(['create', 'clusterrole', 'deploy-watcher', '--verb=watch', '--resource=deployments.apps', '--resource-name=web']);
    await ok(['create', 'rolebinding', 'read-pods', '-n', 'rbac-a', '--role=pod-reader', '--user=alice', '--group=devs', '--serviceaccount=rbac-a:robot']);
    await ok(['create', 'clusterrolebinding', 'watch-deploys', '--clusterrole=deploy-watcher', '--user=bob']);

    const roles = rows(await ok(['get', 'role', '-n', 'rbac-a']));
    expect(roles[0]).toEqual(['NAME', 'CREATED AT']);
    expect(roles[1]![0]).toBe('pod-reader');
    expect(roles[1]![1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const bindings = rows(await ok(['get', 'rolebinding', '-n', 'rbac-a', '-o', 'wide']));
    expect(bindings[0]).toEqual(['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS']);
    expect(bindings[1]).toEqual(['read-pods', 'Role/pod-reader', expect.any(String), 'alice', 'devs', 'rbac-a/robot']);
    expect(rows(await ok(['get', 'clusterrolebinding', 'watch-deploys']))[1]!.slice(0, 2)).toEqual(['watch-deploys', 'ClusterRole/deploy-watcher']);

    const role = JSON.parse(await ok(['get', 'clusterrole', 'deploy-watcher', '-o', 'json']));
    expect(role.rules).toEqual([{ apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['watch'] }]);
    const binding = JSON.parse(await ok(['get', 'rolebinding', 'read-pods', '-n', 'rbac-a', '-o', 'json']));
    expect(binding.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' },
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'rbac-a' },
    ]);
  });

  it("describes roles and bindings as kubectl's describers do", async () => {
    const role = await ok(['describe', 'role', 'pod-reader', '-n', 'rbac-a']);
    expect(role).toMatch(/^Name:\s+pod-reader$/m);
    expect(role).toMatch(/^\s+Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    expect(role).toMatch(/^\s+pods\/log\s+\[\]\s+\[\]\s+\[get list\]$/m);
    expect(role).toMatch(/^\s+pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
    expect(await ok(['describe', 'clusterrole', 'deploy-watcher'])).toMatch(/^\s+deployments\.apps\s+\[\]\s+\[web\]\s+\[watch\]$/m);
    const binding = await ok(['describe', 'rolebinding', 'read-pods', '-n', 'rbac-a']);
    expect(binding).toMatch(/^Role:\n\s+Kind:\s+Role\n\s+Name:\s+pod-reader$/m);
    expect(binding).toMatch(/^\s+User\s+alice\s*$/m);
    expect(binding).toMatch(/^\s+ServiceAccount\s+robot\s+rbac-a$/m);
  });

  it("refuses to change a binding's roleRef, and invalid objects, with kube's messages (nothing stored)", async () => {
    const patched = await refused(['patch', 'rolebinding', 'read-pods', '-n', 'rbac-a', '--type=merge', '-p', '{"roleRef":{"name":"other"}}']);
    expect(patched).toContain(
      'The RoleBinding "read-pods" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef',
    );
    const badRule = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: bad
  namespace: rbac-a
rules:
- verbs: []
  resources: [pods]
- verbs: [get]
  nonResourceURLs: [/healthz]
`;
    const invalid = await refused(['create', '-f', '-'], badRule);
    expect(invalid).toContain('rules[0].verbs: Required value: verbs must contain at least one value');
    expect(invalid).toContain('rules[0].apiGroups: Required value: resource rules must supply at least one api group');
    expect(invalid).toContain('rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs');
    const badBinding = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: bad
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}
subjects:
- {kind: ServiceAccount, name: robot}
- {kind: Robot, name: r2}
`;
    const refusedBinding = await refused(['create', '-f', '-'], badBinding);
    expect(refusedBinding).toContain('roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
    expect(refusedBinding).toContain('subjects[0].namespace: Required value');
    expect(refusedBinding).toContain('subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"');
    expect((await k.kubectl(['get', 'role', 'bad', '-n', 'rbac-a'])).code).toBe(1);
    expect((await k.kubectl(['get', 'clusterrolebinding', 'bad'])).code).toBe(1);
  });
});

describe('default roles and aggregation', () => {
  /** Polls kubectl until `check` holds (the aggregation controller works in the background). */
  async function eventually(args: string[], check: (out: string) => boolean): Promise<string> {
    let out = '';
    for (let i = 0; i < 100; i++) {
      out = await ok(args);
      if (check(out)) return out;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kubectl ${args.join(' ')} never matched:\n${out}`);
  }

  it('serves the default roles and bindings, with admin, edit and view aggregated from their parts', async () => {
    const names = rows(await ok(['get', 'clusterrole', '-o', 'name'])).map((r) => r[0]);
    for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:node'])
      expect(names).toContain(`clusterrole.rbac.authorization.k8s.io/${name}`);
    const admins = await ok(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'wide']);
    expect(admins).toMatch(/^cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s*$/m);
    const admin = await eventually(['get', 'clusterrole', 'admin', '-o', 'yaml'], (y) => y.includes('rolebindings'));
    expect(admin).toContain('rbac.authorization.kubernetes.io/autoupdate: "true"');
    expect(admin).toMatch(/aggregationRule:\n {2}clusterRoleSelectors:\n {2}- matchLabels:\n {6}rbac\.authorization\.k8s\.io\/aggregate-to-admin: "true"/);
    // admin holds edit's and view's rules too (edit and view are labelled into admin's selectors' parts).
    const rules = JSON.parse(await ok(['get', 'clusterrole', 'admin', '-o', 'json'])).rules as { resources?: string[] }[];
    expect(rules.some((r) => r.resources?.includes('pods/exec'))).toBe(true);
    expect(rules.some((r) => r.resources?.includes('pods/log'))).toBe(true);
  });

  it('adds the rules of a ClusterRole labelled aggregate-to-view to view, edit and admin', async () => {
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: [example.com]
  resources: [widgets]
  verbs: [get, list, watch]
`,
    );
    for (const role of ['view', 'edit', 'admin']) await eventually(['get', 'clusterrole', role, '-o', 'yaml'], (y) => y.includes('widgets'));
    await ok(['delete', 'clusterrole', 'widgets-view']);
    await eventually(['get', 'clusterrole', 'view', '-o', 'yaml'], (y) => !y.includes('widgets'));
  });
});
