/**
 * The test that matters for in-cluster clients: @kubernetes/client-node's
 * `loadFromCluster()` in a real container (docker runtime, `kumo up` over
 * TLS) finds the API server by KUBERNETES_SERVICE_HOST/PORT, reaches it
 * through the node proxy on the `kubernetes` Service's ClusterIP, verifies
 * its certificate against the mounted `ca.crt` (kube-root-ca.crt), and
 * authenticates with its ServiceAccount's token, which admission's
 * kube-api-access-* volume asked the agent to request; with RBAC it lists the
 * pods its Role allows and gets 403 for Secrets. The image holds only the host's node binary and its
 * libraries (node-image.ts); the client's packages are this checkout's,
 * mounted read-only, and its script comes from a ConfigMap.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS, PODS, SERVICE_ACCOUNTS } from '#lib/kinds/resources';
import type { KObject } from '#lib/api/object';
import { needClusterIPs } from '../helpers/cluster-ips.js';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, removeNodeContainers, uniqueNode } from './docker.js';
import { agentCluster, type P, podObject, waitGone, waitPod } from './harness.js';
import { ensureNodeImage, NODE_IMAGE } from './node-image.js';

const docker = await dockerForTests();

/** What the client does: list pods and secrets of its namespace, print each outcome as one JSON line. */
const CLIENT = `
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const namespace = readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8');
const core = kc.makeApiClient(k8s.CoreV1Api);
const out = { server: kc.getCurrentCluster().server, namespace };
for (const [what, call] of [['pods', () => core.listNamespacedPod({ namespace })], ['secrets', () => core.listNamespacedSecret({ namespace })]]) {
  try {
    out[what] = { code: 200, names: (await call()).items.map((i) => i.metadata.name) };
  } catch (err) {
    out[what] = { code: err.code ?? String(err), reason: typeof err.body === 'string' ? JSON.parse(err.body).reason : undefined };
  }
}
console.log(JSON.stringify(out));
`;

/** A service range of its own, so its kubernetes ClusterIP is no other test cluster's on this host. */
const second = 200 + Math.floor(Math.random() * 50);
const RANGE = `10.${second}.0.0/16`;
const CLUSTER_IP = `10.${second}.0.1`;

describe.runIf(docker)('an in-cluster client in a container', () => {
  const node = uniqueNode('incluster');
  let c: Awaited<ReturnType<typeof agentCluster>>;

  beforeAll(async () => {
    await ensureNodeImage();
    c = await agentCluster({ runtime: 'docker', nodeNames: [node], insecureHttp: false, serviceClusterIPRange: RANGE, mountServiceAccountToken: true });
    await c.client.create(CONFIGMAPS, 'default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'client' },
      data: { 'client.mjs': CLIENT },
    } as KObject);
    await c.client.create(SERVICE_ACCOUNTS, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } } as KObject);
  }, 180_000);

  afterAll(async () => {
    if (!c) return;
    for (const name of ['client', 'bound-client']) await c.client.delete(PODS, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
    for (const name of ['client', 'bound-client']) await waitGone(c.client, name).catch(() => undefined);
    await c.dispose();
    await removeNodeContainers(node);
  });

  const logs = async (pod: string, container: string) => {
    let out = '';
    for await (const chunk of await c.agents.get(node)!.openLogs('default', pod, container, { follow: false, previous: false, timestamps: false }))
      out += Buffer.from(chunk).toString();
    return out;
  };

  /** Runs the client as ServiceAccount `reader` with no credentials of its own: admission mounts kube-api-access-*, whose token the agent requests. */
  async function startClient(name: string): Promise<void> {
    await c.client.create(
      PODS,
      'default',
      podObject(name, {
        serviceAccountName: 'reader',
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        volumes: [
          { name: 'script', configMap: { name: 'client' } },
          { name: 'packages', hostPath: { path: join(process.cwd(), 'node_modules'), type: 'Directory' } },
        ],
        containers: [
          {
            name: 'client',
            image: NODE_IMAGE,
            imagePullPolicy: 'Never',
            command: ['node', '/app/script/client.mjs'],
            volumeMounts: [
              { name: 'script', mountPath: '/app/script', readOnly: true },
              { name: 'packages', mountPath: '/app/node_modules', readOnly: true },
            ],
          },
        ],
      }),
    );
  }

  /** The finished client pod and the outcome it printed. */
  async function clientResult(name: string): Promise<{ pod: P; result: unknown }> {
    const pod = await waitPod(c.client, name, (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed', 'finished', 60_000);
    const out = await logs(name, 'client');
    expect(pod.status?.phase, out).toBe('Succeeded');
    return { pod, result: JSON.parse(out.trim().split('\n').pop()!) };
  }

  it('reaches the API through the kubernetes Service with its ServiceAccount token', async (ctx) => {
    await waitFor(() => c.proxy!.listening().includes(`${CLUSTER_IP}:443`) || !!c.proxy!.clusterIPsUnavailable, { what: 'the ClusterIP listener' });
    needClusterIPs(c.proxy!.clusterIPsUnavailable, () => ctx.skip());
    await startClient('client');
    const { pod, result } = await clientResult('client');
    expect(pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-') && v.projected)).toBe(true);
    // Authenticated as its ServiceAccount (a 403, not a 401) and authorized by RBAC, which grants it nothing yet.
    expect(result).toEqual({
      server: `https://${CLUSTER_IP}:443`,
      namespace: 'default',
      pods: { code: 403, reason: 'Forbidden' },
      secrets: { code: 403, reason: 'Forbidden' },
    });
  }, 120_000);

  it('lists what its Role allows and gets 403 for the rest', async (ctx) => {
    needClusterIPs(c.proxy!.clusterIPsUnavailable, () => ctx.skip());
    const rbac = (resource: string, body: Record<string, unknown>) =>
      c.client.call({
        method: 'POST',
        path: `/apis/rbac.authorization.k8s.io/v1/namespaces/default/${resource}`,
        body: { apiVersion: 'rbac.authorization.k8s.io/v1', ...body },
      });
    await rbac('roles', { kind: 'Role', metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] });
    await rbac('rolebindings', {
      kind: 'RoleBinding',
      metadata: { name: 'reader-reads-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'default' }],
    });
    await startClient('bound-client');
    const { result } = await clientResult('bound-client');
    expect(result).toEqual({
      server: `https://${CLUSTER_IP}:443`,
      namespace: 'default',
      pods: { code: 200, names: ['bound-client', 'client'] },
      secrets: { code: 403, reason: 'Forbidden' },
    });
  }, 120_000);
});
