/**
 * StorageClass with the real kubectl on `kumo up` (simulated nodes): the
 * default class kumo starts with, kubectl's columns and describer, kube's
 * validation, DefaultStorageClass admission, WaitForFirstConsumer binding on
 * the node the scheduler chose, expansion per class, and the class's
 * reclaim policy on the PV it provisions.
 */
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite({ fakeNodes: { names: ['node-a', 'node-b'], startDelayMs: 0 } });
const { ok, refused } = k;

function storageClass(name: string, extra = ''): string {
  return `apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: ${name}\nprovisioner: kumo.io/local-path\n${extra}`;
}

function claim(name: string, storage = '1Gi', extra = ''): string {
  return `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${name}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: ${storage}\n${extra}`;
}

function pod(name: string, claimName: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: busybox\n  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: ${claimName}\n`;
}

const jsonOf = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
const waitBound = (name: string) => ok(['wait', '--for=jsonpath={.status.phase}=Bound', `pvc/${name}`, '--timeout=20s']);

describe('StorageClass', () => {
  it('starts with kumo-local-path as the default class, in kubectl get storageclass columns and describe', async () => {
    const table = rows(await ok(['get', 'storageclass']));
    expect(table[0]).toEqual(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    expect(table.find((r) => r[0]!.startsWith('kumo-local-path'))).toEqual([
      'kumo-local-path (default)',
      'kumo.io/local-path',
      'Delete',
      'WaitForFirstConsumer',
      'true',
      expect.any(String),
    ]);
    const described = await ok(['describe', 'sc', 'kumo-local-path']);
    expect(described).toMatch(/^IsDefaultClass:\s+Yes$/m);
    expect(described).toMatch(/^Provisioner:\s+kumo.io\/local-path$/m);
    expect(described).toMatch(/^VolumeBindingMode:\s+WaitForFirstConsumer$/m);
    expect(described).toMatch(/^AllowVolumeExpansion:\s+True$/m);
  });

  it('gives a claim of no class the default; it waits for its first consumer, then binds on the node its pod was scheduled to', async () => {
    await ok(['create', '-f', '-'], claim('wait-data'));
    const pending = await jsonOf(['get', 'pvc', 'wait-data']);
    expect(pending.spec.storageClassName).toBe('kumo-local-path');
    await ok(['wait', '--for=jsonpath={.reason}=WaitForFirstConsumer', 'event', '--field-selector=involvedObject.name=wait-data', '--timeout=20s']);
    expect(await ok(['get', 'events', '--field-selector=involvedObject.name=wait-data', '-o', 'jsonpath={.items[0].message}'])).toBe(
      'waiting for first consumer to be created before binding',
    );
    expect((await jsonOf(['get', 'pvc', 'wait-data'])).status.phase).toBe('Pending');

    await ok(['create', '-f', '-'], pod('consumer', 'wait-data'));
    await waitBound('wait-data');
    await ok(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/consumer', '--timeout=20s']);
    const node = (await jsonOf(['get', 'pod', 'consumer'])).spec.nodeName;
    const bound = await jsonOf(['get', 'pvc', 'wait-data']);
    expect(bound.metadata.annotations['volume.kubernetes.io/selected-node']).toBe(node);
    const pv = await jsonOf(['get', 'pv', bound.spec.volumeName]);
    expect(pv.spec).toMatchObject({ storageClassName: 'kumo-local-path', persistentVolumeReclaimPolicy: 'Delete' });
  });

  it('grows a claim whose class allows expansion (recorded: a directory has no size), and refuses one whose class does not', async () => {
    await ok(['patch', 'pvc', 'wait-data', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']);
    await ok(['wait', '--for=jsonpath={.status.capacity.storage}=2Gi', 'pvc/wait-data', '--timeout=20s']);

    await ok(['create', '-f', '-'], storageClass('fixed', 'reclaimPolicy: Retain\n'));
    await ok(['create', '-f', '-'], claim('fixed-data', '1Gi', '  storageClassName: fixed\n'));
    await waitBound('fixed-data');
    expect(await refused(['patch', 'pvc', 'fixed-data', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'])).toBe(
      'Error from server (Forbidden): persistentvolumeclaims "fixed-data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
    expect((await jsonOf(['get', 'pvc', 'fixed-data'])).spec.resources.requests.storage).toBe('1Gi');
  });

  it("puts the class's reclaim policy on the PV: Retain keeps it, Released, after the claim goes", async () => {
    const volume = (await jsonOf(['get', 'pvc', 'fixed-data'])).spec.volumeName;
    expect((await jsonOf(['get', 'pv', volume])).spec.persistentVolumeReclaimPolicy).toBe('Retain');
    await ok(['delete', 'pvc', 'fixed-data']);
    await ok(['wait', '--for=jsonpath={.status.phase}=Released', `pv/${volume}`, '--timeout=20s']);
  });

  it("schedules a pod whose claim is bound to a local PV onto the PV's node, and nowhere when no node matches", async () => {
    const localPv = (name: string, host: string) =>
      `apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: ${name}\nspec:\n  capacity:\n    storage: 1Gi\n  accessModes: [ReadWriteOnce]\n  storageClassName: pinned-${name}\n  hostPath:\n    path: /tmp/kumo-${name}\n  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n      - matchExpressions:\n        - key: kubernetes.io/hostname\n          operator: In\n          values: [${host}]\n`;
    for (const [name, host] of [
      ['on-b', 'node-b'],
      ['on-z', 'node-z'],
    ] as const) {
      await ok(['create', '-f', '-'], localPv(name, host));
      await ok(['create', '-f', '-'], claim(`claim-${name}`, '1Gi', `  storageClassName: pinned-${name}\n`));
      await waitBound(`claim-${name}`);
      await ok(['create', '-f', '-'], pod(`pod-${name}`, `claim-${name}`));
    }
    await ok(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/pod-on-b', '--timeout=20s']);
    expect((await jsonOf(['get', 'pod', 'pod-on-b'])).spec.nodeName).toBe('node-b');
    await ok(['wait', '--for=condition=PodScheduled=False', 'pod/pod-on-z', '--timeout=20s']);
    expect((await jsonOf(['get', 'pod', 'pod-on-z'])).status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').message).toBe(
      '0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('refuses what kube refuses, in its words, and stores nothing', async () => {
    expect(await refused(['create', '-f', '-'], storageClass('bad', 'reclaimPolicy: Recycle\nvolumeBindingMode: Later\n'))).toBe(
      'The StorageClass "bad" is invalid: \n* reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"\n* volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    );
    expect(await refused(['create', '-f', '-'], 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: bad\n')).toBe(
      'The StorageClass "bad" is invalid: provisioner: Required value',
    );
    expect(await k.kubectl(['get', 'sc', 'bad'])).toMatchObject({ code: 1 });
    expect(await refused(['patch', 'sc', 'fixed', '--type=merge', '-p', '{"provisioner":"example.com/other","parameters":{"a":"b"}}'])).toBe(
      'The StorageClass "fixed" is invalid: \n* parameters: Forbidden: updates to parameters are forbidden.\n* provisioner: Forbidden: updates to provisioner are forbidden.',
    );
  });

  it('gives a claim the newest of several default classes, and leaves a class kumo cannot provision Pending, saying why', async () => {
    await ok(
      ['create', '-f', '-'],
      'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: newer\n  annotations:\n    storageclass.kubernetes.io/is-default-class: "true"\nprovisioner: ebs.csi.aws.com\n',
    );
    await ok(['create', '-f', '-'], claim('ebs-data'));
    expect((await jsonOf(['get', 'pvc', 'ebs-data'])).spec.storageClassName).toBe('newer');
    await ok(['wait', '--for=jsonpath={.reason}=ExternalProvisioning', 'event', '--field-selector=involvedObject.name=ebs-data', '--timeout=20s']);
    expect((await jsonOf(['get', 'pvc', 'ebs-data'])).status.phase).toBe('Pending');
    await ok(['delete', 'sc', 'newer']);
  });
});

describe('CSIDriver and VolumeAttachment', () => {
  it("serves CSIDriver with kube's defaults and kubectl's columns", async () => {
    await ok(['create', '-f', '-'], 'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: ebs.csi.aws.com\nspec:\n  attachRequired: true\n');
    const table = rows(await ok(['get', 'csidriver']));
    expect(table[0]).toEqual(['NAME', 'ATTACHREQUIRED', 'PODINFOONMOUNT', 'STORAGECAPACITY', 'TOKENREQUESTS', 'REQUIRESREPUBLISH', 'MODES', 'AGE']);
    expect(table[1]).toEqual(['ebs.csi.aws.com', 'true', 'false', 'false', '<unset>', 'false', 'Persistent', expect.any(String)]);
    expect((await jsonOf(['get', 'csidriver', 'ebs.csi.aws.com'])).spec.fsGroupPolicy).toBe('ReadWriteOnceWithFSType');
    expect(
      await refused(
        ['create', '-f', '-'],
        'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: bad.example.com\nspec:\n  fsGroupPolicy: Sometimes\n',
      ),
    ).toBe(
      'The CSIDriver "bad.example.com" is invalid: spec.fsGroupPolicy: Unsupported value: "Sometimes": supported values: "File", "None", "ReadWriteOnceWithFSType"',
    );
  });

  it("serves VolumeAttachment with kube's validation, a fixed spec and kubectl's columns", async () => {
    const va = (name: string, source: string) =>
      `apiVersion: storage.k8s.io/v1\nkind: VolumeAttachment\nmetadata:\n  name: ${name}\nspec:\n  attacher: ebs.csi.aws.com\n  nodeName: node-a\n  source:\n${source}`;
    await ok(['create', '-f', '-'], va('va-1', '    persistentVolumeName: pv-1\n'));
    const table = rows(await ok(['get', 'volumeattachment']));
    expect(table[0]).toEqual(['NAME', 'ATTACHER', 'PV', 'NODE', 'ATTACHED', 'AGE']);
    expect(table[1]).toEqual(['va-1', 'ebs.csi.aws.com', 'pv-1', 'node-a', 'false', expect.any(String)]);
    expect(await refused(['create', '-f', '-'], va('va-2', '    {}\n'))).toBe(
      'The VolumeAttachment "va-2" is invalid: spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
    );
    expect(await refused(['patch', 'volumeattachment', 'va-1', '--type=merge', '-p', '{"spec":{"nodeName":"node-b"}}'])).toBe(
      'The VolumeAttachment "va-1" is invalid: spec: Invalid value: field is immutable',
    );
  });
});
