/**
 * Strategic merge patch with the merge keys and directives of
 * k8s.io/apimachinery's strategicpatch, on the kinds kumo serves: patches
 * as kubectl sends them, and what they do to an object.
 */
import { describe, expect, it } from 'vitest';
import { patchSchemaFor, strategicMerge } from '#lib/apiserver/strategic-merge';
import type { Wire } from './harness.js';

function deployment(): Wire {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              ports: [{ containerPort: 80 }, { containerPort: 443 }],
              args: ['--x'],
            },
            { name: 'sidecar', image: 'envoy' },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    },
  };
}

const merge = (patch: Wire) => strategicMerge(deployment(), patch, 'Deployment', 'apps/v1') as Wire;

describe('strategic merge patch', () => {
  it('merges containers by name, env by name and ports by containerPort; replaces atomic lists', () => {
    const out = merge({
      spec: {
        template: {
          spec: { containers: [{ name: 'web', image: 'nginx:1.26', env: [{ name: 'B', value: '3' }], ports: [{ containerPort: 8080 }], args: ['--y'] }] },
        },
      },
    });
    const web = out.spec.template.spec.containers[0];
    expect(web.image).toBe('nginx:1.26');
    expect(web.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
    ]);
    expect(web.ports.map((p: Wire) => p.containerPort)).toEqual([80, 443, 8080]);
    expect(web.args).toEqual(['--y']);
    expect(out.spec.template.spec.containers[1].name).toBe('sidecar');
  });

  it('deletes list items with $patch: delete and map keys with null', () => {
    const out = merge({
      metadata: { labels: { tier: null } },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'sidecar', $patch: 'delete' },
              { name: 'web', env: [{ name: 'A', $patch: 'delete' }] },
            ],
          },
        },
      },
    });
    expect(out.metadata.labels).toEqual({ app: 'web' });
    expect(out.spec.template.spec.containers.map((c: Wire) => c.name)).toEqual(['web']);
    expect(out.spec.template.spec.containers[0].env).toEqual([{ name: 'B', value: '2' }]);
  });

  it('orders lists by $setElementOrder, as kubectl apply sends it', () => {
    const out = merge({
      spec: {
        template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }], containers: [{ name: 'web', image: 'nginx:1.27' }] } },
      },
    });
    expect(out.spec.template.spec.containers.map((c: Wire) => `${c.name}=${c.image}`)).toEqual(['sidecar=envoy', 'web=nginx:1.27']);
  });

  it('clears fields $retainKeys does not list (a strategy switch), and replaces maps with $patch: replace', () => {
    const recreate = merge({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
    expect(recreate.spec.strategy).toEqual({ type: 'Recreate' });
    const replaced = merge({ metadata: { labels: { $patch: 'replace', only: 'this' } } });
    expect(replaced.metadata.labels).toEqual({ only: 'this' });
    const listReplaced = merge({ spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'solo', image: 'x' }] } } } });
    expect(listReplaced.spec.template.spec.containers).toEqual([{ name: 'solo', image: 'x' }]);
  });

  it('merges primitive lists with a merge strategy as sets, with $deleteFromPrimitiveList', () => {
    const out = merge({ metadata: { finalizers: ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } });
    expect(out.metadata.finalizers).toEqual(['a', 'c']);
  });

  it('refuses an item without its merge key with a 422', () => {
    expect(() => merge({ spec: { template: { spec: { containers: [{ image: 'x' }] } } } })).toThrow(/does not contain declared merge key: name/);
  });

  it('derives merge keys from the Kubernetes types for every kind (services by port, conditions by type)', () => {
    const svc = patchSchemaFor('Service');
    expect(svc.fields?.spec?.fields?.ports?.list).toEqual({ key: 'port' });
    expect(patchSchemaFor('Pod').fields?.status?.fields?.conditions?.list).toEqual({ key: 'type' });
    expect(patchSchemaFor('Node').fields?.status?.fields?.addresses?.list).toEqual({ key: 'type' });
    expect(patchSchemaFor('Deployment').fields?.spec?.fields?.strategy?.retainKeys).toBe(true);
    // Kinds without Go types (custom resources) merge lists atomically.
    expect(patchSchemaFor('Widget').fields?.spec).toBeUndefined();
  });
});
