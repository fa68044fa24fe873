/** How many nodes pending pods need (pure): packing onto copies of a group node, nodes on their way first. */
import { describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { planScaleUp, templateNode } from '#lib/cloudprovider/scale-up-plan';

type N = Node & KObject;
type P = Pod & KObject;

const node: N = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'i-1', uid: 'n1', labels: { 'kubernetes.io/hostname': 'i-1', pool: 'general' } },
  spec: {
    unschedulable: true,
    taints: [
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'web', effect: 'PreferNoSchedule' },
    ],
  },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'Unknown' }] },
} as N;

let n = 0;
function pod(cpu: string, extra: Partial<NonNullable<P['spec']>> = {}): P {
  n++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${n}`, namespace: 'default', uid: `u${n}` },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }], ...extra },
  } as P;
}

describe('planScaleUp', () => {
  it('copies a group node as a schedulable, Ready, empty one with its permanent taints', () => {
    const t = templateNode(node, 'template-0');
    expect(t.spec).toEqual({ taints: [{ key: 'dedicated', value: 'web', effect: 'PreferNoSchedule' }] });
    expect(t.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'template-0', pool: 'general' });
    expect(t.status?.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
  });

  it('packs pods largest first onto as few new nodes as hold them', () => {
    // 3 + 1, 3 + 1, 2 + 2 on 4-CPU nodes.
    const plan = planScaleUp([pod('1'), pod('3'), pod('2'), pod('1'), pod('3'), pod('2')], node, 0);
    expect(plan.newNodes).toBe(3);
    expect(plan.helped).toHaveLength(6);
    expect(plan.unhelpable).toEqual([]);
  });

  it('counts nodes on their way first', () => {
    expect(planScaleUp([pod('2'), pod('2'), pod('2'), pod('2')], node, 1).newNodes).toBe(1);
    expect(planScaleUp([pod('2'), pod('2')], node, 1).newNodes).toBe(0);
  });

  it('buys nothing for pods a new node would not take either', () => {
    const tooBig = pod('8');
    const elsewhere = pod('1', { nodeSelector: { pool: 'gpu' } });
    const plan = planScaleUp([tooBig, elsewhere, pod('1')], node, 0);
    expect(plan.newNodes).toBe(1);
    expect(plan.unhelpable.map((p) => p.metadata.name)).toEqual([tooBig.metadata.name, elsewhere.metadata.name]);
  });

  it('plans one node when the group has none to copy yet', () => {
    expect(planScaleUp([pod('1')], undefined, 0).newNodes).toBe(1);
    expect(planScaleUp([pod('1')], undefined, 2).newNodes).toBe(0);
  });
});
