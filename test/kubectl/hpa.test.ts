/**
 * HorizontalPodAutoscaler with the real kubectl: `kubectl autoscale`, the
 * columns and describer, kube's validation, and the controller scaling a
 * Deployment up under simulated load and back down once the load is gone.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite({
  fakeNodes: { names: ['node-1', 'node-2'], startDelayMs: 20, leaseRenewMs: 300 },
  controlPlane: { podAutoscaler: { syncPeriodMs: 300 } },
});
const { ok, refused } = k;

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {kumo.io/sim-cpu: 200m}
    spec:
      containers:
      - name: web
        image: busybox
        resources: {requests: {cpu: 100m}}
`;

async function hpaRow(): Promise<string[]> {
  return rows(await ok(['get', 'hpa', 'web', '--no-headers']))[0]!;
}

describe('HorizontalPodAutoscaler', () => {
  it('scales a Deployment up under load and back down after its stabilization window', { timeout: 60_000 }, async () => {
    await ok(['apply', '-f', '-'], deployment);
    expect(await ok(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5'])).toBe('horizontalpodautoscaler.autoscaling/web autoscaled\n');
    // 200m used of 100m requested is 200 %, four times the 50 % target: more replicas, at most doubling (or 4) per sync, up to --max.
    const up = await waitFor(
      async () => {
        const r = await hpaRow();
        return r[5] === '5' && r[2] === 'cpu: 200%/50%' ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the HPA at 5 replicas' },
    );
    expect(up).toEqual(['web', 'Deployment/web', 'cpu: 200%/50%', '1', '5', '5', expect.any(String)]);
    expect(rows(await ok(['get', 'deploy', 'web', '--no-headers']))[0]![1]).toMatch(/\/5$/);

    await ok(['patch', 'hpa', 'web', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":2}}}}']);
    await ok(['annotate', 'pods', '-l', 'app=web', 'kumo.io/sim-cpu=5m', '--overwrite']);
    const down = await waitFor(
      async () => {
        const r = await hpaRow();
        return r[5] === '1' ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the HPA back at 1 replica' },
    );
    expect(down[2]).toMatch(/^cpu: \d+%\/50%$/);

    const described = await ok(['describe', 'hpa', 'web']);
    expect(described).toMatch(/Reference:\s+Deployment\/web/);
    expect(described).toMatch(/resource cpu on pods\s+\(as a percentage of request\):\s+\d+% \(\d+m\) \/ 50%/);
    expect(described).toMatch(/Min replicas:\s+1/);
    expect(described).toMatch(/Deployment pods:\s+1 current \/ 1 desired/);
    expect(described).toMatch(
      /ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)/,
    );
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/);
    expect(described).toMatch(/Stabilization Window: 2 seconds/);
  });

  it('says why it cannot scale a target that does not exist', async () => {
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost}
  maxReplicas: 3
`,
    );
    const described = await waitFor(async () => {
      const d = await ok(['describe', 'hpa', 'ghost']);
      return d.includes('FailedGetScale') ? d : undefined;
    });
    expect(described).toMatch(
      /AbleToScale\s+False\s+FailedGetScale\s+the HPA controller was unable to get the target's current scale: deployments.apps "ghost" not found/,
    );
    expect(rows(await ok(['get', 'hpa', 'ghost', '--no-headers']))[0]!.slice(0, 5)).toEqual(['ghost', 'Deployment/ghost', 'cpu: <unknown>/80%', '1', '3']);
  });

  it('refuses what kube refuses, with its messages, and stores nothing', async () => {
    const bad = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {kind: Deployment, name: ""}
  minReplicas: 4
  maxReplicas: 2
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 4000, policies: [{type: Pods, value: 0, periodSeconds: 15}]}
`;
    const err = await refused(['apply', '-f', '-'], bad);
    expect(err).toContain('The HorizontalPodAutoscaler "bad" is invalid: ');
    expect(err).toContain('spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`');
    expect(err).toContain('spec.scaleTargetRef.name: Required value');
    expect(err).toContain('spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0');
    expect(err).toContain('spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600');
    expect(err).toContain('spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero');
    expect(await refused(['get', 'hpa', 'bad'])).toBe('Error from server (NotFound): horizontalpodautoscalers.autoscaling "bad" not found');
    expect(await refused(['autoscale', 'deployment', 'web', '--max=0'])).toBe('error: --max=MAXPODS is required and must be at least 1, max: 0');
  });

  it('serves autoscaling/v1 beside v2: one object in both forms, v2-only fields kept through a v1 update', async () => {
    const v1 = `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: legacy}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 3
  targetCPUUtilizationPercentage: 60
`;
    expect(await ok(['apply', '-f', '-'], v1)).toBe('horizontalpodautoscaler.autoscaling/legacy created\n');
    expect(
      await ok([
        'get',
        'horizontalpodautoscalers.v1.autoscaling',
        'legacy',
        '-o',
        'jsonpath={.apiVersion} {.spec.minReplicas} {.spec.targetCPUUtilizationPercentage}',
      ]),
    ).toBe('autoscaling/v1 1 60');
    expect(
      await ok([
        'get',
        'horizontalpodautoscalers.v2.autoscaling',
        'legacy',
        '-o',
        'jsonpath={.apiVersion} {.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.averageUtilization}',
      ]),
    ).toBe('autoscaling/v2 cpu 60');
    // A memory metric only v2 can say: a v1 client sees it in kube's annotation and keeps it when it writes.
    await ok([
      'patch',
      'horizontalpodautoscalers.v2.autoscaling',
      'legacy',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/spec/metrics/-","value":{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"100Mi"}}}}]',
    ]);
    expect(
      await ok([
        'get',
        'horizontalpodautoscalers.v1.autoscaling',
        'legacy',
        '-o',
        "jsonpath={.metadata.annotations['autoscaling\\.alpha\\.kubernetes\\.io/metrics']}",
      ]),
    ).toContain('"memory"');
    await ok(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'legacy', '--type=merge', '-p', '{"spec":{"maxReplicas":7}}']);
    expect(await ok(['get', 'horizontalpodautoscalers.v2.autoscaling', 'legacy', '-o', 'jsonpath={.spec.maxReplicas} {.spec.metrics[*].resource.name}'])).toBe(
      '7 cpu memory',
    );
    expect(await ok(['get', 'horizontalpodautoscalers.v2.autoscaling', 'legacy', '-o', 'jsonpath={.metadata.annotations}'])).not.toContain('autoscaling.alpha');
    // v1 is validated as kube validates it: in the internal (v2) form.
    expect(
      await refused(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'legacy', '--type=merge', '-p', '{"spec":{"targetCPUUtilizationPercentage":0}}']),
    ).toContain('spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0');
    await ok(['delete', 'hpa', 'legacy']);
  });
});
