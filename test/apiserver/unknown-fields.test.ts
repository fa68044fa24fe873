/**
 * Unknown and duplicate fields, handled alike on create, update and every
 * patch type, as Kubernetes' decoders handle them: Warn (the default) drops
 * them with a `299` warning per field, Ignore drops them silently, Strict
 * refuses the request and stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configMap, CONFIGMAPS, startApi, type Reply, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

type Verb = 'create' | 'update' | 'merge' | 'json' | 'strategic' | 'apply';
const VERBS: Verb[] = ['create', 'update', 'merge', 'json', 'strategic', 'apply'];

/** Sends, with `validation`, a request of `verb` that puts `bogus: 1` at the top of ConfigMap `name` and sets data.k. */
async function send(verb: Verb, name: string, validation: string): Promise<Reply> {
  const q = `?fieldValidation=${validation}`;
  const path = `${CONFIGMAPS}/${name}${q}`;
  const full = { ...configMap(name, { k: verb }), bogus: 1 };
  switch (verb) {
    case 'create':
      return t.post(`${CONFIGMAPS}${q}`, full);
    case 'update':
      return t.put(path, full);
    case 'merge':
      return t.patch(path, { data: { k: verb }, bogus: 1 }, 'application/merge-patch+json');
    case 'json':
      return t.patch(
        path,
        [
          { op: 'add', path: '/data', value: { k: verb } },
          { op: 'add', path: '/bogus', value: 1 },
        ],
        'application/json-patch+json',
      );
    case 'strategic':
      return t.patch(path, { data: { k: verb }, bogus: 1 }, 'application/strategic-merge-patch+json');
    case 'apply':
      return t.patch(`${path}&fieldManager=test`, full, 'application/apply-patch+yaml');
  }
}

/** A ConfigMap to update or patch (creates make their own). */
async function target(verb: Verb, validation: string): Promise<string> {
  const name = `${verb}-${validation}`.toLowerCase();
  if (verb !== 'create') expect((await t.post(CONFIGMAPS, configMap(name))).status).toBe(201);
  return name;
}

describe.each(VERBS)('%s', (verb) => {
  it('Warn (the default): drops the field from what is stored, with a 299 warning naming it', async () => {
    const name = await target(verb, 'Warn');
    const r = await send(verb, name, 'Warn');
    expect(r.status).toBeLessThan(300);
    expect(r.headers.get('warning')).toBe('299 - "unknown field \\"bogus\\""');
    const stored = (await t.get(`${CONFIGMAPS}/${name}`)).body;
    expect(stored).not.toHaveProperty('bogus');
    expect(stored.data).toEqual({ k: verb });
  });

  it('Ignore: drops it without a word', async () => {
    const name = await target(verb, 'Ignore');
    const r = await send(verb, name, 'Ignore');
    expect(r.status).toBeLessThan(300);
    expect(r.headers.get('warning')).toBeNull();
    const stored = (await t.get(`${CONFIGMAPS}/${name}`)).body;
    expect(stored).not.toHaveProperty('bogus');
    expect(stored.data).toEqual({ k: verb });
  });

  it("Strict: refuses the request with kube's strict decoding error, and stores nothing", async () => {
    const name = await target(verb, 'Strict');
    const before = await t.store.currentRevision('configmaps');
    const r = await send(verb, name, 'Strict');
    const s: Wire = r.body;
    expect(s.message).toContain('strict decoding error: unknown field "bogus"');
    // kube's create, update and apply handlers answer 400; its JSON, merge and strategic patchers 422 on the field "patch".
    if (verb === 'create' || verb === 'update' || verb === 'apply') {
      expect(r.status).toBe(400);
      expect(s.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"');
    } else {
      expect(r.status).toBe(422);
      expect(s.message).toMatch(/^ "" is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "bogus"$/);
      expect(s.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'patch' });
    }
    expect(await t.store.currentRevision('configmaps')).toBe(before);
  });
});

describe('duplicate fields', () => {
  const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}';

  it('warns about a field given twice and keeps the last, as kube does', async () => {
    const r = await t.post(CONFIGMAPS, body);
    expect(r.status).toBe(201);
    expect(r.headers.get('warning')).toBe('299 - "duplicate field \\"data.a\\""');
    expect(r.body.data).toEqual({ a: '2' });
  });

  it('refuses it under Strict', async () => {
    const r = await t.post(`${CONFIGMAPS}?fieldValidation=Strict`, body.replace('"dup"', '"dup-strict"'));
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a"');
    expect((await t.get(`${CONFIGMAPS}/dup-strict`)).status).toBe(404);
  });

  it('finds them in YAML too, worded as go-yaml', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup-yaml\ndata:\n  a: "1"\n  a: "2"\n';
    const r = await t.post(`${CONFIGMAPS}?fieldValidation=Strict`, yaml, { contentType: 'application/yaml' });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key "a" already set in map',
    );
  });

  it('is silent about them under Ignore', async () => {
    const r = await t.post(`${CONFIGMAPS}?fieldValidation=Ignore`, body.replace('"dup"', '"dup-ignore"'));
    expect(r.status).toBe(201);
    expect(r.headers.get('warning')).toBeNull();
  });
});

describe('wrong field types', () => {
  it("words a type error as Go's decoder does, without validator wording", async () => {
    const r = await t.post(CONFIGMAPS, { ...configMap('typed'), data: 'x' });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal string into Go struct field ConfigMap.data of type map[string]string',
    );
  });

  it('names the innermost struct and the JSON path, as Go does', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'typed' },
      spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 'eighty' }] }] },
    };
    const r = await t.post('/api/v1/namespaces/default/pods', pod);
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
    );
  });

  it('refuses a patch that gives a field the wrong type with 422 on "patch", without validator wording', async () => {
    expect((await t.post(CONFIGMAPS, configMap('typed-patch'))).status).toBe(201);
    const r = await t.patch(`${CONFIGMAPS}/typed-patch`, { metadata: { labels: 'x' } }, 'application/merge-patch+json');
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(
      /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field ObjectMeta\.metadata\.labels of type map\[string\]string$/,
    );
    expect(r.body.message).not.toMatch(/expected record|received string/);
  });
});
