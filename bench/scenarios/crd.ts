/**
 * CustomResourceDefinitions (issue 14): from creating a CRD to its
 * `Established` condition, and to the first object of its kind served, as a
 * user's `kubectl apply -f crd.yaml && kubectl wait --for=condition=Established`
 * followed by the first custom object sees it. The CRD is cert-manager's
 * Certificate (vendored in test/apiextensions/fixtures), under a fresh group
 * each run so every run is a first. Local: `kumo up`'s API on SQLite. Cloud:
 * the API function on the emulator's DynamoDB, each request one invocation.
 *
 * The peer measured in the same run is a ConfigMap create through the same
 * API: the ratio is what learning a new kind costs beyond one write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KObject } from '#lib/api/object';
import type { ResourceType } from '#lib/api/registry';
import type { KubeClient } from '#lib/client/client';
import { customResourceDefinitionKind } from '#lib/kinds/customresourcedefinition';
import { CONFIGMAPS } from '#lib/kinds/resources';
import { LocalCluster } from '#lib/local/cluster';
import { silentLogger } from '#lib/log/logger';
import { sleep } from '#lib/util/sleep';
import { CloudPlane } from '../lib/cloud-plane.js';
import { summarize } from '../lib/stats.js';
import { type Ctx, type Figure, figure, type Scenario } from '../lib/types.js';

const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'test', 'apiextensions', 'fixtures', 'certificates.cert-manager.io.yaml');

/**
 * The Certificate CRD under group `cert-manager-<run>.io`, its names numbered too: kumo serves one kind a
 * plural (docs/crds.md), so a second `certificates` would be refused with PluralConflict.
 */
function crdFor(run: number): KObject {
  const crd = parse(readFileSync(FIXTURE, 'utf8')) as KObject & { spec: { group: string; names: Record<string, unknown> } };
  crd.spec.group = `cert-manager-${run}.io`;
  crd.spec.names = { ...crd.spec.names, ...names(run), shortNames: [] };
  crd.metadata.name = `${names(run).plural}.cert-manager-${run}.io`;
  return crd;
}

function names(run: number) {
  return { plural: `certificates${run}`, singular: `certificate${run}`, kind: `Certificate${run}`, listKind: `Certificate${run}List` };
}

/** The served custom resource, as the client addresses it (paths only). */
function certificates(run: number): ResourceType {
  return {
    ...customResourceDefinitionKind,
    group: `cert-manager-${run}.io`,
    version: 'v1',
    resource: names(run).plural,
    kind: names(run).kind,
    listKind: names(run).listKind,
    singular: names(run).singular,
    namespaced: true,
  };
}

function certificate(run: number): KObject {
  return {
    apiVersion: `cert-manager-${run}.io/v1`,
    kind: names(run).kind,
    metadata: { name: 'web', namespace: 'default' },
    spec: { secretName: 'web-tls', dnsNames: ['web.example.com'], issuerRef: { name: 'ca' } },
  };
}

interface Sample {
  establishedMs: number;
  firstObjectMs: number;
  configMapMs: number;
}

/** Polls every 5 ms until `fn` resolves true; throws after 30 s. */
async function until(fn: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

async function measure(client: KubeClient, run: number): Promise<Sample> {
  const t0 = performance.now();
  await client.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `peer-${run}` }, data: { a: '1' } });
  const configMapMs = performance.now() - t0;

  const t1 = performance.now();
  await client.create(customResourceDefinitionKind, undefined, crdFor(run));
  await until(async () => {
    const crd = await client.get<KObject & { status?: { conditions?: { type: string; status: string }[] } }>(
      customResourceDefinitionKind,
      undefined,
      `${names(run).plural}.cert-manager-${run}.io`,
    );
    return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
  });
  const establishedMs = performance.now() - t1;
  await until(async () => {
    await client.create(certificates(run), 'default', certificate(run));
    return true;
  });
  return { establishedMs, firstObjectMs: performance.now() - t1, configMapMs };
}

function figures(mode: 'local' | 'cloud', samples: Sample[], note: string): Figure[] {
  const peer = {
    label: 'ConfigMap create through the same API (median)',
    value: summarize(samples.map((s) => s.configMapMs)).p50,
    unit: 'ms',
    kind: 'peer' as const,
  };
  return [
    figure(
      `crd-${mode}-established`,
      `${mode}: CRD create → Established (median of ${samples.length})`,
      summarize(samples.map((s) => s.establishedMs)).p50,
      'ms',
      {
        peer,
        note,
      },
    ),
    figure(
      `crd-${mode}-first-object`,
      `${mode}: CRD create → first object created (median of ${samples.length})`,
      summarize(samples.map((s) => s.firstObjectMs)).p50,
      'ms',
      {
        peer,
        target: { on: 'value', op: '<=', value: 1000, label: '≤ 1 s (issue 14: served within a second)' },
        note,
      },
    ),
  ];
}

export const crd: Scenario = {
  name: 'crd',
  title: 'CustomResourceDefinitions: create → Established → first object (local SQLite and cloud DynamoDB)',
  estimate: { quick: '~0.5 min', full: '~1 min' },
  async run(ctx: Ctx) {
    const runs = ctx.quick ? 3 : 10;
    const local: Sample[] = [];
    const cluster = new LocalCluster({ dataDir: join(ctx.workDir, 'local'), port: 0, logger: silentLogger, controllers: false, insecureHttp: true });
    await cluster.start();
    try {
      for (let i = 0; i < runs; i++) local.push(await measure(cluster.client, i));
    } finally {
      await cluster.stop();
    }
    ctx.log(`local: ${local.map((s) => s.firstObjectMs.toFixed(0)).join(', ')} ms to the first object`);

    const cloud: Sample[] = [];
    let cloudNote = 'the API function on moto (every request one invocation), no control loops';
    try {
      const plane = await CloudPlane.start({ controlLoops: false });
      try {
        for (let i = 0; i < runs; i++) cloud.push(await measure(plane.client(), i));
      } finally {
        await plane.stop();
      }
      ctx.log(`cloud: ${cloud.map((s) => s.firstObjectMs.toFixed(0)).join(', ')} ms to the first object`);
    } catch (err) {
      cloudNote = `not measured: ${(err as Error).message}`;
    }
    const localNote = "kumo up's API on SQLite, in process";
    return {
      method:
        "cert-manager's Certificate CRD (vendored) under a fresh group each run: create it, poll its `Established` condition every 5 ms, then create a Certificate until the first 2xx. The peer is a ConfigMap create through the same API in the same run.",
      figures: [
        ...figures('local', local, localNote),
        ...(cloud.length > 0
          ? figures('cloud', cloud, cloudNote)
          : [figure('crd-cloud-established', 'cloud: CRD create → Established', null, 'ms', { note: cloudNote })]),
      ],
      tables: [
        {
          title: 'Each run (ms)',
          columns: ['mode', 'run', 'ConfigMap create', 'Established', 'first object'],
          rows: [
            ...local.map((s, i) => ['local', i + 1, s.configMapMs.toFixed(1), s.establishedMs.toFixed(1), s.firstObjectMs.toFixed(1)]),
            ...cloud.map((s, i) => ['cloud', i + 1, s.configMapMs.toFixed(1), s.establishedMs.toFixed(1), s.firstObjectMs.toFixed(1)]),
          ],
        },
      ],
      charts: [],
      notes: [
        'Another cloud API instance learns a new CRD within its 500 ms revision check (docs/crds.md); this run uses one instance, which learns it on the write.',
      ],
      data: { local, cloud },
    };
  },
};
