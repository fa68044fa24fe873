/**
 * The DaemonSet controller's per-node decisions (kube's daemon/util and
 * NodeShouldRunDaemonPod): which nodes run a pod, which may keep one, the
 * daemon tolerations, the pinning node affinity and the rolling budgets.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { PodTemplateSpec } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { nodeShouldRunDaemonPod, pinToNode, surgeAndUnavailable, targetNode, withDaemonTolerations } from '#lib/controllers/daemon-util';

function node(name: string, labels: Record<string, string> = {}, taints: { key: string; value?: string; effect: string }[] = []): Node & KObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } } as Node & KObject;
}

const template = (spec: PodTemplateSpec['spec'] = { containers: [{ name: 'c', image: 'busybox' }] }): PodTemplateSpec => ({ spec });

describe('nodeShouldRunDaemonPod', () => {
  it('runs on a node the nodeSelector and required node affinity both match, and nowhere else', () => {
    const t = template({
      containers: [{ name: 'c', image: 'busybox' }],
      nodeSelector: { role: 'edge' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
        },
      },
    });
    expect(nodeShouldRunDaemonPod(t, node('n1', { role: 'edge', zone: 'a' }))).toEqual({ shouldRun: true, shouldContinueRunning: true });
    expect(nodeShouldRunDaemonPod(t, node('n2', { role: 'edge', zone: 'b' }))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeShouldRunDaemonPod(t, node('n3', { zone: 'a' }))).toEqual({ shouldRun: false, shouldContinueRunning: false });
  });

  it('keeps new pods off an untolerated NoSchedule taint but lets a running one stay; removes it on NoExecute', () => {
    expect(nodeShouldRunDaemonPod(template(), node('n', {}, [{ key: 'maintenance', effect: 'NoSchedule' }]))).toEqual({
      shouldRun: false,
      shouldContinueRunning: true,
    });
    expect(nodeShouldRunDaemonPod(template(), node('n', {}, [{ key: 'drain', effect: 'NoExecute' }]))).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    const tolerant = template({ containers: [{ name: 'c', image: 'busybox' }], tolerations: [{ operator: 'Exists' }] });
    expect(nodeShouldRunDaemonPod(tolerant, node('n', {}, [{ key: 'drain', effect: 'NoExecute' }])).shouldRun).toBe(true);
  });

  it('tolerates the node conditions kube tolerates for daemon pods (not-ready, unreachable, pressure, unschedulable)', () => {
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      expect(nodeShouldRunDaemonPod(template(), node('n', {}, [{ key, effect: 'NoExecute' }])).shouldRun).toBe(true);
    }
    for (const key of [
      'node.kubernetes.io/disk-pressure',
      'node.kubernetes.io/memory-pressure',
      'node.kubernetes.io/pid-pressure',
      'node.kubernetes.io/unschedulable',
    ]) {
      expect(nodeShouldRunDaemonPod(template(), node('n', {}, [{ key, effect: 'NoSchedule' }])).shouldRun).toBe(true);
    }
    const network = node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]);
    expect(nodeShouldRunDaemonPod(template(), network).shouldRun).toBe(false);
    expect(nodeShouldRunDaemonPod(template({ containers: [{ name: 'c', image: 'busybox' }], hostNetwork: true }), network).shouldRun).toBe(true);
  });
});

describe('daemon pod shape', () => {
  it('adds each daemon toleration once, replacing a matching one the template has', () => {
    const spec = withDaemonTolerations({
      containers: [],
      tolerations: [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
        { key: 'mine', operator: 'Exists' },
      ],
    });
    expect(spec.tolerations).toHaveLength(7);
    expect(spec.tolerations?.find((t) => t.key === 'node.kubernetes.io/unreachable')).toEqual({
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
    });
  });

  it('pins a pod to its node by replacing the required node affinity and keeps the preferred terms', () => {
    const preferred = [{ weight: 1, preference: { matchExpressions: [{ key: 'x', operator: 'Exists' }] } }];
    const affinity = pinToNode(
      {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: preferred,
        },
      },
      'node-7',
    );
    expect(affinity.nodeAffinity).toEqual({
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-7'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: preferred,
    });
    expect(targetNode({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [], affinity } })).toBe('node-7');
    expect(targetNode({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [], affinity, nodeName: 'bound' } })).toBe('bound');
  });
});

describe('surgeAndUnavailable', () => {
  it('scales percentages against the desired count, rounding up, and never leaves both at 0', () => {
    expect(surgeAndUnavailable({ maxUnavailable: '25%', maxSurge: 0 }, 10)).toEqual({ maxSurge: 0, maxUnavailable: 3 });
    expect(surgeAndUnavailable({ maxUnavailable: 0, maxSurge: '10%' }, 15)).toEqual({ maxSurge: 2, maxUnavailable: 0 });
    expect(surgeAndUnavailable({ maxUnavailable: '10%', maxSurge: 0 }, 0)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(surgeAndUnavailable(undefined, 5)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});
