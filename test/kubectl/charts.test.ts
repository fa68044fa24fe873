/**
 * Public Helm charts installed as a user would, with the real helm on
 * simulated nodes behind `kumo up`'s HTTPS front door (token, RBAC), from
 * fixtures/charts (see its README): prometheus-community's
 * prometheus-node-exporter (issue 15's DaemonSet with hostNetwork, hostPID
 * and hostPath mounts, with its ServiceAccount and RBAC) and cert-manager
 * (issue 16: ServiceAccounts, Roles and ClusterRoles aggregated into the
 * default roles, bindings, CRDs and admission webhooks that are called).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { type KubectlCluster, kubeconfigFor, kubectlOk, startKubectlCluster } from './harness.js';

const NODE_EXPORTER = fileURLToPath(new URL('./fixtures/charts/prometheus-node-exporter', import.meta.url));
const CERT_MANAGER = fileURLToPath(new URL('./fixtures/charts/cert-manager', import.meta.url));

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster({ insecureHttp: false, fakeNodes: { names: ['node-1', 'node-2', 'node-3'], startDelayMs: 20, stopDelayMs: 20 } });
  writeFileSync(k.kubeconfig, kubeconfigFor(k.cluster.url, { caData: k.cluster.caData!, token: k.cluster.adminToken! }));
});

afterAll(async () => {
  await k?.dispose();
});

const ok = (args: string[]): Promise<string> => kubectlOk(k, args);

describe('public charts', () => {
  it('installs prometheus-node-exporter: its DaemonSet runs a host-namespace pod on every node as its ServiceAccount, and uninstalls', async () => {
    const r = await k.helm(['install', 'nodes', NODE_EXPORTER, '--wait', '--timeout', '90s'], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await ok(['get', 'daemonset', 'nodes-prometheus-node-exporter', '-o', 'jsonpath={.status.numberAvailable}/{.status.desiredNumberScheduled}'])).toBe(
      '3/3',
    );
    const pods = (
      await ok([
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/instance=nodes',
        '-o',
        'jsonpath={range .items[*]}{.spec.nodeName} {.spec.hostNetwork} {.spec.hostPID}{"\\n"}{end}',
      ])
    )
      .trim()
      .split('\n')
      .sort();
    expect(pods).toEqual(['node-1 true true', 'node-2 true true', 'node-3 true true']);
    expect(await ok(['get', 'pods', '-l', 'app.kubernetes.io/instance=nodes', '-o', 'jsonpath={.items[0].spec.serviceAccountName}'])).toBe(
      'nodes-prometheus-node-exporter',
    );
    expect(await ok(['get', 'service', 'nodes-prometheus-node-exporter', '-o', 'jsonpath={.spec.ports[0].port}'])).toBe('9100');
    expect((await k.helm(['uninstall', 'nodes', '--wait'], { timeoutMs: 60_000 })).code).toBe(0);
    expect(await ok(['get', 'daemonsets,services', '-l', 'app.kubernetes.io/instance=nodes', '-o', 'name'])).toBe('');
  }, 150_000);

  it('installs cert-manager: its ServiceAccounts, RBAC aggregated into the default roles, CRDs and webhooks, which are called; and uninstalls', async () => {
    const r = await k.helm(
      [
        'install',
        'cm',
        CERT_MANAGER,
        '-n',
        'cert-manager',
        '--create-namespace',
        '--set',
        'crds.enabled=true',
        '--set',
        'startupapicheck.enabled=false',
        '--wait',
        '--timeout',
        '120s',
      ],
      { timeoutMs: 150_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const deployments = ['cm-cert-manager', 'cm-cert-manager-cainjector', 'cm-cert-manager-webhook'];
    expect(await ok(['get', 'deployments', '-n', 'cert-manager', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.availableReplicas} {end}'])).toBe(
      deployments.map((d) => `${d}=1 `).join(''),
    );
    // Each pod runs as its own ServiceAccount, with the token volume admission mounts.
    const pods = (
      await ok([
        'get',
        'pods',
        '-n',
        'cert-manager',
        '-o',
        'jsonpath={range .items[*]}{.spec.serviceAccountName} {.spec.volumes[0].projected.sources[0].serviceAccountToken.path}{"\\n"}{end}',
      ])
    )
      .trim()
      .split('\n')
      .sort();
    expect(pods).toEqual(deployments.map((d) => `${d} token`));
    // What its ClusterRoles grant its controller, and nothing more.
    const controller = ['--as', 'system:serviceaccount:cert-manager:cm-cert-manager'];
    expect(await k.kubectl(['auth', 'can-i', 'update', 'certificates.cert-manager.io', '-A', ...controller])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await k.kubectl(['auth', 'can-i', 'delete', 'nodes', ...controller])).toMatchObject({ code: 1, stdout: 'no\n' });
    // Its aggregated roles reach edit: a user bound to edit may create certificates once the controller has aggregated them.
    await ok(['create', 'rolebinding', 'jane-edits', '-n', 'default', '--clusterrole=edit', '--user=jane']);
    await waitFor(
      async () => (await k.kubectl(['auth', 'can-i', 'create', 'certificates.cert-manager.io', '-n', 'default', '--as', 'jane'])).stdout === 'yes\n',
      {
        timeoutMs: 15_000,
        what: 'edit to aggregate cert-manager-edit',
      },
    );
    // Its webhooks are called: the simulated webhook pod answers nothing, and failurePolicy Fail refuses the write, naming it.
    const issuer = await k.kubectl(['create', '-n', 'default', '-f', '-'], {
      stdin: 'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata:\n  name: self\nspec:\n  selfSigned: {}\n',
    });
    expect(issuer.code).toBe(1);
    expect(issuer.stderr).toContain('failed calling webhook "webhook.cert-manager.io"');
    expect(await ok(['get', 'issuers.cert-manager.io', '-n', 'default', '-o', 'name'])).toBe('');
    expect((await k.helm(['uninstall', 'cm', '-n', 'cert-manager', '--wait'], { timeoutMs: 60_000 })).code).toBe(0);
    expect(
      await ok(['get', 'validatingwebhookconfigurations,mutatingwebhookconfigurations,clusterroles', '-l', 'app.kubernetes.io/instance=cm', '-o', 'name']),
    ).toBe('');
  }, 240_000);
});
