/**
 * The quota's pure logic: exact quantity arithmetic printed in kube's
 * canonical form, and what a pod costs (kube's PodRequests with init
 * containers, sidecars and overhead; terminal pods; scopes).
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { add, amountsOf, formatAmount, parseAmount, prettyPrint, toResourceList } from '#lib/api/quota/amounts';
import { evaluatorFor, isBestEffort } from '#lib/api/quota/evaluators';

const canonical = (q: string) => formatAmount(parseAmount(q)!);

describe('quota amounts', () => {
  it("prints quantities in Quantity.String()'s canonical form", () => {
    expect(['1000m', '0.5', '1.5', '1500', '2000', '1024Mi', '1536', '512', '1e3', '0.1Gi', '100n', '-2'].map(canonical)).toEqual([
      '1',
      '500m',
      '1500m',
      '1500',
      '2k',
      '1Gi',
      '1536',
      '512',
      '1k',
      '107374182400m',
      '1m',
      '-2',
    ]);
    expect(parseAmount('1.5.5')).toBeUndefined();
    expect(parseAmount('1Q')).toBeUndefined();
  });

  it('adds exactly, keeping the first non-zero operand’s format', () => {
    const tenth = amountsOf({ cpu: '100m' });
    let sum = amountsOf({ cpu: '0', memory: '0' });
    for (let i = 0; i < 3; i++) sum = add(sum, { ...tenth, ...amountsOf({ memory: '512Mi' }) });
    expect(toResourceList(sum)).toEqual({ cpu: '300m', memory: '1536Mi' });
    expect(prettyPrint(amountsOf({ pods: 2, 'limits.cpu': '1' }))).toBe('limits.cpu=1,pods=2');
  });
});

describe('the pod evaluator', () => {
  const pods = evaluatorFor('', 'pods');
  const pod = (spec: Pod['spec'], status?: Pod['status']): Pod & KObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec,
    ...(status ? { status } : {}),
  });
  const c = (name: string, cpu: string, extra = {}) => ({ name, image: 'i', resources: { requests: { cpu }, limits: { cpu } }, ...extra });

  it('charges the larger of the containers’ sum and the init containers’ peak, sidecars added, overhead on top', () => {
    const p = pod({
      containers: [c('a', '200m'), c('b', '300m')],
      initContainers: [c('init', '1'), c('sidecar', '100m', { restartPolicy: 'Always' })],
      overhead: { cpu: '50m' },
    });
    expect(toResourceList(pods.usage(p, 0))).toEqual({
      'count/pods': '1',
      pods: '1',
      cpu: '1050m',
      'requests.cpu': '1050m',
      'limits.cpu': '1050m',
    });
  });

  it('charges only count/pods for a pod in a terminal phase or past its deletion grace', () => {
    expect(toResourceList(pods.usage(pod({ containers: [c('a', '1')] }, { phase: 'Succeeded' }), 0))).toEqual({ 'count/pods': '1' });
    const stuck = { ...pod({ containers: [c('a', '1')] }), metadata: { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } };
    expect(Object.keys(pods.usage(stuck, Date.parse('2026-01-01T00:00:31Z')))).toEqual(['count/pods']);
    expect(Object.keys(pods.usage(stuck, Date.parse('2026-01-01T00:00:29Z')))).toContain('requests.cpu');
  });

  it('reads BestEffort, Terminating and PriorityClass scopes as kube does', () => {
    const bare = pod({ containers: [{ name: 'a', image: 'i' }], activeDeadlineSeconds: 5, priorityClassName: 'high' });
    expect(isBestEffort(bare)).toBe(true);
    expect(pods.matchesScope({ scopeName: 'Terminating', operator: 'Exists' }, bare)).toBe(true);
    expect(pods.matchesScope({ scopeName: 'PriorityClass', operator: 'NotIn', values: ['high'] }, bare)).toBe(false);
    expect(pods.matchesScope({ scopeName: 'PriorityClass', operator: 'In', values: ['high', 'low'] }, bare)).toBe(true);
    expect(evaluatorFor('', 'configmaps').matchesScope({ scopeName: 'BestEffort', operator: 'Exists' }, bare)).toBe(false);
  });
});
