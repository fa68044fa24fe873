/**
 * StorageClasses in the cloud, from the deployed bundles on DynamoDB: no
 * default class exists (ECS has no provisioner yet); a default class an
 * administrator makes is given to claims of no class (DefaultStorageClass
 * admission in the API bundle), the controllers bundle, fed by the
 * emulator's stream, binds such a claim to a PV of the class, and leaves a
 * claim nothing fits Pending with kube's ExternalProvisioning event.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { type EventSourceMappings, startControllerMapping } from './esm.js';
import { type ApiModule, type CloudAccount, deployToEmulator, invoke, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();

const NS = '/api/v1/namespaces/cloud-storage';
const claim = (name: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

describe.runIf(account)('StorageClasses from the deployed bundles, on the emulator', () => {
  let api: ApiModule;
  let mappings: EventSourceMappings;
  const as = (method: string, path: string, body?: unknown) =>
    invoke(api, method, path, { token: account!.adminToken, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    api = await loadBundle<ApiModule>(bundles.api);
    mappings = await startControllerMapping(account!.tableName, bundles.controllers);
  });
  afterAll(async () => {
    await mappings?.stop();
    await account?.dispose();
  });

  it('gives claims of no class the default class, binds one to a PV of it, and leaves the other Pending saying why', async () => {
    expect((await as('GET', '/apis/storage.k8s.io/v1/storageclasses')).body.items).toEqual([]);
    const sc = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'ebs.csi.aws.com',
      reclaimPolicy: 'Retain',
    };
    const created = await as('POST', '/apis/storage.k8s.io/v1/storageclasses', sc);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ reclaimPolicy: 'Retain', volumeBindingMode: 'Immediate' });
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'cloud-static' },
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'standard', hostPath: { path: '/srv/static' } },
    };
    expect((await as('POST', '/api/v1/persistentvolumes', pv)).status).toBe(201);
    expect((await as('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cloud-storage' } })).status).toBe(201);

    const first = await as('POST', `${NS}/persistentvolumeclaims`, claim('first'));
    expect(first.status).toBe(201);
    expect(first.body.spec.storageClassName).toBe('standard');
    const bound = await waitFor(
      async () => {
        const c = (await as('GET', `${NS}/persistentvolumeclaims/first`)).body;
        return c.status?.phase === 'Bound' ? c : undefined;
      },
      { what: 'the controllers bind the claim', timeoutMs: 30_000 },
    );
    expect(bound.spec.volumeName).toBe('cloud-static');

    expect((await as('POST', `${NS}/persistentvolumeclaims`, claim('second'))).status).toBe(201);
    const event = await waitFor(
      async () =>
        (await as('GET', `${NS}/events?fieldSelector=involvedObject.name%3Dsecond`)).body.items?.find(
          (e: { reason: string }) => e.reason === 'ExternalProvisioning',
        ),
      { what: 'the ExternalProvisioning event', timeoutMs: 30_000 },
    );
    expect(event.message).toBe(
      "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    );
    expect((await as('GET', `${NS}/persistentvolumeclaims/second`)).body.status.phase).toBe('Pending');
  });
});
