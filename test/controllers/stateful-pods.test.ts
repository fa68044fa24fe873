/** The StatefulSet's pods and claims as functions of the set and an ordinal (lib/controllers/stateful-pods.ts). */
import { describe, expect, it } from 'vitest';
import { claimOwnerRefs, claimsFor, newStatefulPod, ordinalOf, type Claim, type StatefulSetObject } from '#lib/controllers/stateful-pods';

function set(policy: { whenDeleted?: string; whenScaled?: string } = {}): StatefulSetObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'ns', uid: 'set-uid' },
    spec: {
      serviceName: 'svc',
      selector: { matchLabels: { app: 'web' } },
      persistentVolumeClaimRetentionPolicy: policy,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'c' }],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'cache', emptyDir: {} },
          ],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'] } }],
    },
  };
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', uid: 'pod-uid' } };
const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' };
const podRef = { apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'pod-uid' };

describe('stateful pods', () => {
  it('reads the ordinal of <set>-<n> only', () => {
    const s = set();
    expect(
      ['web-0', 'web-12', 'web-01', 'web-x', 'webby-1', 'web-'].map((name) => ordinalOf(s, { apiVersion: 'v1', kind: 'Pod', metadata: { name } })),
    ).toEqual([0, 12, undefined, undefined, undefined, undefined]);
  });

  it('makes the pod at an ordinal with its identity, revision and claim volume ahead of the other volumes', () => {
    const p = newStatefulPod(set(), set().spec!.template!, 'web-abc', 1) as unknown as {
      metadata: { name: string; labels: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(p.metadata.name).toBe('web-1');
    expect(p.metadata.labels).toEqual({
      app: 'web',
      'statefulset.kubernetes.io/pod-name': 'web-1',
      'apps.kubernetes.io/pod-index': '1',
      'controller-revision-hash': 'web-abc',
    });
    expect(p.spec).toMatchObject({ hostname: 'web-1', subdomain: 'svc' });
    expect(p.spec.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } },
      { name: 'cache', emptyDir: {} },
    ]);
  });

  it("names each claim <template>-<set>-<ordinal> with the selector's labels", () => {
    expect(claimsFor(set(), 2).map((c) => [c.metadata.name, c.metadata.labels])).toEqual([['data-web-2', { tier: 'db', app: 'web' }]]);
  });

  it('gives a claim the owners the retention policy asks for, keeping the others', () => {
    const claim = (refs: object[] = []): Claim => ({
      ...claimsFor(set(), 1)[0]!,
      metadata: { ...claimsFor(set(), 1)[0]!.metadata, ownerReferences: refs as Claim['metadata']['ownerReferences'] },
    });
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x' };
    expect(claimOwnerRefs(claim([other]), set({ whenDeleted: 'Retain', whenScaled: 'Retain' }), pod, true)).toBeUndefined();
    expect(claimOwnerRefs(claim([setRef]), set({ whenDeleted: 'Retain', whenScaled: 'Retain' }), pod, false)).toEqual([]);
    expect(claimOwnerRefs(claim(), set({ whenDeleted: 'Delete', whenScaled: 'Retain' }), pod, true)).toEqual([setRef]);
    expect(claimOwnerRefs(claim([setRef]), set({ whenDeleted: 'Delete', whenScaled: 'Retain' }), pod, false)).toBeUndefined();
    expect(claimOwnerRefs(claim(), set({ whenDeleted: 'Retain', whenScaled: 'Delete' }), pod, false)).toBeUndefined();
    expect(claimOwnerRefs(claim([other]), set({ whenDeleted: 'Retain', whenScaled: 'Delete' }), pod, true)).toEqual([other, podRef]);
    expect(claimOwnerRefs(claim([setRef]), set({ whenDeleted: 'Delete', whenScaled: 'Delete' }), pod, true)).toEqual([podRef]);
  });
});
