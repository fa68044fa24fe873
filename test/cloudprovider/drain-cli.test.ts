/**
 * `kumo cordon|uncordon|drain` beside the real kubectl v1.35 on a local
 * cluster with simulated nodes whose pods take their whole grace period to
 * stop, so a drain's wait is the pods' terminationGracePeriodSeconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, NODES, POD_DISRUPTION_BUDGETS, PODS } from '#lib/kinds/resources';
import type { PodDisruptionBudget } from '#lib/api/policy/v1/poddisruptionbudget';
import { main } from '#lib/cli/main';
import { memoryIO } from '#lib/cli/io';
import { TAINT_UNSCHEDULABLE } from '#lib/api/taints';
import { type CliCluster, sideBySide, startCliCluster } from '../cli/harness.js';
import { waitFor } from '../helpers/wait.js';
import { sleep } from '#lib/util/sleep';

type N = Node & KObject;
type P = Pod & KObject;

const GRACE_SECONDS = 2;

function web(replicas: number, name = 'web'): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: GRACE_SECONDS, containers: [{ name: 'app', image: 'nginx:1.27' }] },
      },
    },
  } as KObject;
}

function bare(name: string, node: string, extra: Partial<NonNullable<P['spec']>> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, terminationGracePeriodSeconds: GRACE_SECONDS, containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra },
  } as KObject;
}

describe('kumo cordon, uncordon and drain', () => {
  let c: CliCluster;
  const node = (name: string) => c.cluster.client.get<N>(NODES, undefined, name);
  const podsOn = async (name: string) => (await c.cluster.client.listAll<P>(PODS, 'default', { fieldSelector: `spec.nodeName=${name}` })).items;

  beforeAll(async () => {
    // Pods stop only when their grace period is up.
    c = await startCliCluster({ controllers: true, fakeNodes: { names: ['n1', 'n2', 'n3'], startDelayMs: 50, stopDelayMs: 60_000 } });
  });
  afterAll(async () => {
    await c.dispose();
  });

  it('cordons with the unschedulable taint and uncordons, saying what kubectl says', async () => {
    expect(await c.kumo(['cordon', 'n3'])).toEqual({ code: 0, stdout: 'node/n3 cordoned\n', stderr: '' });
    const cordoned = await node('n3');
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.spec?.taints).toContainEqual(expect.objectContaining({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }));
    const again = await sideBySide(c, ['cordon', 'n3']);
    expect(again.kumo).toEqual(again.kubectl);
    expect(again.kumo.stdout).toBe('node/n3 already cordoned\n');

    expect(await c.kumo(['uncordon', 'n3'])).toEqual({ code: 0, stdout: 'node/n3 uncordoned\n', stderr: '' });
    const uncordoned = await node('n3');
    expect(uncordoned.spec?.unschedulable).toBeUndefined();
    expect(uncordoned.spec?.taints ?? []).toEqual([]);
    const twice = await sideBySide(c, ['uncordon', 'n3']);
    expect(twice.kumo).toEqual(twice.kubectl);

    // A kubectl cordon is undone by kumo uncordon (and the other way round).
    await c.kubectl(['cordon', 'n3']);
    expect(await c.kumo(['uncordon', 'n3'])).toMatchObject({ code: 0, stdout: 'node/n3 uncordoned\n' });
    expect((await node('n3')).spec?.unschedulable).toBeUndefined();
    expect(await c.kumo(['cordon', 'n3', '--dry-run=client'])).toMatchObject({ code: 0, stdout: 'node/n3 cordoned (dry run)\n' });
    expect((await node('n3')).spec?.unschedulable).toBeUndefined();
  });

  it('refuses to drain pods no controller would recreate, word for word as kubectl', async () => {
    await c.cluster.client.create(PODS, 'default', bare('lonely', 'n1'));
    await c.kumo(['cordon', 'n1']);
    const r = await sideBySide(c, ['drain', 'n1']);
    expect(r.kumo).toEqual(r.kubectl);
    expect(r.kumo.code).toBe(1);
    expect(r.kumo.stderr).toBe(
      'error: unable to drain node "n1" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): default/lonely, continuing command...\n' +
        'There are pending nodes to be drained:\n n1\n' +
        'cannot delete cannot delete Pods that declare no controller (use --force to override): default/lonely\n',
    );
    expect((await podsOn('n1')).map((p) => p.metadata.name)).toContain('lonely');
  });

  it('reports pods with emptyDir data and every refusal at once', async () => {
    await c.cluster.client.create(PODS, 'default', bare('scratch', 'n1', { volumes: [{ name: 'tmp', emptyDir: {} }] }));
    const r = await sideBySide(c, ['drain', 'n1']);
    expect(r.kumo.code).toBe(r.kubectl.code);
    expect(r.kumo.stdout).toBe(r.kubectl.stdout);
    // Go's map order decides which refusal comes first: compare the lines, not their order.
    const lines = (s: string) =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('error: unable'))
        .sort();
    const unable = (s: string) => s.split('\n').find((l) => l.startsWith('error: unable'))!;
    expect(lines(r.kumo.stderr)).toEqual(lines(r.kubectl.stderr));
    expect(unable(r.kumo.stderr).length).toBe(unable(r.kubectl.stderr).length);
    expect(r.kumo.stderr).toContain('cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch');
    await c.cluster.client.delete(PODS, 'default', 'scratch', { gracePeriodSeconds: 0 });
    await waitFor(async () => !(await podsOn('n1')).some((p) => p.metadata.name === 'scratch'));
  });

  it('evicts through the eviction subresource, each pod with its grace period, and waits until they are gone', async () => {
    await c.kumo(['uncordon', 'n1']);
    await c.cluster.client.create(DEPLOYMENTS, 'default', web(6));
    await waitFor(
      async () => {
        const all = (await c.cluster.client.listAll<P>(PODS, 'default', { labelSelector: 'app=web' })).items;
        return all.length === 6 && all.every((p) => p.status?.phase === 'Running') && all.some((p) => p.spec?.nodeName === 'n1');
      },
      { what: 'web pods Running, some on n1' },
    );
    const before = (await podsOn('n1')).filter((p) => p.metadata.labels?.app === 'web');
    // Follow the evicted pods: their deletion must carry their own grace period.
    const graces = new Map<string, number>();
    const watching = (async () => {
      for (;;) {
        for (const p of await podsOn('n1')) if (p.metadata.deletionTimestamp) graces.set(p.metadata.name!, p.metadata.deletionGracePeriodSeconds ?? -1);
        if ([...before, { metadata: { name: 'lonely' } }].every((p) => graces.has(p.metadata.name!))) return;
        await sleep(50);
      }
    })();

    const r = await c.kumo(['drain', 'n1', '--force']);
    await watching;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Warning: deleting Pods that declare no controller: default/lonely\n');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('node/n1 cordoned');
    expect(lines.at(-1)).toBe('node/n1 drained');
    for (const name of [...before.map((p) => p.metadata.name!), 'lonely']) {
      expect(lines).toContain(`pod/${name} eviction started`);
      expect(lines).toContain(`evicting pod default/${name}`);
      expect(lines).toContain(`pod/${name} evicted`);
      expect(graces.get(name)).toBe(GRACE_SECONDS);
    }
    // Nothing left on the node; the Deployment's pods run elsewhere, and new ones stay off it.
    expect(await podsOn('n1')).toEqual([]);
    await c.cluster.client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 9 } });
    await waitFor(
      async () => {
        const all = (await c.cluster.client.listAll<P>(PODS, 'default', { labelSelector: 'app=web' })).items.filter(
          (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp,
        );
        return all.length === 9 ? all : undefined;
      },
      { what: '9 web pods Running' },
    );
    expect(await podsOn('n1')).toEqual([]);
  });

  it('drains with the real kubectl too (eviction is discoverable)', async () => {
    await c.kumo(['uncordon', 'n1']);
    const onN2 = (await podsOn('n2')).filter((p) => !p.metadata.deletionTimestamp);
    expect(onN2.length).toBeGreaterThan(0);
    const r = await c.kubectl(['drain', 'n2']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('node/n2 drained');
    expect((await podsOn('n2')).filter((p) => !p.metadata.deletionTimestamp)).toEqual([]);
  });

  it('waits on a PodDisruptionBudget (429, retried every 5 s) and finishes once a replacement is Ready', async () => {
    for (const n of ['n1', 'n2', 'n3']) await c.kumo(['uncordon', n]);
    await c.cluster.client.create(DEPLOYMENTS, 'default', web(2, 'db'));
    await c.cluster.client.create(POD_DISRUPTION_BUDGETS, 'default', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } },
    });
    const pod = await waitFor(
      async () => {
        const b = await c.cluster.client.get<PodDisruptionBudget & KObject>(POD_DISRUPTION_BUDGETS, 'default', 'db');
        if (b.status?.currentHealthy !== 2) return undefined;
        return (await c.cluster.client.listAll<P>(PODS, 'default', { labelSelector: 'app=db' })).items[0];
      },
      { what: 'db budget counting 2 healthy pods' },
    );
    const node = pod.spec!.nodeName!;

    const io = memoryIO('', c.env);
    const drained = main(['drain', node, '--pod-selector=app=db', '--timeout=60s'], io);
    await waitFor(() => io.stderr.includes('(will retry after 5s)'), { what: 'kumo drain blocked by the budget', timeoutMs: 20_000 });
    expect(io.stderr).toBe(
      `error when evicting pods/"${pod.metadata.name}" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\n`,
    );
    // A third replica, Ready on another node, frees one disruption: the next attempt goes through.
    await c.cluster.client.patch(DEPLOYMENTS, 'default', 'db', { spec: { replicas: 3 } });
    expect(await drained).toBe(0);
    expect(io.stdout).toContain(`pod/${pod.metadata.name} evicted\n`);
    expect(io.stdout).toMatch(new RegExp(`node/${node} drained\n$`));
    await c.kumo(['uncordon', node]);
  }, 60_000);

  it('says how to use it, and names a node that does not exist', async () => {
    expect(await c.kumo(['drain'])).toEqual({ code: 1, stdout: '', stderr: "error: USAGE: drain NODE [flags]\nSee 'kumo drain -h' for help and examples\n" });
    const missing = await sideBySide(c, ['drain', 'nope']);
    expect(missing.kumo).toEqual(missing.kubectl);
    expect(missing.kumo.stderr).toBe('Error from server (NotFound): nodes "nope" not found\n');
  });
});
