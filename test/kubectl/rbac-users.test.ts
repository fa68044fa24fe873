/**
 * RBAC with the real kubectl against `kumo up` with TLS, as different users:
 * kumo tokens made by `kumo token create` (a named user with no binding, a
 * namespace admin), a Role and RoleBinding that let one user list pods in
 * one namespace and not elsewhere (kubectl's error text), a binding to a
 * role that does not exist, and escalation refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '#lib/cli/io';
import { main } from '#lib/cli/main';
import { kubectlPath } from '../helpers/kubectl.js';
import { kubeconfigFor, kubectlSuite, run } from './harness.js';

const k = kubectlSuite({ insecureHttp: false, fakeNodes: { names: [], startDelayMs: 0 } });

/** A kubeconfig for the suite's cluster with `token`; returns its path. */
function kubeconfig(name: string, token: string): string {
  const c = k.cluster();
  const path = join(c.dir, `kubeconfig-${name}`);
  writeFileSync(path, kubeconfigFor(c.cluster.url, { caData: c.cluster.caData!, token }));
  return path;
}

async function as(config: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(
    await kubectlPath(),
    ['--kubeconfig', config, '--cache-dir', join(k.cluster().dir, `cache-${config.split('-').pop()}`), ...args],
    k.cluster().env,
    '',
    30_000,
  );
}

/** `kumo token create ...` as the cluster's admin; returns the token. */
async function kumoToken(...args: string[]): Promise<string> {
  const io = memoryIO('', { ...process.env, KUBECONFIG: kubeconfig('admin', k.cluster().cluster.adminToken!) });
  const code = await main(['token', 'create', ...args], io);
  if (code !== 0) throw new Error(io.stderr);
  return io.stdout.trim();
}

describe('RBAC with kubectl as different users (kumo up, TLS)', () => {
  it("lets a RoleBinding give a user pods in one namespace and refuses it elsewhere, in kubectl's words", async () => {
    const admin = kubeconfig('admin', k.cluster().cluster.adminToken!);
    const alice = kubeconfig('alice', await kumoToken('--user', 'alice'));
    expect((await as(admin, ['create', 'namespace', 'team'])).code).toBe(0);
    expect((await as(admin, ['create', 'role', 'pod-reader', '-n', 'team', '--verb=get,list,watch', '--resource=pods'])).code).toBe(0);
    const before = await as(alice, ['get', 'pods', '-n', 'team']);
    expect(before.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"',
    );
    expect((await as(admin, ['create', 'rolebinding', 'alice-reads', '-n', 'team', '--role=pod-reader', '--user=alice'])).code).toBe(0);
    const after = await as(alice, ['get', 'pods', '-n', 'team']);
    expect(after).toMatchObject({ code: 0, stderr: 'No resources found in team namespace.\n' });
    const elsewhere = await as(alice, ['get', 'pods', '-n', 'default']);
    expect(elsewhere.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"',
    );
  });

  it('accepts a binding to a role that does not exist, which grants nothing', async () => {
    const admin = kubeconfig('admin', k.cluster().cluster.adminToken!);
    const carol = kubeconfig('carol', await kumoToken('--user', 'carol'));
    expect((await as(admin, ['create', 'rolebinding', 'ghost', '-n', 'team', '--clusterrole=not-yet', '--user=carol'])).code).toBe(0);
    const r = await as(carol, ['get', 'pods', '-n', 'team']);
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "carol" cannot list resource "pods" in API group "" in the namespace "team": RBAC: clusterrole.rbac.authorization.k8s.io "not-yet" not found',
    );
  });

  it('refuses a namespace admin a binding to cluster-admin (escalation), and lets it bind edit', async () => {
    const admin = kubeconfig('admin', k.cluster().cluster.adminToken!);
    const teamAdmin = kubeconfig('teamadmin', await kumoToken('--role', 'admin', '-n', 'team'));
    const wide = await as(teamAdmin, ['create', 'clusterrolebinding', 'mine', '--clusterrole=cluster-admin', '--user=dave']);
    expect(wide.stderr).toMatch(
      /clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "kumo:token:[a-z0-9]+" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope/,
    );
    const escalate = await as(teamAdmin, ['create', 'rolebinding', 'mine', '-n', 'team', '--clusterrole=cluster-admin', '--user=dave']);
    expect(escalate.code).toBe(1);
    expect(escalate.stderr).toMatch(
      /rolebindings.rbac.authorization.k8s.io "mine" is forbidden: user "kumo:token:[a-z0-9]+" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/,
    );
    expect((await as(admin, ['get', 'rolebinding', 'mine', '-n', 'team'])).code).toBe(1);
    expect((await as(teamAdmin, ['create', 'rolebinding', 'editors', '-n', 'team', '--clusterrole=edit', '--user=dave'])).code).toBe(0);
  });
});
