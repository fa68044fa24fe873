/**
 * Bounded work per request, as kube-apiserver bounds it: each bound answers
 * with a Status at once, stores nothing, and leaves the server answering
 * everyone else. Media types, 404 details, request ids and the request
 * deadline, over real HTTP on SQLite.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { createApiHttpServer } from '#lib/apiserver/http';
import { JSON_PATCH_MAX_COPY_BYTES, MAX_BODY_BYTES, MAX_JSON_PATCH_OPERATIONS, MAX_NESTING_DEPTH, MAX_OBJECT_BYTES } from '#lib/apiserver/limits';
import { ApiServer } from '#lib/apiserver/server';
import { SqliteStore } from '#lib/store/sqlite';
import type { Store } from '#lib/store/types';
import { configMap, CONFIGMAPS, pod, PODS, startApi, type Reply, type TestApi, type Wire } from './harness.js';
import { type Logger, silentLogger } from '#lib/log/logger';
import { captureLogger } from '../helpers/logger.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
  expect((await t.post(CONFIGMAPS, configMap('base', { a: 'x'.repeat(1000) }))).status).toBe(201);
  expect((await t.post(PODS, pod('existing'))).status).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

/** The store's revisions of the kinds these tests write: unchanged means nothing was stored. */
async function revisions(): Promise<number[]> {
  return Promise.all(['configmaps', 'pods'].map((r) => t.store.currentRevision(r)));
}

async function unchanged(act: () => Promise<Reply>): Promise<Reply> {
  const before = await revisions();
  const reply = await act();
  expect(await revisions()).toEqual(before);
  return reply;
}

function expectStatus(reply: Reply, code: number, reason: string): Wire {
  expect(reply.status).toBe(code);
  expect(reply.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
  return reply.body;
}

/** `{"a":{"a":...1...}}` nested `depth` deep, as text (JSON.stringify itself would overflow on the deep cases). */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('body size', () => {
  it('answers 413 while an oversized upload is still coming, without waiting for its end', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${t.url}${CONFIGMAPS}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', () => undefined);
      // More than the limit, and the request is never ended: only an answer given before the end can arrive.
      req.write(`{"data":{"a":"${'x'.repeat(MAX_BODY_BYTES)}`, (err) => err && reject(err));
    });
    expect(status).toBe(413);
  });
});

describe('JSON patch bounds', () => {
  it('refuses the 26-copy patch that doubles an object 26 times (422), stores nothing, and keeps answering others meanwhile', async () => {
    const ops = Array.from({ length: 26 }, (_, i) => ({ op: 'copy', from: '/data', path: `/data/d${i}` }));
    expect(JSON.stringify(ops).length).toBeLessThan(2048);
    const before = (await t.get(`${CONFIGMAPS}/base`)).body;
    const [patch, ...others] = await Promise.all([
      unchanged(() => t.patch(`${CONFIGMAPS}/base`, ops, 'application/json-patch+json')),
      ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? t.get(`${PODS}/existing`) : t.get(CONFIGMAPS))),
    ]);
    const s = expectStatus(patch!, 422, 'Invalid');
    expect(s.message).toMatch(
      new RegExp(
        `^the server rejected our request due to an error in our request: Unable to complete the copy, the accumulated size increase of copy is \\d+, exceeding the limit ${JSON_PATCH_MAX_COPY_BYTES}$`,
      ),
    );
    for (const r of others) expect(r.status).toBe(200);
    expect((await t.get(`${CONFIGMAPS}/base`)).body).toEqual(before);
  });

  it(`refuses more than ${MAX_JSON_PATCH_OPERATIONS} operations with 413, as kube words it`, async () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/kind', value: 'ConfigMap' }));
    const s = expectStatus(await unchanged(() => t.patch(`${CONFIGMAPS}/base`, ops, 'application/json-patch+json')), 413, 'RequestEntityTooLarge');
    expect(s.message).toBe(
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${MAX_JSON_PATCH_OPERATIONS + 1}`,
    );
  });

  it('refuses a patch that replaces or removes the whole document with 422 on the field "patch"', async () => {
    for (const op of [
      { op: 'remove', path: '' },
      { op: 'replace', path: '', value: 1 },
    ]) {
      const s = expectStatus(await unchanged(() => t.patch(`${CONFIGMAPS}/base`, [op], 'application/json-patch+json')), 422, 'Invalid');
      expect(s.message).toMatch(/^ "" is invalid: patch: Invalid value: ".*": Object 'Kind' is missing in '.*'$/);
      expect(s.details.causes).toEqual([expect.objectContaining({ field: 'patch', reason: 'FieldValueInvalid' })]);
    }
  });

  it('refuses a patch whose result is larger than a request may be (413)', async () => {
    // A ConfigMap may hold 1 MiB (validation, which runs after the bound): 0.3 of the bound, then a patch of 0.75.
    expect((await t.post(CONFIGMAPS, configMap('big', { a: 'y'.repeat(Math.floor(MAX_OBJECT_BYTES * 0.3)) }))).status).toBe(201);
    const patch = { data: { b: 'y'.repeat(Math.floor(MAX_OBJECT_BYTES * 0.75)) } };
    const s = expectStatus(await unchanged(() => t.patch(`${CONFIGMAPS}/big`, patch, 'application/merge-patch+json')), 413, 'RequestEntityTooLarge');
    expect(s.message).toMatch(new RegExp(`^Request entity too large: the resulting object is \\d+ bytes, limit is ${MAX_OBJECT_BYTES}$`));
  });
});

describe('nesting depth', () => {
  it(`refuses a JSON body nested deeper than ${MAX_NESTING_DEPTH} with kube's decoder wording`, async () => {
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${nested(MAX_NESTING_DEPTH)}}`;
    const s = expectStatus(await unchanged(() => t.post(CONFIGMAPS, body)), 400, 'BadRequest');
    expect(s.message).toBe(
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: invalid character '{' exceeded max depth ({"apiVersion":"v1","kind":"Con ...)`,
    );
  });

  it('refuses one a hundred times deeper in the same way (the check runs before anything recursive)', async () => {
    expectStatus(await unchanged(() => t.post(CONFIGMAPS, `{"x":${nested(MAX_NESTING_DEPTH * 100)}}`)), 400, 'BadRequest');
    expectStatus(
      await unchanged(() => t.patch(`${CONFIGMAPS}/base`, `{"x":${nested(MAX_NESTING_DEPTH * 100)}}`, 'application/merge-patch+json')),
      400,
      'BadRequest',
    );
  });

  it('refuses a deep YAML body, flow or block style', async () => {
    const flow = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx: ${'['.repeat(MAX_NESTING_DEPTH)}1${']'.repeat(MAX_NESTING_DEPTH)}\n`;
    let block = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx:\n';
    for (let i = 1; i <= MAX_NESTING_DEPTH; i++) block += `${' '.repeat(i)}a:\n`;
    let seq = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx:\n';
    for (let i = 0; i < MAX_NESTING_DEPTH; i++) seq += `${' '.repeat(2 * i)}-\n`;
    for (const yaml of [flow, block, seq]) {
      const s = expectStatus(await unchanged(() => t.post(CONFIGMAPS, yaml, { contentType: 'application/yaml' })), 400, 'BadRequest');
      expect(s.message).toMatch(
        /^the object provided is unrecognized \(must be of type ConfigMap\): error converting YAML to JSON: invalid character '\{' exceeded max depth/,
      );
    }
  });

  it('takes a body nested just within the bound on every verb, dropping the unknown field that carried it', async () => {
    const deep = nested(MAX_NESTING_DEPTH - 2);
    const created = await t.post(CONFIGMAPS, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"at-bound"},"x":${deep}}`);
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('x');
    const path = `${CONFIGMAPS}/at-bound`;
    expect((await t.patch(path, `{"x":${deep}}`, 'application/merge-patch+json')).status).toBe(200);
    expect((await t.patch(path, `{"x":${deep}}`, 'application/strategic-merge-patch+json')).status).toBe(200);
    expect((await t.patch(path, `[{"op":"add","path":"/x","value":${nested(MAX_NESTING_DEPTH - 3)}}]`, 'application/json-patch+json')).status).toBe(200);
    const apply = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"at-bound"},"x":${nested(MAX_NESTING_DEPTH - 3)}}`;
    expect((await t.patch(`${path}?fieldManager=deep`, apply, 'application/apply-patch+yaml')).status).toBe(200);
    const stored = (await t.get(path)).body;
    expect(stored).not.toHaveProperty('x');
  });
});

describe('YAML aliases', () => {
  it('refuses a "billion laughs" body with 400 before expanding it', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
    ]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\n${lines.join('\n')}\n`;
    const s = expectStatus(await unchanged(() => t.post(CONFIGMAPS, yaml, { contentType: 'application/yaml' })), 400, 'BadRequest');
    expect(s.message).toMatch(
      /^the object provided is unrecognized \(must be of type ConfigMap\): error converting YAML to JSON: yaml: document contains excessive aliasing \(/,
    );
    const apply = expectStatus(await unchanged(() => t.patch(`${CONFIGMAPS}/laughs?fieldManager=x`, yaml, 'application/apply-patch+yaml')), 400, 'BadRequest');
    expect(apply.message).toBe('error decoding YAML: yaml: document contains excessive aliasing');
  });

  it('refuses aliases that stack nesting deeper than the text shows', async () => {
    const level = 200;
    const lines = [`l0: &l0 ${'['.repeat(level)}1${']'.repeat(level)}`];
    for (let i = 1; i < 3; i++) lines.push(`l${i}: &l${i} ${'['.repeat(level)}*l${i - 1}${']'.repeat(level)}`);
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stacked}\n${lines.join('\n')}\n`;
    const s = expectStatus(await unchanged(() => t.post(CONFIGMAPS, yaml, { contentType: 'application/yaml' })), 400, 'BadRequest');
    expect(s.message).toContain("error converting YAML to JSON: invalid character '{' exceeded max depth");
  });

  it('still takes a few aliases, as kube does', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aliased, labels: &l {app: web}, annotations: *l}\n';
    const r = await t.post(CONFIGMAPS, yaml, { contentType: 'application/yaml' });
    expect(r.status).toBe(201);
    expect(r.body.metadata.annotations).toEqual({ app: 'web' });
  });
});

describe('media types', () => {
  const simple = [
    ['text/plain', 'a cross-site form or fetch'],
    ['application/x-www-form-urlencoded', 'an HTML form'],
    ['multipart/form-data; boundary=x', 'an HTML form'],
  ];

  it.each(simple)('refuses a create sent as %s (%s) with 415, naming the types it takes', async (type) => {
    const s = expectStatus(await unchanged(() => t.post(PODS, JSON.stringify(pod('simple')), { contentType: type })), 415, 'UnsupportedMediaType');
    expect(s.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  });

  it('refuses a body without a Content-Type with 415', async () => {
    const r = await unchanged(async () => {
      const res = await fetch(`${t.url}${PODS}`, { method: 'POST', body: new Blob([JSON.stringify(pod('untyped'))]) });
      return { status: res.status, headers: res.headers, body: await res.json(), text: '' };
    });
    expectStatus(r, 415, 'UnsupportedMediaType');
  });

  it('refuses a PATCH in a type that is not a patch type with 415, naming the four', async () => {
    for (const type of ['application/json', 'text/plain', 'application/yaml']) {
      const s = expectStatus(await unchanged(() => t.patch(`${PODS}/existing`, { metadata: { labels: { a: 'b' } } }, type)), 415, 'UnsupportedMediaType');
      expect(s.message).toBe(
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
      );
    }
  });

  it('refuses a raw body without a media type from an in-process caller too', async () => {
    const before = await revisions();
    const res = await t.api.handle({ method: 'POST', path: PODS, query: new URLSearchParams(), headers: {}, body: Buffer.from(JSON.stringify(pod('raw'))) });
    expect(res.status).toBe(415);
    expect('body' in res && res.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
    expect(await revisions()).toEqual(before);
  });

  it('accepts a media type with parameters (charset) and in any case', async () => {
    const r = await t.post(CONFIGMAPS, configMap('charset'), { contentType: 'Application/JSON; charset=utf-8' });
    expect(r.status).toBe(201);
  });
});

describe('paths and parameters', () => {
  it('answers a malformed percent-escape with 400, as Go refuses the URL', async () => {
    const s = expectStatus(await t.get(`${PODS}/%E0%A4%A`), 400, 'BadRequest');
    expect(s.message).toBe('invalid URL escape "%A"');
  });

  it('answers escapes of bytes that are not UTF-8 with 404: they name nothing', async () => {
    const s = expectStatus(await t.get(`${PODS}/%E0%A4`), 404, 'NotFound');
    expect(s.details).toMatchObject({ kind: 'pods' });
  });

  it.each(['/nope', '/api/v1/namespaces/default/widgets', '/api/v1/namespaces/default/pods/existing/nosuchsubresource', '/apis/nosuch.example.com/v1'])(
    'gives the generic 404 for %s the details kube gives it (present, empty)',
    async (path) => {
      const r = await t.get(path);
      expect(r.body).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        details: {},
        code: 404,
      });
    },
  );

  it("refuses a timeoutSeconds or limit that is not an integer as kube's parameter codec does", async () => {
    expect(expectStatus(await t.get(`${PODS}?watch=true&timeoutSeconds=soon`), 400, 'BadRequest').message).toBe(
      'strconv.ParseInt: parsing "soon": invalid syntax',
    );
    expect(expectStatus(await t.get(`${PODS}?limit=99999999999999999999`), 400, 'BadRequest').message).toBe(
      'strconv.ParseInt: parsing "99999999999999999999": value out of range',
    );
  });

  it('ends a watch whose timeoutSeconds is negative at once, as kube does (its timeout has already passed)', async () => {
    const rv = (await t.get(PODS)).body.metadata.resourceVersion;
    const w = await t.watch(`${PODS}?watch=true&resourceVersion=${rv}&timeoutSeconds=-1`);
    expect(w.status).toBe(200);
    expect(await w.rest()).toEqual([]);
  });
});

describe('request ids', () => {
  it('answers every response with an Audit-Id, echoing the one the client sent', async () => {
    const mine = await t.get(PODS, { headers: { 'Audit-ID': 'my-request-1' } });
    expect(mine.headers.get('audit-id')).toBe('my-request-1');
    for (const r of [await t.get(PODS), await t.get('/nope'), await t.post(PODS, '{', {}), await t.get('/version')]) {
      expect(r.headers.get('audit-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

/** An ApiServer over HTTP whose store can be made to hang or fail, to see what a user sees when the server is at fault. */
async function faultyServer(fault: { mode: 'ok' | 'hang' | 'throw' }, logger: Logger = silentLogger): Promise<{ url: string; close(): Promise<void> }> {
  const sqlite = new SqliteStore({ path: ':memory:' });
  const store = new Proxy(sqlite, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'list' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        if (fault.mode === 'hang') return new Promise(() => undefined);
        if (fault.mode === 'throw') return Promise.reject(new Error('disk on fire'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store;
  const api = new ApiServer({ store, requestTimeoutMs: 200, logger });
  await bootstrap(api.rest);
  const server: Server = createApiHttpServer(api, { logger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await sqlite.close();
    },
  };
}

describe('faults of ours', () => {
  it("answers a request that outlives its deadline with kube's 504 Timeout, and others still get answers", async () => {
    const fault = { mode: 'hang' as 'ok' | 'hang' | 'throw' };
    const s = await faultyServer(fault);
    try {
      const res = await fetch(`${s.url}${PODS}`);
      expect(res.status).toBe(504);
      expect(await res.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Timeout: request did not complete within requested timeout - context deadline exceeded',
        reason: 'Timeout',
        details: {},
        code: 504,
      });
      expect((await fetch(`${s.url}/api/v1/namespaces/default`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('logs a 500 with the request id it answers in Audit-Id', async () => {
    const log = captureLogger();
    const s = await faultyServer({ mode: 'throw' }, log.logger);
    try {
      const res = await fetch(`${s.url}${PODS}`);
      expect(res.status).toBe(500);
      const id = res.headers.get('audit-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await res.json()) as Wire).message).toBe('Internal error occurred: disk on fire');
      // One ERROR record with the id as its auditID, the failure's stack beside it (never in the answer).
      expect(log.records).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          message: `kumo apiserver: GET ${PODS}: disk on fire`,
          auditID: id,
          error: expect.objectContaining({ stack: expect.stringContaining('disk on fire') }),
        }),
      ]);
    } finally {
      await s.close();
    }
  });
});
