/**
 * `kubectl top` against simulated nodes: the usage each node reports on its
 * Lease, served as metrics.k8s.io NodeMetrics and PodMetrics.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite({ fakeNodes: { names: ['node-1', 'node-2'], startDelayMs: 20, leaseRenewMs: 300 } });
const { ok, refused } = k;

const pod = (name: string, annotations: string, labels = 'app: top') =>
  `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    ${labels}
  annotations:
${annotations}
spec:
  containers:
  - name: web
    image: busybox
    resources: {requests: {cpu: 500m, memory: 128Mi}}
  - name: side
    image: busybox
`;

describe('kubectl top', () => {
  it('shows every node with its usage and the share of its allocatable', async () => {
    const table = await waitFor(async () => {
      const t = rows(await ok(['top', 'nodes']));
      return t.length === 3 ? t : undefined;
    });
    expect(table[0]).toEqual(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    expect(
      table
        .slice(1)
        .map((r) => r[0])
        .sort(),
    ).toEqual(['node-1', 'node-2']);
    for (const r of table.slice(1))
      expect(r.slice(1)).toEqual([
        expect.stringMatching(/^\d+m$/),
        expect.stringMatching(/^\d+%$/),
        expect.stringMatching(/^\d+Mi$/),
        expect.stringMatching(/^\d+%$/),
      ]);
  });

  it('shows pods and their containers with the load they are annotated with, by label and across namespaces', async () => {
    await ok(['apply', '-f', '-'], pod('busy', `    kumo.io/sim-cpu: 250m\n    kumo.io/sim-memory.side: 10Mi`));
    await ok(['apply', '-f', '-'], pod('idle', `    unrelated: x`, 'app: other'));
    const table = await waitFor(async () => {
      const t = rows(await ok(['top', 'pods', '--containers', '-l', 'app=top']));
      return t.length === 3 ? t : undefined;
    });
    expect(table).toEqual([
      ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['busy', 'side', '250m', '10Mi'],
      ['busy', 'web', '250m', '64Mi'],
    ]);
    // Without an annotation: a tenth of the CPU request and half the memory request, or the idle default.
    const idle = await waitFor(async () => {
      const t = rows(await ok(['top', 'pods', '-A', '--no-headers']));
      return t.find((r) => r[1] === 'idle');
    });
    expect(idle).toEqual(['default', 'idle', '52m', '88Mi']);
  });

  it("serves metrics.k8s.io read-only, with kube-apiserver's refusals", async () => {
    const metrics = JSON.parse(await ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])) as Record<string, unknown>;
    expect(metrics).toMatchObject({
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'busy', namespace: 'default' },
      window: expect.stringMatching(/^\d+s$/),
    });
    expect(await refused(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope'])).toBe(
      'Error from server (NotFound): pods.metrics.k8s.io "nope" not found',
    );
    expect(await refused(['delete', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])).toContain('MethodNotAllowed');
    // As metrics-server answers for a pod it has no metrics of.
    expect(await refused(['top', 'pod', 'nope'])).toBe('Error from server (NotFound): pods.metrics.k8s.io "nope" not found');
  });
});
