/**
 * DaemonSet with the real kubectl on simulated nodes: one pod per eligible
 * node (node selector, taints, a node that joins), kube's validation,
 * kubectl's columns and describer, `rollout status|history|undo|restart`,
 * surge updates, OnDelete, cascading deletion and a node-exporter-like pod.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PodTracker } from '../controllers/scenarios.js';
import { waitFor } from '../helpers/wait.js';
import { type KubectlCluster, kubectlOk, kubectlRefused, rows, startKubectlCluster } from './harness.js';

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster({ fakeNodes: { names: ['node-1', 'node-2', 'node-3'], startDelayMs: 20, stopDelayMs: 20 } });
});

afterAll(async () => {
  await k?.dispose();
});

const ok = (args: string[], stdin?: string): Promise<string> => kubectlOk(k, args, stdin);
const refused = (args: string[], stdin?: string): Promise<string> => kubectlRefused(k, args, stdin);

function daemonSet(name: string, image: string, extra: { strategy?: string; podSpec?: string; templateLabels?: string } = {}): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
spec:
  selector:
    matchLabels: {app: ${name}}
${extra.strategy ?? ''}  template:
    metadata:
      labels: ${extra.templateLabels ?? `{app: ${name}}`}
    spec:
${extra.podSpec ?? ''}      containers:
      - name: agent
        image: ${image}
`;
}

interface PodView {
  name: string;
  node: string;
  image: string;
  phase: string;
  deleting: boolean;
}

async function podsOf(ns: string, app: string): Promise<PodView[]> {
  const list = JSON.parse(await ok(['get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'json'])) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { nodeName?: string; containers: { image: string }[] };
      status: { phase: string };
    }[];
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    image: p.spec.containers[0]!.image,
    phase: p.status.phase,
    deleting: !!p.metadata.deletionTimestamp,
  }));
}

/** The nodes running a live pod of `app`, sorted. */
async function nodesRunning(ns: string, app: string): Promise<string[]> {
  return (await podsOf(ns, app))
    .filter((p) => !p.deleting && p.phase === 'Running')
    .map((p) => p.node)
    .sort();
}

async function rolledOut(ns: string, name: string): Promise<string> {
  return ok(['rollout', 'status', `ds/${name}`, '-n', ns, '--timeout=30s']);
}

describe('DaemonSet', () => {
  it('refuses what kube refuses, with its messages, and stores nothing', async () => {
    await ok(['create', 'namespace', 'ds-invalid']);
    const zero = daemonSet('zero', 'busybox', { strategy: '  updateStrategy:\n    rollingUpdate: {maxUnavailable: 0, maxSurge: 0}\n' });
    expect(await refused(['create', '-n', 'ds-invalid', '-f', '-'], zero)).toBe(
      'The DaemonSet "zero" is invalid: spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    );
    const both = daemonSet('both', 'busybox', { strategy: '  updateStrategy:\n    rollingUpdate: {maxUnavailable: 1, maxSurge: 1}\n' });
    expect(await refused(['create', '-n', 'ds-invalid', '-f', '-'], both)).toBe(
      'The DaemonSet "both" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero',
    );
    const mismatch = daemonSet('mismatch', 'busybox', { templateLabels: '{app: other}' });
    expect(await refused(['create', '-n', 'ds-invalid', '-f', '-'], mismatch)).toBe(
      'The DaemonSet "mismatch" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
    );
    const never = daemonSet('never', 'busybox', { podSpec: '      restartPolicy: Never\n' });
    expect(await refused(['create', '-n', 'ds-invalid', '-f', '-'], never)).toBe(
      'The DaemonSet "never" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    );
    expect(await ok(['get', 'ds', '-n', 'ds-invalid'])).toBe('');
    await ok(['create', '-n', 'ds-invalid', '-f', '-'], daemonSet('fixed', 'busybox'));
    expect(await refused(['patch', 'ds', 'fixed', '-n', 'ds-invalid', '--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"x"}}}}'])).toContain(
      'spec.selector: Invalid value: {"matchLabels":{"app":"x"}}: field is immutable',
    );
  });

  it('runs one pod per node, pinned by node affinity with the daemon tolerations, in kubectl get and describe', async () => {
    await ok(['create', 'namespace', 'ds-basic']);
    await ok(['apply', '-n', 'ds-basic', '-f', '-'], daemonSet('agent', 'busybox:1'));
    expect(await rolledOut('ds-basic', 'agent')).toMatch(/daemon set "agent" successfully rolled out\n$/);
    expect(await nodesRunning('ds-basic', 'agent')).toEqual(['node-1', 'node-2', 'node-3']);

    const table = rows(await ok(['get', 'ds', '-n', 'ds-basic', '-o', 'wide']));
    expect(table[0]).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(table[1]).toEqual(['agent', '3', '3', '3', '3', '3', '<none>', expect.any(String), 'agent', 'busybox:1', 'app=agent']);
    expect(await ok(['get', 'all', '-n', 'ds-basic'])).toContain('daemonset.apps/agent');

    const pod = JSON.parse(await ok(['get', 'pods', '-n', 'ds-basic', '-l', 'app=agent', '-o', 'jsonpath={.items[0]}']));
    expect(pod.metadata.labels).toMatchObject({ app: 'agent', 'pod-template-generation': '1', 'controller-revision-hash': expect.any(String) });
    expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: 'DaemonSet', name: 'agent', controller: true });
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [pod.spec.nodeName] }] },
    ]);
    expect(pod.spec.tolerations.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);

    const described = await ok(['describe', 'ds', 'agent', '-n', 'ds-basic']);
    expect(described).toMatch(/^Selector:\s+app=agent$/m);
    expect(described).toMatch(/^Node-Selector:\s+<none>$/m);
    expect(described).toContain('Desired Number of Nodes Scheduled: 3\nCurrent Number of Nodes Scheduled: 3\n');
    expect(described).toContain(
      'Number of Nodes Scheduled with Up-to-date Pods: 3\nNumber of Nodes Scheduled with Available Pods: 3\nNumber of Nodes Misscheduled: 0\n',
    );
    expect(described).toMatch(/^Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(described).toMatch(/SuccessfulCreate\s+\S+\s+daemonset-controller\s+Created pod: agent-/);

    expect(await ok(['delete', 'ds', 'agent', '-n', 'ds-basic'])).toBe('daemonset.apps "agent" deleted from ds-basic namespace\n');
    await waitFor(async () => (await podsOf('ds-basic', 'agent')).length === 0, { timeoutMs: 20_000 });
    expect(await ok(['get', 'controllerrevisions', '-n', 'ds-basic'])).toBe('');
  });

  it('follows node labels and taints, and puts a pod on a node as soon as it joins', async () => {
    await ok(['create', 'namespace', 'ds-nodes']);
    await ok(['label', 'node', 'node-1', 'node-2', 'ds-test/role=edge']);
    await ok(['apply', '-n', 'ds-nodes', '-f', '-'], daemonSet('edge', 'busybox:1', { podSpec: '      nodeSelector: {ds-test/role: edge}\n' }));
    await rolledOut('ds-nodes', 'edge');
    expect(await nodesRunning('ds-nodes', 'edge')).toEqual(['node-1', 'node-2']);
    expect(rows(await ok(['get', 'ds', 'edge', '-n', 'ds-nodes', '--no-headers']))[0]!.slice(1, 7)).toEqual(['2', '2', '2', '2', '2', 'ds-test/role=edge']);

    // A label added to a node adds its pod; a label removed removes it.
    await ok(['label', 'node', 'node-3', 'ds-test/role=edge']);
    await waitFor(async () => (await nodesRunning('ds-nodes', 'edge')).length === 3, { timeoutMs: 20_000 });
    await ok(['label', 'node', 'node-1', 'ds-test/role-']);
    await waitFor(async () => (await podsOf('ds-nodes', 'edge')).every((p) => p.node !== 'node-1'), { timeoutMs: 20_000 });
    expect(await nodesRunning('ds-nodes', 'edge')).toEqual(['node-2', 'node-3']);

    // A NoSchedule taint keeps a new pod off but lets the running one stay; NoExecute removes it.
    await ok(['taint', 'node', 'node-2', 'ds-test/maintenance=true:NoSchedule']);
    await ok(['label', 'node', 'node-1', 'ds-test/role=edge']);
    await waitFor(async () => (await nodesRunning('ds-nodes', 'edge')).includes('node-1'), { timeoutMs: 20_000 });
    expect(await nodesRunning('ds-nodes', 'edge')).toEqual(['node-1', 'node-2', 'node-3']);
    await ok(['taint', 'node', 'node-3', 'ds-test/drain=true:NoExecute']);
    await waitFor(async () => (await podsOf('ds-nodes', 'edge')).every((p) => p.node !== 'node-3'), { timeoutMs: 20_000 });
    await ok(['taint', 'node', 'node-2', 'ds-test/maintenance-']);
    await ok(['taint', 'node', 'node-3', 'ds-test/drain-']);

    // A node that joins gets its pod.
    await k.cluster.fake!.addNode('node-4');
    await ok(['label', 'node', 'node-4', 'ds-test/role=edge']);
    await waitFor(async () => (await nodesRunning('ds-nodes', 'edge')).includes('node-4'), { timeoutMs: 20_000 });
    await rolledOut('ds-nodes', 'edge');
    expect(await nodesRunning('ds-nodes', 'edge')).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    await ok(['label', 'node', 'node-1', 'node-2', 'node-3', 'node-4', 'ds-test/role-']);
    await waitFor(async () => (await podsOf('ds-nodes', 'edge')).length === 0, { timeoutMs: 20_000 });
  });

  it('rolls out, keeps its history, rolls back and restarts (rollout status|history|undo|restart)', async () => {
    await ok(['create', 'namespace', 'ds-rollout']);
    await ok(['apply', '-n', 'ds-rollout', '-f', '-'], daemonSet('web', 'busybox:1'));
    await rolledOut('ds-rollout', 'web');
    await ok(['apply', '-n', 'ds-rollout', '-f', '-'], daemonSet('web', 'busybox:2'));
    expect(await rolledOut('ds-rollout', 'web')).toMatch(/daemon set "web" successfully rolled out\n$/);
    await waitFor(async () => (await podsOf('ds-rollout', 'web')).every((p) => p.image === 'busybox:2' && !p.deleting), { timeoutMs: 20_000 });
    expect(await nodesRunning('ds-rollout', 'web')).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    const events = await ok(['get', 'events', '-n', 'ds-rollout', '--field-selector', 'reason=SuccessfulDelete', '-o', 'name']);
    expect(events.trim().split('\n').length).toBeGreaterThan(0);

    const history = rows(await ok(['rollout', 'history', 'ds/web', '-n', 'ds-rollout']));
    expect(history).toEqual([['daemonset.apps/web'], ['REVISION', 'CHANGE-CAUSE'], ['1', '<none>'], ['2', '<none>']]);
    expect(await ok(['rollout', 'history', 'ds/web', '-n', 'ds-rollout', '--revision=1'])).toMatch(/Image:\s+busybox:1/);

    expect(await ok(['rollout', 'undo', 'ds/web', '-n', 'ds-rollout'])).toBe('daemonset.apps/web rolled back\n');
    await rolledOut('ds-rollout', 'web');
    expect(await ok(['get', 'ds', 'web', '-n', 'ds-rollout', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('busybox:1');
    await waitFor(async () => (await podsOf('ds-rollout', 'web')).every((p) => p.image === 'busybox:1' && !p.deleting), { timeoutMs: 20_000 });
    expect(
      rows(await ok(['rollout', 'history', 'ds/web', '-n', 'ds-rollout']))
        .slice(2)
        .map((r) => r[0]),
    ).toEqual(['2', '3']);

    expect(await ok(['rollout', 'restart', 'ds/web', '-n', 'ds-rollout'])).toBe('daemonset.apps/web restarted\n');
    await rolledOut('ds-rollout', 'web');
    expect(
      rows(await ok(['rollout', 'history', 'ds/web', '-n', 'ds-rollout']))
        .slice(2)
        .map((r) => r[0]),
    ).toEqual(['2', '3', '4']);
    expect(await ok(['get', 'ds', 'web', '-n', 'ds-rollout', '-o', 'jsonpath={.metadata.annotations.deprecated\\.daemonset\\.template\\.generation}'])).toBe(
      '4',
    );
  });

  it('surges the new pod before deleting the old one; OnDelete waits for pods to be deleted', async () => {
    await ok(['create', 'namespace', 'ds-surge']);
    const surge = '  updateStrategy:\n    rollingUpdate: {maxUnavailable: 0, maxSurge: 2}\n';
    await ok(['apply', '-n', 'ds-surge', '-f', '-'], daemonSet('surge', 'busybox:1', { strategy: surge }));
    await rolledOut('ds-surge', 'surge');
    const before = new Map((await podsOf('ds-surge', 'surge')).map((p) => [p.node, p.name]));
    const tracker = new PodTracker(k.cluster.client, 'ds-surge', 'app=surge');
    await tracker.start();
    await ok(['apply', '-n', 'ds-surge', '-f', '-'], daemonSet('surge', 'busybox:2', { strategy: surge }));
    await rolledOut('ds-surge', 'surge');
    await tracker.stop();
    // maxUnavailable 0: every node kept a ready pod throughout; maxSurge 2: at most two extra pods at once.
    expect(tracker.minReady).toBe(before.size);
    expect(tracker.maxActive).toBeLessThanOrEqual(before.size + 2);
    await waitFor(async () => (await podsOf('ds-surge', 'surge')).every((p) => p.image === 'busybox:2' && !p.deleting), { timeoutMs: 20_000 });
    const after = await podsOf('ds-surge', 'surge');
    expect(after.map((p) => p.node).sort()).toEqual([...before.keys()].sort());
    for (const p of after) expect(p.name).not.toBe(before.get(p.node));

    const onDelete = '  updateStrategy:\n    type: OnDelete\n';
    await ok(['apply', '-n', 'ds-surge', '-f', '-'], daemonSet('manual', 'busybox:1', { strategy: onDelete }));
    await waitFor(async () => (await nodesRunning('ds-surge', 'manual')).length === 4, { timeoutMs: 20_000 });
    await ok(['apply', '-n', 'ds-surge', '-f', '-'], daemonSet('manual', 'busybox:2', { strategy: onDelete }));
    await waitFor(async () => JSON.parse(await ok(['get', 'ds', 'manual', '-n', 'ds-surge', '-o', 'json'])).status.observedGeneration === 2, {
      timeoutMs: 20_000,
    });
    expect((await podsOf('ds-surge', 'manual')).map((p) => p.image)).toEqual(['busybox:1', 'busybox:1', 'busybox:1', 'busybox:1']);
    const victim = (await podsOf('ds-surge', 'manual'))[0]!;
    await ok(['delete', 'pod', victim.name, '-n', 'ds-surge']);
    await waitFor(async () => (await podsOf('ds-surge', 'manual')).some((p) => p.node === victim.node && p.image === 'busybox:2' && p.phase === 'Running'), {
      timeoutMs: 20_000,
    });
    expect((await podsOf('ds-surge', 'manual')).filter((p) => p.image === 'busybox:1')).toHaveLength(3);
    expect(await refused(['rollout', 'status', 'ds/manual', '-n', 'ds-surge', '--timeout=5s'])).toBe(
      'error: rollout status is only available for RollingUpdate strategy type',
    );
  });

  it('replaces a failed pod on its node (FailedDaemonPod), counting the failures on the replacement', async () => {
    await ok(['create', 'namespace', 'ds-failed']);
    await ok(['apply', '-n', 'ds-failed', '-f', '-'], daemonSet('flaky', 'busybox:1'));
    await rolledOut('ds-failed', 'flaky');
    const fail = async (failures: number) => {
      const victim = (await podsOf('ds-failed', 'flaky')).find((p) => p.node === 'node-1' && !p.deleting)!;
      await ok(['patch', 'pod', victim.name, '-n', 'ds-failed', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}']);
      const replacement = await waitFor(
        async () => (await podsOf('ds-failed', 'flaky')).find((p) => p.node === 'node-1' && p.phase === 'Running' && p.name !== victim.name && !p.deleting),
        { timeoutMs: 20_000, what: `a replacement for ${victim.name}` },
      );
      const annotations = JSON.parse(await ok(['get', 'pod', replacement.name, '-n', 'ds-failed', '-o', 'jsonpath={.metadata.annotations}']));
      expect(annotations['kumo.io/daemon-pod-failures']).toBe(String(failures));
      return victim.name;
    };
    const first = await fail(1);
    await fail(2);
    const events = await ok(['get', 'events', '-n', 'ds-failed', '--field-selector', 'reason=FailedDaemonPod', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain(`Found failed daemon pod ds-failed/${first} on node node-1, will try to kill it`);
  });

  it('admits a node-exporter-like pod (hostNetwork, hostPID, hostPath) where the namespace is privileged', async () => {
    await ok(['create', 'namespace', 'ds-monitoring']);
    const exporter = daemonSet('node-exporter', 'busybox:1', {
      podSpec: '      hostNetwork: true\n      hostPID: true\n      volumes:\n      - name: proc\n        hostPath: {path: /proc}\n',
    });
    await ok(['apply', '-n', 'ds-monitoring', '-f', '-'], exporter);
    await rolledOut('ds-monitoring', 'node-exporter');
    const pod = JSON.parse(await ok(['get', 'pods', '-n', 'ds-monitoring', '-o', 'jsonpath={.items[0]}']));
    expect(pod.spec).toMatchObject({ hostNetwork: true, hostPID: true });
    expect(pod.spec.tolerations.map((t: { key: string }) => t.key)).toContain('node.kubernetes.io/network-unavailable');

    await ok(['create', 'namespace', 'ds-restricted']);
    await ok(['label', 'namespace', 'ds-restricted', 'pod-security.kubernetes.io/enforce=baseline']);
    const r = await k.kubectl(['apply', '-n', 'ds-restricted', '-f', '-'], { stdin: exporter.replace('name: node-exporter', 'name: refused') });
    expect(r.code).toBe(0);
    await waitFor(async () => (await ok(['get', 'events', '-n', 'ds-restricted', '--field-selector', 'reason=FailedCreate', '-o', 'name'])) !== '', {
      timeoutMs: 20_000,
    });
    expect(await ok(['get', 'pods', '-n', 'ds-restricted'])).toBe('');
  });
});
