/**
 * `kubectl auth can-i` matrices under RBAC (issue 16): the default roles
 * (cluster-admin, admin, edit, view) and a custom Role, each bound to a user
 * the admin impersonates with `--as`, asked by the real kubectl of a server
 * with kumo's authorizer chain; `can-i --list` shows the custom Role's rules.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlPath } from '../helpers/kubectl.js';
import { kubeconfigFor, rows, run, type RunResult } from './harness.js';
import { startTokenServer, type TokenServer } from './token-server.js';

const NS = 'matrix';
const USERS = ['root', 'owner', 'editor', 'viewer', 'reader'] as const;

/** The question (kubectl auth can-i arguments, in namespace `matrix`) and who may, in USERS order. */
const MATRIX: readonly [string, readonly ('yes' | 'no')[]][] = [
  ['list pods', ['yes', 'yes', 'yes', 'yes', 'yes']],
  ['create pods', ['yes', 'yes', 'yes', 'no', 'no']],
  ['delete deployments.apps', ['yes', 'yes', 'yes', 'no', 'no']],
  ['get secrets', ['yes', 'yes', 'yes', 'no', 'no']],
  ['create rolebindings.rbac.authorization.k8s.io', ['yes', 'yes', 'no', 'no', 'no']],
  ['create localsubjectaccessreviews.authorization.k8s.io', ['yes', 'yes', 'no', 'no', 'no']],
  ['impersonate serviceaccounts', ['yes', 'yes', 'yes', 'no', 'no']],
  ['get configmaps/settings', ['yes', 'yes', 'yes', 'yes', 'yes']],
  ['get configmaps/other', ['yes', 'yes', 'yes', 'yes', 'no']],
  ['delete nodes', ['yes', 'no', 'no', 'no', 'no']],
  // kubectl warns that namespaces are cluster-scoped but still asks in the namespace, where kube's RBAC applies its
  // RoleBindings: the default roles' rules on namespaces answer yes, as on kube.
  ['list namespaces', ['yes', 'yes', 'yes', 'yes', 'no']],
];

/** A binding of `user` to the ClusterRole `role`: cluster-wide, or in namespace NS. */
function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, role: string, user: string): string {
  const namespace = kind === 'RoleBinding' ? `, namespace: ${NS}` : '';
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
metadata: { name: ${name}${namespace} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role} }
subjects: [ { apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user} } ]`;
}

describe('kubectl auth can-i under RBAC: the default roles and a custom one', () => {
  let server: TokenServer;
  let dir: string;
  let kubectl: (args: string[], stdin?: string) => Promise<RunResult>;

  beforeAll(async () => {
    server = await startTokenServer();
    dir = mkdtempSync(join(tmpdir(), 'kumo-rbac-can-i-'));
    mkdirSync(join(dir, 'home'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(server.url, { caData: server.caData, token: server.adminToken }));
    const env = { PATH: process.env.PATH, KUBECONFIG: kubeconfig, HOME: join(dir, 'home'), KUBECTL_KUBERC: 'false' };
    const binary = await kubectlPath();
    kubectl = (args, stdin = '') => run(binary, ['--cache-dir', join(dir, 'cache'), ...args], env, stdin, 30_000);
    const setup = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
${binding('ClusterRoleBinding', 'root-is-cluster-admin', 'cluster-admin', 'root')}
---
${binding('RoleBinding', 'owner-is-admin', 'admin', 'owner')}
---
${binding('RoleBinding', 'editor-edits', 'edit', 'editor')}
---
${binding('RoleBinding', 'viewer-views', 'view', 'viewer')}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-reader, namespace: ${NS} }
rules:
- { apiGroups: [""], resources: [pods], verbs: [get, list, watch] }
- { apiGroups: [""], resources: [configmaps], resourceNames: [settings], verbs: [get] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader-reads, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader }
subjects: [ { apiGroup: rbac.authorization.k8s.io, kind: User, name: reader } ]
`;
    const applied = await kubectl(['apply', '-f', '-'], setup);
    if (applied.code !== 0) throw new Error(applied.stderr);
  });
  afterAll(async () => {
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(USERS.map((u, i) => [u, i] as const))('answers the matrix for %s', async (user, i) => {
    const answers: string[] = [];
    for (const [question] of MATRIX) {
      const r = await kubectl(['auth', 'can-i', ...question.split(' '), '-n', NS, `--as=${user}`]);
      answers.push(r.stdout.trim().split(' ')[0]!);
    }
    expect(answers).toEqual(MATRIX.map(([, who]) => who[i]));
  });

  it("lists the custom Role's rules with kubectl auth can-i --list", async () => {
    const list = await kubectl(['auth', 'can-i', '--list', '-n', NS, '--as=reader']);
    expect(list.code, list.stderr).toBe(0);
    const table = rows(list.stdout);
    expect(table).toContainEqual(['pods', '[]', '[]', '[get list watch]']);
    expect(table).toContainEqual(['configmaps', '[]', '[settings]', '[get]']);
  });
});
