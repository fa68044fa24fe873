/**
 * A public Helm chart that needs issue 15's kinds, installed as a user would
 * with the real helm on simulated nodes: prometheus-community's
 * prometheus-node-exporter (vendored in fixtures/charts; see its README)
 * is a DaemonSet with hostNetwork, hostPID and hostPath mounts. Its
 * ServiceAccount and RBAC objects are turned off: kumo does not serve those
 * kinds yet (issue 16).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubectlCluster, kubectlOk, startKubectlCluster } from './harness.js';

const NODE_EXPORTER = fileURLToPath(new URL('./fixtures/charts/prometheus-node-exporter', import.meta.url));

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster({ fakeNodes: { names: ['node-1', 'node-2', 'node-3'], startDelayMs: 20, stopDelayMs: 20 } });
});

afterAll(async () => {
  await k?.dispose();
});

const ok = (args: string[]): Promise<string> => kubectlOk(k, args);

describe('public charts', () => {
  it('installs prometheus-node-exporter: its DaemonSet runs a host-namespace pod on every node, and uninstalls', async () => {
    const r = await k.helm(
      ['install', 'nodes', NODE_EXPORTER, '--set', 'serviceAccount.create=false', '--set', 'rbac.create=false', '--wait', '--timeout', '90s'],
      { timeoutMs: 120_000 },
    );
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
    expect(await ok(['get', 'service', 'nodes-prometheus-node-exporter', '-o', 'jsonpath={.spec.ports[0].port}'])).toBe('9100');
    expect((await k.helm(['uninstall', 'nodes', '--wait'], { timeoutMs: 60_000 })).code).toBe(0);
    expect(await ok(['get', 'daemonsets,services', '-l', 'app.kubernetes.io/instance=nodes', '-o', 'name'])).toBe('');
  }, 150_000);
});
