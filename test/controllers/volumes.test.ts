/**
 * The persistent volume controller on `kumo up` (simulated nodes): the
 * local-path provisioner makes a PV per claim of class `local-path` (which
 * binds Immediately, without a StorageClass object) under the data dir, a claim
 * of another class binds to the smallest PV that fits, protection
 * finalizers hold a claim while a pod uses it, and reclaim policies apply
 * when the claim goes.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersistentVolume } from '#lib/api/core/v1/persistentvolume';
import type { PersistentVolumeClaim } from '#lib/api/core/v1/persistentvolumeclaim';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const rt = (name: string) => resourceByName(name)!;
type PVC = PersistentVolumeClaim & KObject;
type PV = PersistentVolume & KObject;

const claim = (name: string, storage: string, storageClassName?: string): KObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, ...(storageClassName ? { storageClassName } : {}) },
});

const volume = (name: string, storage: string, path: string): KObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: { capacity: { storage }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], storageClassName: 'manual', hostPath: { path } },
});

describe('persistent volume controller (kumo up, simulated nodes)', () => {
  let c: Awaited<ReturnType<typeof startCluster>>;
  beforeAll(async () => {
    c = await startCluster({ fakeNodes: { names: ['n1'], startDelayMs: 20 }, resyncIntervalMs: 60_000 });
  });
  afterAll(async () => c?.dispose());

  const bound = (name: string) =>
    waitFor(
      async () => {
        const pvc = await c.client.find<PVC>(rt('persistentvolumeclaims'), 'default', name);
        return pvc?.status?.phase === 'Bound' ? pvc : undefined;
      },
      { what: `claim ${name} to be Bound` },
    );

  it('provisions a local-path volume for a claim of class local-path at once, and deletes it (and its directory) with the claim', async () => {
    await c.client.create(rt('persistentvolumeclaims'), 'default', claim('data', '1Gi', 'local-path'));
    const pvc = await bound('data');
    expect(pvc.spec?.volumeName).toBe(`pvc-${pvc.metadata.uid}`);
    expect(pvc.spec?.storageClassName).toBe('local-path');
    expect(pvc.status?.capacity).toEqual({ storage: '1Gi' });
    expect(pvc.status?.accessModes).toEqual(['ReadWriteOnce']);
    expect(pvc.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    const pv = await waitFor(
      async () => {
        const v = await c.client.find<PV>(rt('persistentvolumes'), undefined, pvc.spec!.volumeName!);
        return v?.status?.phase === 'Bound' ? v : undefined;
      },
      { what: 'the PV to be Bound' },
    );
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(pv.spec?.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: pvc.metadata.uid });
    const path = pv.spec!.hostPath!.path;
    expect(path).toContain('/volumes/pvc-');

    // A pod uses it: deleting the claim waits for the pod.
    await c.client.create(rt('pods'), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'user' },
      spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
    });
    await c.client.delete(rt('persistentvolumeclaims'), 'default', 'data');
    await c.driver!.idle();
    const held = await c.client.get<PVC>(rt('persistentvolumeclaims'), 'default', 'data');
    expect(held.metadata.deletionTimestamp).toBeDefined();
    await c.client.delete(rt('pods'), 'default', 'user', { gracePeriodSeconds: 0 });
    await waitFor(async () => !(await c.client.find(rt('persistentvolumeclaims'), 'default', 'data')), { what: 'the claim to go' });
    await waitFor(async () => !(await c.client.find(rt('persistentvolumes'), undefined, pv.metadata.name!)), { what: 'the PV to go (reclaim policy Delete)' });
    expect(existsSync(path)).toBe(false);
  });

  it('binds a claim of a class to the smallest PV that fits; the PV is Released (Retain) when the claim goes', async () => {
    await c.client.create(rt('persistentvolumes'), undefined, volume('big', '10Gi', '/tmp/kumo-test-big'));
    await c.client.create(rt('persistentvolumes'), undefined, volume('small', '2Gi', '/tmp/kumo-test-small'));
    await c.client.create(rt('persistentvolumes'), undefined, volume('tiny', '500Mi', '/tmp/kumo-test-tiny'));
    await waitFor(async () => (await c.client.get<PV>(rt('persistentvolumes'), undefined, 'small')).status?.phase === 'Available', { what: 'PVs Available' });
    await c.client.create(rt('persistentvolumeclaims'), 'default', claim('manual-claim', '1Gi', 'manual'));
    const pvc = await bound('manual-claim');
    expect(pvc.spec?.volumeName).toBe('small');
    expect(pvc.status?.capacity).toEqual({ storage: '2Gi' });
    expect(pvc.status?.accessModes).toEqual(['ReadWriteOnce', 'ReadOnlyMany']);

    await c.client.create(rt('persistentvolumeclaims'), 'default', claim('no-room', '50Gi', 'manual'));
    await waitFor(
      async () => {
        const events = (await c.client.list<KObject & { reason?: string; involvedObject?: { name?: string } }>(rt('events'), 'default')).items;
        return events.some((e) => e.involvedObject?.name === 'no-room' && e.reason === 'FailedBinding');
      },
      { what: 'a FailedBinding event' },
    );
    expect((await c.client.get<PVC>(rt('persistentvolumeclaims'), 'default', 'no-room')).status?.phase).toBe('Pending');

    await c.client.delete(rt('persistentvolumeclaims'), 'default', 'manual-claim');
    await waitFor(async () => (await c.client.get<PV>(rt('persistentvolumes'), undefined, 'small')).status?.phase === 'Released', {
      what: 'the PV to be Released',
    });
  });

  it('refuses claims without access modes or size, and spec changes after creation', async () => {
    await expect(
      c.client.create(rt('persistentvolumeclaims'), 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'bad' }, spec: {} }),
    ).rejects.toThrow(
      'PersistentVolumeClaim "bad" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]',
    );
    await c.client.create(rt('persistentvolumeclaims'), 'default', claim('fixed', '1Gi', 'manual'));
    await expect(c.client.patch(rt('persistentvolumeclaims'), 'default', 'fixed', { spec: { accessModes: ['ReadWriteMany'] } })).rejects.toThrow(
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    );
  });
});
