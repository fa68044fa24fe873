/**
 * Every registered kind is whole (a kind as one module: lib/kinds), and the
 * registry the API server is given can grow while it serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { describeWith } from '#lib/kinds/describe';
import { builtinKinds, newKindRegistry, type KindRegistry } from '#lib/kinds/index';
import type { DescribeContext, Kind } from '#lib/kinds/kind';
import { printerOf } from '#lib/kinds/printer';
import { configMapKind } from '#lib/kinds/configmap';
import { priorityClassKind } from '#lib/kinds/priorityclass';
import { startApi, type TestApi, type Wire } from '../apiserver/harness.js';

/** Kinds that print only NAME and AGE or use kubectl's generic describer, as kubectl does for them (the reviews are never stored). */
const REVIEWS = [
  'tokenreviews',
  'selfsubjectreviews',
  'subjectaccessreviews',
  'localsubjectaccessreviews',
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
];
const DEFAULT_PRINTER: readonly string[] = REVIEWS;
const GENERIC_DESCRIBER = [
  'events',
  'leases',
  'controllerrevisions',
  'podtemplates',
  'customresourcedefinitions',
  'mutatingwebhookconfigurations',
  'validatingwebhookconfigurations',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'csidrivers',
  'volumeattachments',
  ...REVIEWS,
];

const NOW = Date.parse('2026-01-01T00:00:00Z');

function sample(kind: Kind): KObject {
  const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
  return {
    apiVersion,
    kind: kind.kind,
    metadata: { name: 'sample', ...(kind.namespaced ? { namespace: 'default' } : {}), uid: 'u-1', creationTimestamp: '2025-12-31T00:00:00Z' },
  };
}

const noFetches: DescribeContext = {
  now: NOW,
  events: async () => [],
  list: async () => [],
  get: async () => {
    throw new Error('not found');
  },
};

describe('a registered kind', () => {
  it.each(builtinKinds.map((k) => [k.resource, k] as const))('%s has every piece', async (_name, kind) => {
    expect(kind.kind).toMatch(/^[A-Z]\w*$/);
    expect(kind.listKind).toBe(`${kind.kind}List`);
    expect(kind.resource).toMatch(/^[a-z]+$/);
    expect(kind.singular).toBe(kind.kind.toLowerCase());
    expect(kind.version).toMatch(/^v\d/);
    expect(typeof kind.schema.safeParse).toBe('function');
    expect(typeof kind.strategy).toBe('object');
    expect(kind.garbageCollection).toEqual({ dependent: expect.any(Boolean), owner: expect.any(Boolean) });
    expect(['none', 'read', 'own']).toContain(kind.authorization.nodes);

    // Table columns: its own printer unless the module says 'default'; one cell per column.
    if (DEFAULT_PRINTER.includes(kind.resource)) expect(kind.printer).toBe('default');
    else expect(kind.printer).not.toBe('default');
    const printer = printerOf(kind);
    expect(printer.columns.length).toBeGreaterThan(0);
    expect(printer.row(sample(kind), NOW)).toHaveLength(printer.columns.length);

    // Describer: its own unless the module says 'generic'; either names the object.
    if (GENERIC_DESCRIBER.includes(kind.resource)) expect(kind.describer).toBe('generic');
    else expect(typeof kind.describer).toBe('function');
    expect(await describeWith(kind, sample(kind), noFetches)).toMatch(/^Name:\s+sample$/m);
  });

  it('is registered once: a second kind with the same group/version/resource or kind is refused', () => {
    const kinds = newKindRegistry();
    expect(() => kinds.add(configMapKind)).toThrow('resource configmaps in v1 is already registered');
    expect(() => kinds.add({ ...configMapKind, resource: 'configmaps2' })).toThrow('kind v1/ConfigMap is already registered');
    expect(kinds.all()).toHaveLength(builtinKinds.length);
  });
});

describe('a registry the server is given', () => {
  // A kind added while the server runs, built from data as a custom resource's will be (issue 14).
  const widgetKind: Kind = {
    ...configMapKind,
    group: 'example.com',
    kind: 'Widget',
    listKind: 'WidgetList',
    resource: 'widgets',
    singular: 'widget',
    shortNames: ['wd'],
    subresources: [],
    printer: 'default',
    describer: 'generic',
  };
  let kinds: KindRegistry;
  let t: TestApi;

  beforeAll(async () => {
    kinds = newKindRegistry();
    t = await startApi({ kinds });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('serves a kind added while it runs: discovery, OpenAPI, its REST paths and its table', async () => {
    expect((await t.get('/apis/example.com/v1')).status).toBe(404);
    const before = (await t.get('/openapi/v3')).body.paths;
    expect(before['apis/example.com/v1']).toBeUndefined();

    kinds.add(widgetKind);

    const list = await t.get('/apis/example.com/v1');
    expect(list.status).toBe(200);
    expect(list.body.resources.map((r: Wire) => r.name)).toEqual(['widgets']);
    expect((await t.get('/apis')).body.groups.map((g: Wire) => g.name)).toContain('example.com');
    expect((await t.get('/openapi/v3')).body.paths['apis/example.com/v1']).toBeDefined();

    const created = await t.post('/apis/example.com/v1/namespaces/default/widgets', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w1' },
      data: { a: 'b' },
    });
    expect(created.status).toBe(201);
    const table = await t.get('/apis/example.com/v1/namespaces/default/widgets', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(table.body.columnDefinitions.map((c: Wire) => c.name)).toEqual(['Name', 'Age']);
    expect(table.body.rows.map((r: Wire) => r.cells[0])).toEqual(['w1']);
  });
});

describe('the PriorityClass describer', () => {
  it('prints what kubectl describe priorityclass prints', async () => {
    const pc = {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'batch', annotations: { team: 'data' } },
      value: 10,
      globalDefault: false,
      preemptionPolicy: 'Never',
      description: 'batch work',
    } as KObject;
    expect(await describeWith(priorityClassKind, pc, noFetches)).toBe(
      [
        'Name:              batch',
        'Value:             10',
        'GlobalDefault:     false',
        'PreemptionPolicy:  Never',
        'Description:       batch work',
        'Annotations:       team=data',
        'Events:            <none>',
        '',
      ].join('\n'),
    );
  });
});
