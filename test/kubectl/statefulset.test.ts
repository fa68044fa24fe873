/**
 * StatefulSet with the real kubectl on simulated nodes: stable names and
 * identities, one claim per replica that outlives its pod, ordered and
 * parallel scaling, rolling updates (partition, maxUnavailable), OnDelete,
 * the rollout commands, kube's validation, and deletion with the retention
 * policy.
 */
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite({ fakeNodes: { names: ['node-1', 'node-2'], startDelayMs: 20 } });
const { ok, refused } = k;

interface Options {
  replicas?: number;
  image?: string;
  spec?: string;
  claims?: boolean;
}

function sts(name: string, o: Options = {}): string {
  const claims = o.claims
    ? `  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`
    : '';
  return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
spec:
  serviceName: ${name}
  replicas: ${o.replicas ?? 3}
  selector:
    matchLabels:
      app: ${name}
${o.spec ?? ''}  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: c
        image: ${o.image ?? 'busybox:1'}
${o.claims ? '        volumeMounts:\n        - name: data\n          mountPath: /data\n' : ''}${claims}`;
}

let seq = 0;
async function namespace(): Promise<string> {
  const ns = `sts-${++seq}`;
  await ok(['create', 'namespace', ns]);
  return ns;
}

async function rolledOut(ns: string, name: string): Promise<string> {
  return ok(['rollout', 'status', `sts/${name}`, '-n', ns, '--timeout=60s']);
}

async function pods(ns: string, selector: string): Promise<Map<string, Record<string, unknown>>> {
  const list = JSON.parse(await ok(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'])) as { items: Record<string, unknown>[] };
  return new Map(list.items.map((p) => [(p.metadata as { name: string }).name, p]));
}

function jsonpath(ns: string, what: string, path: string): Promise<string> {
  return ok(['get', what, '-n', ns, '-o', `jsonpath=${path}`]);
}

async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('StatefulSet', () => {
  it('makes web-0..2 in order with stable identities and one claim each, shown by get, get all and describe', async () => {
    const ns = await namespace();
    expect(await ok(['apply', '-n', ns, '-f', '-'], sts('web', { claims: true }))).toBe('statefulset.apps/web created\n');
    expect(await rolledOut(ns, 'web')).toContain('partitioned roll out complete: 3 new pods have been updated...');

    const byName = await pods(ns, 'app=web');
    expect([...byName.keys()].sort()).toEqual(['web-0', 'web-1', 'web-2']);
    const web1 = byName.get('web-1') as { metadata: { labels: Record<string, string> }; spec: { hostname: string; subdomain: string; volumes: unknown[] } };
    expect(web1.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'web-1', 'apps.kubernetes.io/pod-index': '1' });
    expect(web1.metadata.labels['controller-revision-hash']).toMatch(/^web-[0-9a-z]+$/);
    expect(web1.spec).toMatchObject({ hostname: 'web-1', subdomain: 'web' });
    expect(web1.spec.volumes[0]).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } });
    // OrderedReady: each pod was created once its predecessor was Running and Ready.
    const created = ['web-0', 'web-1', 'web-2'].map((n) => Date.parse((byName.get(n)!.metadata as { creationTimestamp: string }).creationTimestamp));
    expect(created).toEqual([...created].sort((a, b) => a - b));

    const claims = rows(await ok(['get', 'pvc', '-n', ns, '--no-headers', '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app']));
    expect(claims).toEqual([
      ['data-web-0', 'web'],
      ['data-web-1', 'web'],
      ['data-web-2', 'web'],
    ]);

    const table = rows(await ok(['get', 'sts', '-n', ns, '-o', 'wide']));
    expect(table[0]).toEqual(['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
    expect(table[1]).toEqual(['web', '3/3', expect.any(String), 'c', 'busybox:1']);
    expect(await ok(['get', 'all', '-n', ns, '-o', 'name'])).toContain('statefulset.apps/web\n');

    const described = await ok(['describe', 'sts', 'web', '-n', ns]);
    expect(described).toMatch(/^Replicas:\s+3 desired \| 3 total$/m);
    expect(described).toMatch(/^Update Strategy:\s+RollingUpdate\n\s+Partition:\s+0$/m);
    expect(described).toMatch(/^Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(described).toMatch(
      /^Volume Claims:\n\s+Name:\s+data\n\s+StorageClass:\s*\n\s+Labels:\s+<none>\n\s+Annotations:\s+<none>\n\s+Capacity:\s+1Gi\n\s+Access Modes:\s+\[ReadWriteOnce\]$/m,
    );
    expect(described).toMatch(/SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Claim data-web-0 Pod web-0 in StatefulSet web success/);
    expect(described).toMatch(/SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Pod web-2 in StatefulSet web successful/);
  });

  it('gives a deleted pod its name and claim again, scales down from the highest ordinal and keeps the claims', async () => {
    const ns = await namespace();
    await ok(['apply', '-n', ns, '-f', '-'], sts('db', { claims: true }));
    await rolledOut(ns, 'db');
    const claimUid = await jsonpath(ns, 'pvc/data-db-1', '{.metadata.uid}');
    const podUid = await jsonpath(ns, 'pod/db-1', '{.metadata.uid}');

    await ok(['delete', 'pod', 'db-1', '-n', ns, '--wait=false']);
    await until(async () => {
      const uid = (await k.kubectl(['get', 'pod', 'db-1', '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).stdout;
      return uid !== '' && uid !== podUid;
    }, 'db-1 to be made again');
    await rolledOut(ns, 'db');
    expect(await jsonpath(ns, 'pod/db-1', '{.spec.volumes[0].persistentVolumeClaim.claimName}')).toBe('data-db-1');
    expect(await jsonpath(ns, 'pvc/data-db-1', '{.metadata.uid}')).toBe(claimUid);

    expect(await ok(['scale', 'sts', 'db', '-n', ns, '--replicas=1'])).toBe('statefulset.apps/db scaled\n');
    await until(async () => [...(await pods(ns, 'app=db')).keys()].join() === 'db-0', 'db-1 and db-2 to go');
    // whenScaled: Retain (the default) keeps the claims of the pods scaled away.
    expect(await ok(['get', 'pvc', '-n', ns, '-o', 'name'])).toBe(
      'persistentvolumeclaim/data-db-0\npersistentvolumeclaim/data-db-1\npersistentvolumeclaim/data-db-2\n',
    );
    await ok(['scale', 'sts', 'db', '-n', ns, '--replicas=2']);
    await rolledOut(ns, 'db');
    expect(await jsonpath(ns, 'pvc/data-db-1', '{.metadata.uid}')).toBe(claimUid);
    expect(await jsonpath(ns, 'sts/db', '{.status.replicas} {.status.readyReplicas} {.status.availableReplicas}')).toBe('2 2 2');
  });

  it('rolls out a new template from the highest ordinal, and rollout history, undo and restart work', async () => {
    const ns = await namespace();
    await ok(['apply', '-n', ns, '-f', '-'], sts('roll'));
    await rolledOut(ns, 'roll');
    const first = await jsonpath(ns, 'sts/roll', '{.status.updateRevision}');

    await ok(['set', 'image', 'sts/roll', 'c=busybox:2', '-n', ns]);
    await rolledOut(ns, 'roll');
    const images = async () => [...(await pods(ns, 'app=roll')).values()].map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image);
    expect(await images()).toEqual(['busybox:2', 'busybox:2', 'busybox:2']);
    const second = await jsonpath(ns, 'sts/roll', '{.status.currentRevision} {.status.updateRevision}');
    expect(second).toMatch(/^(roll-\S+) \1$/);
    expect(second).not.toContain(first);

    const history = rows(await ok(['rollout', 'history', 'sts/roll', '-n', ns]));
    expect(history.slice(1)).toEqual([
      ['REVISION', 'CHANGE-CAUSE'],
      ['1', '<none>'],
      ['2', '<none>'],
    ]);
    const revisions = rows(await ok(['get', 'controllerrevisions', '-n', ns]));
    expect(revisions[0]).toEqual(['NAME', 'CONTROLLER', 'REVISION', 'AGE']);
    expect(revisions.slice(1).map((r) => r.slice(1, 3))).toEqual([
      ['statefulset.apps/roll', '1'],
      ['statefulset.apps/roll', '2'],
    ]);

    expect(await ok(['rollout', 'undo', 'sts/roll', '-n', ns])).toBe('statefulset.apps/roll rolled back\n');
    await rolledOut(ns, 'roll');
    expect(await images()).toEqual(['busybox:1', 'busybox:1', 'busybox:1']);
    // The rollback renumbers revision 1 to 3, as kube's history does.
    expect(await jsonpath(ns, 'sts/roll', '{.status.updateRevision}')).toBe(first);
    expect(
      rows(await ok(['rollout', 'history', 'sts/roll', '-n', ns]))
        .slice(2)
        .map((r) => r[0]),
    ).toEqual(['2', '3']);

    expect(await ok(['rollout', 'restart', 'sts/roll', '-n', ns])).toBe('statefulset.apps/roll restarted\n');
    await rolledOut(ns, 'roll');
    const restarted = [...(await pods(ns, 'app=roll')).values()].map(
      (p) => (p.metadata as { annotations?: Record<string, string> }).annotations?.['kubectl.kubernetes.io/restartedAt'],
    );
    expect(restarted.every((a) => typeof a === 'string')).toBe(true);
  });

  it('stops a rolling update at the partition, and leaves pods alone under OnDelete', async () => {
    const ns = await namespace();
    await ok(['apply', '-n', ns, '-f', '-'], sts('part', { spec: '  updateStrategy:\n    rollingUpdate:\n      partition: 2\n' }));
    await rolledOut(ns, 'part');
    await ok(['set', 'image', 'sts/part', 'c=busybox:2', '-n', ns]);
    expect(await rolledOut(ns, 'part')).toContain('partitioned roll out complete: 1 new pods have been updated...');
    const image = (p: Record<string, unknown>) => (p.spec as { containers: { image: string }[] }).containers[0]!.image;
    const byName = await pods(ns, 'app=part');
    expect(['part-0', 'part-1', 'part-2'].map((n) => image(byName.get(n)!))).toEqual(['busybox:1', 'busybox:1', 'busybox:2']);

    await ok(['apply', '-n', ns, '-f', '-'], sts('ondel', { replicas: 2, spec: '  updateStrategy:\n    type: OnDelete\n' }));
    expect(await refused(['rollout', 'status', 'sts/ondel', '-n', ns])).toBe('error: rollout status is only available for RollingUpdate strategy type');
    await until(async () => (await jsonpath(ns, 'sts/ondel', '{.status.readyReplicas}')) === '2', 'ondel ready');
    await ok(['set', 'image', 'sts/ondel', 'c=busybox:2', '-n', ns]);
    await until(async () => (await jsonpath(ns, 'sts/ondel', '{.status.observedGeneration}')) === '2', 'the new generation to be seen');
    expect([...(await pods(ns, 'app=ondel')).values()].map(image)).toEqual(['busybox:1', 'busybox:1']);
    expect(await jsonpath(ns, 'sts/ondel', '{.status.updatedReplicas}')).toBe('0');
    await ok(['delete', 'pod', 'ondel-1', '-n', ns]);
    await until(async () => image((await pods(ns, 'app=ondel')).get('ondel-1') ?? { spec: { containers: [{ image: '' }] } }) === 'busybox:2', 'ondel-1 remade');
  });

  it('creates every pod at once under Parallel, and deletes pods and claims with the set when whenDeleted is Delete', async () => {
    const ns = await namespace();
    const spec = '  podManagementPolicy: Parallel\n  persistentVolumeClaimRetentionPolicy:\n    whenDeleted: Delete\n';
    await ok(['apply', '-n', ns, '-f', '-'], sts('par', { replicas: 4, spec, claims: true }));
    await rolledOut(ns, 'par');
    expect(await jsonpath(ns, 'pvc/data-par-3', '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}')).toBe('StatefulSet/par');

    expect(await ok(['delete', 'sts', 'par', '-n', ns])).toBe('statefulset.apps "par" deleted from ' + ns + ' namespace\n');
    await until(async () => (await ok(['get', 'pods,pvc', '-n', ns, '-o', 'name'])) === '', 'pods and claims to go');
  });

  it('waits out minReadySeconds, deletes the claims of pods scaled away under whenScaled Delete, and remakes a failed pod', async () => {
    const ns = await namespace();
    const spec =
      '  minReadySeconds: 1\n  persistentVolumeClaimRetentionPolicy:\n    whenScaled: Delete\n  updateStrategy:\n    rollingUpdate:\n      maxUnavailable: 2\n';
    await ok(['apply', '-n', ns, '-f', '-'], sts('keep', { spec, claims: true }));
    await until(async () => (await jsonpath(ns, 'sts/keep', '{.status.availableReplicas}')) === '3', 'three available pods');
    await ok(['set', 'image', 'sts/keep', 'c=busybox:2', '-n', ns]);
    await until(
      async () => (await jsonpath(ns, 'sts/keep', '{.status.observedGeneration} {.status.updatedReplicas} {.status.availableReplicas}')) === '2 3 3',
      'the rollout',
    );

    await ok(['scale', 'sts', 'keep', '-n', ns, '--replicas=1']);
    await until(async () => (await ok(['get', 'pvc', '-n', ns, '-o', 'name'])) === 'persistentvolumeclaim/data-keep-0\n', 'the scaled-away claims to go');

    const uid = await jsonpath(ns, 'pod/keep-0', '{.metadata.uid}');
    await ok(['patch', 'pod', 'keep-0', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}']);
    await until(async () => {
      const now = (await k.kubectl(['get', 'pod', 'keep-0', '-n', ns, '-o', 'jsonpath={.metadata.uid} {.status.phase}'])).stdout;
      return now.endsWith(' Running') && !now.startsWith(uid);
    }, 'keep-0 remade');
    expect(await ok(['get', 'events', '-n', ns, '--field-selector', 'reason=RecreatingFailedPod', '-o', 'jsonpath={.items[*].message}'])).toBe(
      `StatefulSet ${ns}/keep is recreating failed Pod keep-0`,
    );
    expect(await jsonpath(ns, 'pod/keep-0', '{.spec.volumes[0].persistentVolumeClaim.claimName}')).toBe('data-keep-0');
  });

  it('refuses what kube refuses, in its words, and stores nothing', async () => {
    const ns = await namespace();
    const bad = sts('bad').replace('      labels:\n        app: bad', '      labels:\n        app: other');
    expect(await refused(['create', '-n', ns, '-f', '-'], bad)).toBe(
      'The StatefulSet "bad" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
    );
    expect(await refused(['create', '-n', ns, '-f', '-'], sts('bad', { spec: '  updateStrategy:\n    rollingUpdate:\n      maxUnavailable: 0\n' }))).toBe(
      'The StatefulSet "bad" is invalid: spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0',
    );
    expect(await refused(['create', '-n', ns, '-f', '-'], sts('bad', { spec: '  podManagementPolicy: Sometimes\n' }))).toBe(
      `The StatefulSet "bad" is invalid: spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`,
    );
    expect(await refused(['create', '-n', ns, '-f', '-'], sts('bad').replace('serviceName: bad', 'serviceName: Bad_Name'))).toContain(
      'spec.serviceName: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of',
    );
    expect(await ok(['get', 'sts', '-n', ns, '-o', 'name'])).toBe('');

    expect(await ok(['explain', 'sts.spec.podManagementPolicy'])).toContain('podManagementPolicy controls how pods are created during initial scale up');
    expect(await ok(['apply', '--server-side', '-n', ns, '-f', '-'], sts('fixed', { replicas: 0 }))).toBe('statefulset.apps/fixed serverside-applied\n');
    expect(await refused(['patch', 'sts', 'fixed', '-n', ns, '--type=merge', '-p', '{"spec":{"serviceName":"other"}}'])).toBe(
      `The StatefulSet "fixed" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
    );
    expect(await jsonpath(ns, 'sts/fixed', '{.spec.serviceName}')).toBe('fixed');
    expect(
      await jsonpath(
        ns,
        'sts/fixed',
        '{.spec.podManagementPolicy} {.spec.updateStrategy.rollingUpdate.partition} {.spec.revisionHistoryLimit} {.spec.persistentVolumeClaimRetentionPolicy.whenScaled}',
      ),
    ).toBe('OrderedReady 0 10 Retain');
  });
});
