/**
 * The official JavaScript client (@kubernetes/client-node 1.3) against
 * `kumo up`: typed calls, and an informer (list, then watch from the list's
 * resourceVersion, re-watching when the server ends a stream) that stays in
 * sync with the store through 1,000 creates, updates and deletes.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS } from '#lib/kinds/resources';
import type { KObject } from '#lib/api/object';
import type { LocalCluster } from '#lib/local/cluster';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { sleep } from '#lib/util/sleep';

let cluster: LocalCluster & { dispose(): Promise<void> };
let kc: k8s.KubeConfig;

beforeAll(async () => {
  // client-node speaks only HTTPS: kumo up's default front door (self-signed CA, bearer token). Short
  // server-side watch lifetimes make the informer re-watch several times during the run.
  cluster = await startCluster({ controllers: false, insecureHttp: false, watchTimeoutMs: 700 });
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'kumo', server: cluster.url, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: 'kumo', token: cluster.adminToken }],
    contexts: [{ name: 'kumo', cluster: 'kumo', user: 'kumo' }],
    currentContext: 'kumo',
  });
});

afterAll(async () => {
  await cluster?.dispose();
});

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('@kubernetes/client-node', () => {
  it('reads and writes through the typed API', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: 'typed' } } });
    const created = await apps.createNamespacedDeployment({
      namespace: 'typed',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
        },
      },
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const read = await apps.readNamespacedDeployment({ namespace: 'typed', name: 'web' });
    expect(read.spec?.replicas).toBe(2);
    const scaled = await apps.patchNamespacedDeploymentScale(
      { namespace: 'typed', name: 'web', body: { spec: { replicas: 4 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(scaled.spec?.replicas).toBe(4);
    await expect(core.readNamespacedConfigMap({ namespace: 'typed', name: 'nope' })).rejects.toMatchObject({ code: 404 });
    const nodes = await core.listNode();
    expect(nodes.kind).toBe('NodeList');
  });

  it('keeps an informer in sync with the store through 1,000 changes', async () => {
    const ns = 'informed';
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // What makeInformer builds, typed with its cache (list/get).
    const informer = new k8s.ListWatch<k8s.V1ConfigMap>(
      `/api/v1/namespaces/${ns}/configmaps`,
      new k8s.Watch(kc),
      () => core.listNamespacedConfigMap({ namespace: ns }),
      false,
    );
    const errors: unknown[] = [];
    let connects = 0;
    let stopping = false;
    informer.on('error', (err) => {
      // Stopping aborts the open watch, which client-node reports as an error.
      if (stopping) return;
      errors.push(err);
      // client-node leaves restarting after an error to its user.
      setTimeout(() => void informer.start(), 50);
    });
    informer.on('connect', () => connects++);
    let events = 0;
    informer.on('add', () => events++);
    informer.on('update', () => events++);
    informer.on('delete', () => events++);
    await informer.start();

    const random = prng(42);
    const live = new Set<string>();
    const client = cluster.client;
    for (let i = 0; i < 1000; i++) {
      const name = `cm-${Math.floor(random() * 60)}`;
      if (!live.has(name)) {
        await client.create(CONFIGMAPS, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { step: String(i) } }, data: { v: String(i) } });
        live.add(name);
      } else if (random() < 0.75) {
        await client.patch(CONFIGMAPS, ns, name, { metadata: { labels: { step: String(i) } }, data: { v: String(i) } });
      } else {
        await client.delete(CONFIGMAPS, ns, name);
        live.delete(name);
      }
      // Let the watch stream breathe now and then, so streams end mid-sequence and the informer re-watches.
      if (i % 100 === 99) await sleep(150);
    }

    const store = async () => new Map((await client.list(CONFIGMAPS, ns)).items.map((o: KObject) => [o.metadata.name!, o]));
    const expected = await waitFor(
      async () => {
        const want = await store();
        const have = new Map(informer.list(ns).map((o) => [o.metadata!.name!, o]));
        if (have.size !== want.size) return false;
        for (const [name, o] of want) if (have.get(name)?.metadata?.resourceVersion !== o.metadata.resourceVersion) return false;
        return want;
      },
      { timeoutMs: 20_000, what: 'the informer cache to equal the store' },
    );
    stopping = true;
    await informer.stop();

    expect(expected.size).toBe(live.size);
    for (const [name, o] of expected) {
      const cached = informer.get(name, ns)!;
      expect(cached.data).toEqual((o as { data?: Record<string, string> }).data);
      expect(cached.metadata?.labels).toEqual(o.metadata.labels);
    }
    expect(errors).toEqual([]);
    // Watches ended by the server (700 ms lifetimes) were resumed from the last resourceVersion, not re-listed into gaps.
    expect(connects).toBeGreaterThan(2);
    expect(events).toBeGreaterThanOrEqual(1000);
  });
});
