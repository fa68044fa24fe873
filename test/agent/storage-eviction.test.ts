/**
 * The kubelet's local-storage eviction decisions (storage-eviction.ts): which
 * limit a pod's measured disk use breaks first, and the message it gets, as
 * the eviction manager words it. Pure: usage is given.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from '#lib/api/core/v1/pod';
import { hasStorageLimits, storageEvictionMessage } from '#lib/agent/storage-eviction';

const Mi = 2 ** 20;
const usage = (containers: Record<string, number>, volumes: Record<string, number> = {}) => ({
  containers: new Map(Object.entries(containers)),
  volumes: new Map(Object.entries(volumes)),
});
const limit = (q: string) => ({ limits: { 'ephemeral-storage': q } });

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: {
    volumes: [
      { name: 'cache', emptyDir: { sizeLimit: '10Mi' } },
      { name: 'ram', emptyDir: { medium: 'Memory' } },
    ],
    initContainers: [{ name: 'unpack', image: 'x', resources: limit('30Mi') }],
    containers: [
      { name: 'a', image: 'x', resources: limit('8Mi') },
      { name: 'b', image: 'x', resources: limit('16Mi') },
    ],
  },
};

describe('ephemeral-storage eviction (the kubelet eviction manager)', () => {
  it('is quiet while every limit holds', () => {
    expect(storageEvictionMessage(pod, usage({ a: 4 * Mi, b: 4 * Mi }, { cache: 9 * Mi, ram: 100 * Mi }))).toBeUndefined();
  });

  it('names an emptyDir over its sizeLimit first', () => {
    expect(storageEvictionMessage(pod, usage({ a: 40 * Mi }, { cache: 11 * Mi }))).toBe('Usage of EmptyDir volume "cache" exceeds the limit "10Mi". ');
  });

  it("then the pod's total against its containers' limits (an init container's when larger), memory-backed volumes aside", () => {
    // 8Mi + 16Mi = 24Mi < the init container's 30Mi, which is the pod's limit.
    expect(storageEvictionMessage(pod, usage({ a: 6 * Mi, b: 15 * Mi }, { cache: 10 * Mi, ram: 500 * Mi }))).toBe(
      'Pod ephemeral local storage usage exceeds the total limit of containers 30Mi. ',
    );
    expect(storageEvictionMessage(pod, usage({ a: 5 * Mi, b: 15 * Mi }, { cache: 5 * Mi }))).toBeUndefined();
  });

  it('then a container over its own limit', () => {
    expect(storageEvictionMessage(pod, usage({ a: 9 * Mi, b: 1 * Mi }))).toBe('Container a exceeded its local ephemeral storage limit "8Mi". ');
  });

  it('sums several containers limits in binary units', () => {
    const two: Pod = { ...pod, spec: { containers: pod.spec!.containers } };
    expect(storageEvictionMessage(two, usage({ a: 7 * Mi, b: 17.5 * Mi }))).toBe(
      'Pod ephemeral local storage usage exceeds the total limit of containers 24Mi. ',
    );
  });

  it('measures only pods with a limit', () => {
    expect(hasStorageLimits(pod)).toBe(true);
    expect(hasStorageLimits({ ...pod, spec: { containers: [{ name: 'a', image: 'x' }], volumes: [{ name: 'v', emptyDir: {} }] } })).toBe(false);
  });
});
