/**
 * `kubectl apply --server-side` against kumo: create, update, field
 * ownership and conflicts, force, pruning of fields a manager stops
 * applying, and the client-side → server-side apply migration kubectl does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS, DEPLOYMENTS } from '#lib/kinds/resources';
import type { KObject } from '#lib/api/object';
import { type KubectlCluster, startKubectlCluster } from './harness.js';

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster();
});

afterAll(async () => {
  await k?.dispose();
});

async function ok(args: string[]): Promise<string> {
  const r = await k.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function manifest(name: string, o: { replicas?: number; image?: string; labels?: Record<string, string> } = {}): string {
  const labels = Object.entries({ app: name, ...(o.labels ?? {}) })
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {${labels}}
spec:
  ${o.replicas !== undefined ? `replicas: ${o.replicas}` : ''}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${o.image ?? 'nginx:1.25'}
        ports: [{containerPort: 80}]
`;
}

function managers(obj: KObject): string[] {
  return (obj.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}${m.subresource ? `/${m.subresource}` : ''}`);
}

describe('kubectl apply --server-side', () => {
  it('creates (201), updates, and records the applier as owner of what it applied', async () => {
    const file = k.file('ssa/web.yaml', manifest('web', { replicas: 2 }));
    expect(await ok(['apply', '--server-side', '-f', file])).toBe('deployment.apps/web serverside-applied\n');
    let d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'web');
    expect(managers(d)).toContain('kubectl/Apply');
    const applied = d.metadata.managedFields!.find((m) => m.operation === 'Apply')!;
    expect(applied.fieldsV1).toMatchObject({
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
      },
    });
    // Server-side defaults belong to no one.
    expect(JSON.stringify(applied.fieldsV1)).not.toContain('f:progressDeadlineSeconds');

    k.file('ssa/web.yaml', manifest('web', { replicas: 2, image: 'nginx:1.26' }));
    expect(await ok(['apply', '--server-side', '-f', file])).toBe('deployment.apps/web serverside-applied\n');
    d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'web');
    expect((d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image).toBe('nginx:1.26');
    expect(d.metadata.generation).toBe(2);
  });

  it('refuses to take a field another manager owns, names it, and takes it with --force-conflicts', async () => {
    const file = k.file('ssa/conflict.yaml', manifest('contested', { replicas: 1 }));
    await ok(['apply', '--server-side', '-f', file]);
    expect(await ok(['scale', 'deploy/contested', '--replicas=3'])).toBe('deployment.apps/contested scaled\n');
    expect(managers(await k.cluster.client.get(DEPLOYMENTS, 'default', 'contested'))).toContain('kubectl/Update/scale');

    k.file('ssa/conflict.yaml', manifest('contested', { replicas: 2 }));
    const r = await k.kubectl(['apply', '--server-side', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas\nPlease review the fields above--they currently have other managers/,
    );
    expect((await k.cluster.client.get(DEPLOYMENTS, 'default', 'contested')).spec).toMatchObject({ replicas: 3 });

    // Applying the value the other manager set is no conflict: both own it.
    k.file('ssa/conflict.yaml', manifest('contested', { replicas: 3 }));
    expect(await ok(['apply', '--server-side', '-f', file])).toBe('deployment.apps/contested serverside-applied\n');

    k.file('ssa/conflict.yaml', manifest('contested', { replicas: 5 }));
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', file])).toBe('deployment.apps/contested serverside-applied\n');
    const d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'contested');
    expect(d.spec).toMatchObject({ replicas: 5 });
    expect(managers(d)).not.toContain('kubectl/Update/scale');
  });

  it('lists several conflicting fields by manager', async () => {
    await ok([
      'apply',
      '--server-side',
      '--field-manager=team-a',
      '-f',
      k.file('ssa/a.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {p: "1", q: "1"}\n'),
    ]);
    const r = await k.kubectl([
      'apply',
      '--server-side',
      '--field-manager=team-b',
      '-f',
      k.file('ssa/b.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {p: "2", q: "2", r: "2"}\n'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Apply failed with 2 conflicts: conflicts with "team-a":\n- \.data\.p\n- \.data\.q\n/);
    expect((await k.cluster.client.get(CONFIGMAPS, 'default', 'shared')).data).toEqual({ p: '1', q: '1' });
  });

  it('removes fields the manager applied before and no longer applies, unless someone else owns them', async () => {
    const file = k.file('ssa/prune.yaml', manifest('pruned', { labels: { tier: 'web', team: 'a' } }));
    await ok(['apply', '--server-side', '-f', file]);
    await ok(['label', 'deploy/pruned', 'owner=ops']);
    k.file('ssa/prune.yaml', manifest('pruned', { labels: { tier: 'web' } }));
    await ok(['apply', '--server-side', '-f', file]);
    const d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'pruned');
    expect(d.metadata.labels).toEqual({ app: 'pruned', tier: 'web', owner: 'ops' });
  });

  it('upgrades objects created by client-side apply without conflicts, and client-side apply keeps working after', async () => {
    const file = k.file('ssa/migrate.yaml', manifest('migrated', { replicas: 1 }));
    expect(await ok(['apply', '-f', file])).toBe('deployment.apps/migrated created\n');
    k.file('ssa/migrate.yaml', manifest('migrated', { replicas: 2 }));
    expect(await ok(['apply', '--server-side', '-f', file])).toBe('deployment.apps/migrated serverside-applied\n');
    let d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'migrated');
    expect(d.spec).toMatchObject({ replicas: 2 });
    // The last-applied annotation follows the server-side configuration, so client-side apply sees no drift.
    expect(JSON.parse(d.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!).spec.replicas).toBe(2);
    k.file('ssa/migrate.yaml', manifest('migrated', { replicas: 3 }));
    expect(await ok(['apply', '-f', file])).toBe('deployment.apps/migrated configured\n');
    d = await k.cluster.client.get(DEPLOYMENTS, 'default', 'migrated');
    expect(d.spec).toMatchObject({ replicas: 3 });
  });

  it('validates strictly and supports --dry-run=server', async () => {
    const bad = k.file('ssa/bad.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: "1"}\nstuff: 1\n');
    const r = await k.kubectl(['apply', '--server-side', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('strict decoding error: unknown field "stuff"');
    const dry = k.file('ssa/dry.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: "1"}\n');
    expect(await ok(['apply', '--server-side', '--dry-run=server', '-f', dry])).toBe('configmap/dry serverside-applied (server dry run)\n');
    expect(await k.cluster.client.find(CONFIGMAPS, 'default', 'dry')).toBeUndefined();
  });
});
