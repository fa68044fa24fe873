/**
 * ReplicationController and PodTemplate with the real kubectl: the RC's
 * defaults (selector and labels from its template), kube's validation,
 * kubectl's columns and describer, `kubectl scale rc`, `kubectl get all`,
 * its pods collected with it; PodTemplate's columns; both pruned by
 * `kubectl apply --prune -l`.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN, PODS } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite({ fakeNodes: { names: ['node-1', 'node-2'], startDelayMs: 50 } });
const { ok, refused } = k;

function rc(name: string, replicas: number, extra = ''): string {
  return `apiVersion: v1
kind: ReplicationController
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
${extra}  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: busybox}]}
`;
}

function podTemplate(name: string, labels = ''): string {
  return `apiVersion: v1
kind: PodTemplate
metadata: {name: ${name}${labels}}
template:
  metadata: {labels: {tier: web}}
  spec: {containers: [{name: web, image: nginx}, {name: log, image: busybox}]}
`;
}

async function namespace(name: string): Promise<string> {
  await ok(['create', 'namespace', name]);
  return name;
}

async function readyPods(ns: string, selector: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      const pods = (await k.cluster().cluster.client.list(PODS, ns, { labelSelector: selector })).items.filter((p) => !p.metadata.deletionTimestamp);
      const ready = pods.filter((p) =>
        (p.status as { conditions?: { type: string; status: string }[] }).conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return pods.length === n && ready.length === n;
    },
    { what: `${n} ready pods ${selector} in ${ns}` },
  );
}

describe('ReplicationController', () => {
  it("keeps its replicas, defaults its selector and labels from the template, and prints kubectl's columns", async () => {
    const ns = await namespace('rc-basic');
    expect(await ok(['apply', '-n', ns, '-f', '-'], rc('web', 2))).toBe('replicationcontroller/web created\n');
    await readyPods(ns, 'app=web', 2);
    expect(await ok(['get', 'rc', 'web', '-n', ns, '-o', 'jsonpath={.spec.selector} {.metadata.labels}'])).toBe('{"app":"web"} {"app":"web"}');

    await waitFor(async () => rows(await ok(['get', 'rc', '-n', ns]))[1]?.[3] === '2', { what: 'rc status' });
    const table = rows(await ok(['get', 'rc', '-n', ns, '-o', 'wide']));
    expect(table[0]).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(table[1]).toEqual(['web', '2', '2', '2', expect.any(String), 'c', 'busybox', 'app=web']);
    expect(rows(await ok(['get', 'all', '-n', ns])).some((r) => r[0] === 'replicationcontroller/web')).toBe(true);

    const described = await ok(['describe', 'rc', 'web', '-n', ns]);
    expect(described).toMatch(/^Selector:\s+app=web$/m);
    expect(described).toMatch(/^Replicas:\s+2 current \/ 2 desired$/m);
    expect(described).toMatch(/^Pods Status:\s+2 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);

    expect(await ok(['get', 'rc', 'web', '-n', ns, '--subresource=scale', '-o', 'jsonpath={.spec.replicas} {.status.selector}'])).toBe('2 app=web');
    expect(await ok(['scale', 'rc', 'web', '-n', ns, '--replicas=3'])).toBe('replicationcontroller/web scaled\n');
    await readyPods(ns, 'app=web', 3);
    // Its pods go with it (the garbage collector follows their ownerReferences).
    await ok(['delete', 'rc', 'web', '-n', ns]);
    await waitFor(async () => (await k.cluster().cluster.client.list(PODS, ns)).items.length === 0, { what: 'pods collected' });
  });

  it("refuses kube's invalid controllers and stores nothing", async () => {
    const ns = await namespace('rc-invalid');
    expect(await refused(['create', '-n', ns, '-f', '-'], rc('mismatch', 1, '  selector: {app: other}\n'))).toBe(
      'The ReplicationController "mismatch" is invalid: spec.template.metadata.labels: Invalid value: {"app":"mismatch"}: `selector` does not match template `labels`',
    );
    expect(await refused(['create', '-n', ns, '-f', '-'], rc('deadline', 1).replace('spec: {containers', 'spec: {activeDeadlineSeconds: 5, containers'))).toBe(
      'The ReplicationController "deadline" is invalid: spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported',
    );
    expect(await ok(['get', 'rc', '-n', ns])).toBe('');
  });
});

describe('PodTemplate', () => {
  it("is printed in kubectl's columns", async () => {
    const ns = await namespace('podtemplate');
    expect(await ok(['apply', '-n', ns, '-f', '-'], podTemplate('web'))).toBe('podtemplate/web created\n');
    const table = rows(await ok(['get', 'podtemplates', '-n', ns]));
    expect(table).toEqual([
      ['NAME', 'CONTAINERS', 'IMAGES', 'POD LABELS'],
      ['web', 'web,log', 'nginx,busybox', 'tier=web'],
    ]);
  });
});

/** kubectl's default prune set (k8s.io/kubectl/pkg/util/prune): every kind must be served or `apply --prune` fails outright. */
const DEFAULT_PRUNE_KINDS = [
  'v1/ConfigMap',
  'v1/Endpoints',
  'v1/PersistentVolumeClaim',
  'v1/Pod',
  'v1/ReplicationController',
  'v1/Secret',
  'v1/Service',
  'batch/v1/Job',
  'batch/v1/CronJob',
  'networking.k8s.io/v1/Ingress',
  'apps/v1/DaemonSet',
  'apps/v1/Deployment',
  'apps/v1/ReplicaSet',
  'apps/v1/StatefulSet',
  'v1/Namespace',
  'v1/PersistentVolume',
];
const unserved = DEFAULT_PRUNE_KINDS.filter((gvk) => {
  const i = gvk.lastIndexOf('/');
  return !BUILTIN.lookupKind(gvk.slice(0, i), gvk.slice(i + 1));
});

describe('kubectl apply --prune -l', () => {
  async function applyThenPrune(ns: string, allowlist: string[]): Promise<string> {
    const labels = ', labels: {set: one}';
    const both = `${rc('gone', 1).replace('metadata: {name: gone}', `metadata: {name: gone${labels}}`)}---\n${podTemplate('gone-too', labels)}---\n${podTemplate('kept', labels)}`;
    await ok(['apply', '-n', ns, '-f', k.file(`${ns}/all.yaml`, both)]);
    const out = await ok(['apply', '-n', ns, '--prune', '-l', 'set=one', ...allowlist, '-f', k.file(`${ns}/kept.yaml`, podTemplate('kept', labels))]);
    return out;
  }

  it('prunes ReplicationControllers and PodTemplates named in --prune-allowlist', async () => {
    const out = await applyThenPrune(await namespace('prune-allow'), [
      '--prune-allowlist=core/v1/ReplicationController',
      '--prune-allowlist=core/v1/PodTemplate',
    ]);
    expect(out).toBe('podtemplate/kept unchanged\nreplicationcontroller/gone pruned\npodtemplate/gone-too pruned\n');
  });

  // Runs once every kind of kubectl's default set is served (Ingress, the last one, came with issue 17); the skip guards a kind dropped later.
  it.skipIf(unserved.length > 0)(`prunes a ReplicationController without an allowlist (unserved: ${unserved.join(', ') || 'none'})`, async () => {
    const ns = await namespace('prune-default');
    expect(await applyThenPrune(ns, [])).toContain('replicationcontroller/gone pruned\n');
    expect(await ok(['get', 'rc', '-n', ns, '-o', 'name'])).toBe('');
  });
});
