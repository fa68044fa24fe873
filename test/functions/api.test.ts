/**
 * The Lambda front door (functions/api.ts) driven in-process with real-shaped
 * Function URL events, on the SQLite store the function builds from its
 * environment: request decoding, buffered results, watches as long-polls and
 * the RESPONSE_STREAM mode.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MAX_BODY_BYTES } from '#lib/apiserver/limits';
import type { Wire } from '../apiserver/harness.js';
import { functionUrlEvent, invocationContext, ndjson, parseStreamed, RecordingStream, type EventOptions } from './events.js';

process.env.KUMO_SQLITE_PATH = ':memory:';
process.env.KUMO_WATCH_POLL_SECONDS = '2';
const { handler, streamingHandler } = await import('../../functions/api.js');

const PODS = '/api/v1/namespaces/default/pods';
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

interface Answer {
  status: number;
  headers: Record<string, string>;
  raw: APIGatewayProxyStructuredResultV2;
  body: Wire;
}

async function call(method: string, path: string, opts: EventOptions = {}, timeoutMs?: number): Promise<Answer> {
  const raw = await handler(functionUrlEvent(method, path, opts), invocationContext(timeoutMs));
  const text = raw.isBase64Encoded ? Buffer.from(raw.body ?? '', 'base64').toString('utf8') : (raw.body ?? '');
  const headers = (raw.headers ?? {}) as Record<string, string>;
  let body: unknown = text;
  const status = raw.statusCode ?? 0;
  // A watch body is newline-delimited JSON (read with ndjson); anything else, and any error, is one JSON value.
  if ((headers['content-type'] ?? '').includes('json') && text !== '' && (!path.includes('watch=') || status >= 400)) body = JSON.parse(text);
  return { status, headers, raw, body };
}

function pod(name: string, labels?: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(labels ? { labels } : {}) }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } };
}

function configMap(name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

async function listRv(path: string): Promise<string> {
  return (await call('GET', path)).body.metadata.resourceVersion;
}

describe('buffered handler: requests and responses', () => {
  it('answers discovery and version on a cold start', async () => {
    const v = await call('GET', '/version');
    expect(v.status).toBe(200);
    expect(v.body.major).toBe('1');
    const ns = await call('GET', '/api/v1/namespaces/default');
    expect(ns.status).toBe(200);
    expect(ns.body.metadata.name).toBe('default');
    expect(v.raw.isBase64Encoded).toBe(false);
  });

  it('creates from a JSON body and keeps state across warm invocations', async () => {
    const r = await call('POST', PODS, { body: pod('lambda-1') });
    expect(r.status).toBe(201);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body.metadata.uid).toBeDefined();
    const got = await call('GET', `${PODS}/lambda-1`);
    expect(got.body).toEqual(r.body);
  });

  it('decodes a base64 body', async () => {
    const r = await call('POST', CONFIGMAPS, { body: configMap('from-base64', { k: 'v' }), base64: true });
    expect(r.status).toBe(201);
    expect(r.body.data).toEqual({ k: 'v' });
  });

  it("reads headers case-insensitively (API Gateway keeps the client's case)", async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-upper\ndata:\n  a: b\n';
    const r = await call('POST', CONFIGMAPS, { body: yaml, headers: { 'Content-Type': 'application/yaml' } });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toBe('yaml-upper');
  });

  it('passes the query string through (selectors, dryRun)', async () => {
    await call('POST', PODS, { body: pod('labelled', { app: 'web' }) });
    const r = await call('GET', `${PODS}?labelSelector=${encodeURIComponent('app in (web)')}`);
    expect(r.body.items.map((i: Wire) => i.metadata.name)).toEqual(['labelled']);
    const dry = await call('POST', `${PODS}?dryRun=All`, { body: pod('dry') });
    expect(dry.status).toBe(201);
    expect((await call('GET', `${PODS}/dry`)).status).toBe(404);
  });

  it('answers an oversized body with 413 RequestEntityTooLarge and writes nothing', async () => {
    const before = await listRv(CONFIGMAPS);
    const big = configMap('too-big', { blob: 'x'.repeat(MAX_BODY_BYTES) });
    const r = await call('POST', CONFIGMAPS, { body: big, base64: true });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'RequestEntityTooLarge', code: 413 });
    expect(r.body.message).toBe(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
    expect(await listRv(CONFIGMAPS)).toBe(before);
  });

  it('answers errors as Status bodies with the right code', async () => {
    const missing = await call('GET', `${PODS}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
    const invalid = await call('POST', PODS, { body: { ...pod('bad'), spec: { containers: [] } } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.details.causes[0].field).toBe('spec.containers');
    const garbage = await call('POST', PODS, { body: '{not json' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.kind).toBe('Status');
  });

  it('refuses a body in a media type the API does not speak with 415, as the HTTP front door does', async () => {
    const before = await listRv(PODS);
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await call('POST', PODS, { body: JSON.stringify(pod('simple')), contentType });
      expect(r.status).toBe(415);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
    }
    const event = functionUrlEvent('POST', PODS, { body: pod('untyped') });
    delete event.headers['content-type'];
    const untyped = await handler(event, invocationContext());
    expect(untyped.statusCode).toBe(415);
    expect(await listRv(PODS)).toBe(before);
  });

  it("answers every response with an Audit-Id, the client's when it sent one, a refused oversized body too", async () => {
    expect((await call('GET', PODS, { headers: { 'audit-id': 'from-client' } })).headers['audit-id']).toBe('from-client');
    expect((await call('GET', '/nope')).headers['audit-id']).toMatch(/^[0-9a-f-]{36}$/);
    const big = await call('POST', CONFIGMAPS, { body: configMap('too-big', { blob: 'x'.repeat(MAX_BODY_BYTES) }), base64: true });
    expect(big.status).toBe(413);
    expect(big.headers['audit-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('strips hop-by-hop headers from the result', async () => {
    const r = await call('GET', `${PODS}?watch=true&timeoutSeconds=1&resourceVersion=${await listRv(PODS)}`);
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.headers['content-length']).toBeUndefined();
  });
});

describe('buffered handler: watches as long-polls', () => {
  it('returns the events after a resourceVersion soon after they stop, then a bookmark to re-watch from', async () => {
    const rv = await listRv(CONFIGMAPS);
    await call('POST', CONFIGMAPS, { body: configMap('lp-1') });
    await call('PATCH', `${CONFIGMAPS}/lp-1`, { body: { data: { a: '1' } }, contentType: 'application/merge-patch+json' });
    const started = Date.now();
    const r = await call('GET', `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
    expect(Date.now() - started).toBeLessThan(1900);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const events = ndjson(r.body) as Wire[];
    expect(events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim())).toEqual(['ADDED lp-1', 'MODIFIED lp-1', 'BOOKMARK']);
    const last = events[2];
    expect(last.object).toEqual({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: events[1].object.metadata.resourceVersion } });
    expect(r.body.endsWith('\n')).toBe(true);
  });

  it('holds an empty watch open for the poll window (never a sub-second empty watch), then answers a bookmark at the current position', async () => {
    const rv = await listRv(CONFIGMAPS);
    const started = Date.now();
    const r = await call('GET', `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(ndjson(r.body)).toEqual([{ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: rv } } }]);
  });

  it('delivers a change that happens during the long-poll, and a re-watch from the bookmark misses nothing', async () => {
    const rv = await listRv(CONFIGMAPS);
    const pending = call('GET', `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
    await call('POST', CONFIGMAPS, { body: configMap('during') });
    const first = ndjson((await pending).body) as Wire[];
    expect(first.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(first[0].object.metadata.name).toBe('during');

    await call('POST', CONFIGMAPS, { body: configMap('between') });
    const next = ndjson(
      (await call('GET', `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion=${first[1].object.metadata.resourceVersion}`)).body,
    ) as Wire[];
    expect(next.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim())).toEqual(['ADDED between', 'BOOKMARK']);
  });

  it('ends at timeoutSeconds when that is shorter than the poll window, without a bookmark unless allowed', async () => {
    const started = Date.now();
    const r = await call('GET', `${CONFIGMAPS}?watch=true&timeoutSeconds=1&resourceVersion=${await listRv(CONFIGMAPS)}`);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(1900);
    expect(r.body).toBe('');
  });

  it('answers a watch-list with the objects, the initial-events-end bookmark and a final bookmark', async () => {
    await call('POST', PODS, { body: pod('wl-target') });
    const r = await call(
      'GET',
      `${PODS}?allowWatchBookmarks=true&fieldSelector=${encodeURIComponent('metadata.name=wl-target')}&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=300&watch=true`,
    );
    const events = ndjson(r.body) as Wire[];
    expect(events[0].type).toBe('ADDED');
    expect(events[0].object.metadata.name).toBe('wl-target');
    expect(events[1]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    expect(events[2].type).toBe('BOOKMARK');
    expect(events).toHaveLength(3);
  });

  it('refuses bad watch parameters with a Status before anything is streamed', async () => {
    const r = await call('GET', `${PODS}?watch=true&fieldSelector=${encodeURIComponent('spec.image=x')}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'field label not supported: spec.image' });
  });

  it('never outlives the invocation: a short remaining time cuts the poll', async () => {
    const started = Date.now();
    // 2.5 s left minus the 2 s margin leaves 0.5 s.
    const r = await call('GET', `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion=${await listRv(CONFIGMAPS)}`, {}, 2500);
    expect(Date.now() - started).toBeLessThan(1500);
    expect((ndjson(r.body) as Wire[]).map((e) => e.type)).toEqual(['BOOKMARK']);
  });
});

describe('streaming handler (RESPONSE_STREAM)', () => {
  async function stream(method: string, path: string, opts: EventOptions = {}, timeoutMs?: number) {
    const out = new RecordingStream();
    await streamingHandler(functionUrlEvent(method, path, opts), out, invocationContext(timeoutMs));
    await out.finished();
    return { out, ...parseStreamed(out.bytes) };
  }

  it('writes the HTTP integration prelude (status and headers as JSON, 8 NUL bytes), then the body', async () => {
    const { prelude, body, out } = await stream('GET', '/api/v1/namespaces/default');
    expect(prelude).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'audit-id': expect.stringMatching(/^[0-9a-f-]{36}$/) as string },
    });
    expect(JSON.parse(body.toString('utf8')).metadata.name).toBe('default');
    expect(out.bytes.indexOf(Buffer.alloc(8))).toBe(Buffer.byteLength(JSON.stringify(prelude)));
  });

  it('streams errors as Status bodies with their code in the prelude', async () => {
    const { prelude, body } = await stream('GET', `${PODS}/nope`);
    expect(prelude.statusCode).toBe(404);
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });

  it('answers an oversized body with 413', async () => {
    const { prelude, body } = await stream('POST', CONFIGMAPS, { body: configMap('huge', { blob: 'y'.repeat(MAX_BODY_BYTES) }) });
    expect(prelude.statusCode).toBe(413);
    expect(JSON.parse(body.toString('utf8')).reason).toBe('RequestEntityTooLarge');
  });

  it('sends watch events as they happen and ends before the invocation runs out, with a bookmark', async () => {
    const rv = await listRv(CONFIGMAPS);
    const out = new RecordingStream();
    const started = Date.now();
    // 3 s left minus the 2 s margin: the stream must end after about 1 s.
    const done = streamingHandler(
      functionUrlEvent('GET', `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`),
      out,
      invocationContext(3000),
    );
    await call('POST', CONFIGMAPS, { body: configMap('streamed') });
    const createdAt = Date.now();
    await done;
    await out.finished();
    expect(Date.now() - started).toBeLessThan(2500);
    const { prelude, body } = parseStreamed(out.bytes);
    expect(prelude).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'audit-id': expect.stringMatching(/^[0-9a-f-]{36}$/) as string },
    });
    const events = ndjson(body.toString('utf8')) as Wire[];
    expect(events[0].type).toBe('ADDED');
    expect(events[0].object.metadata.name).toBe('streamed');
    expect(events.at(-1)).toEqual({
      type: 'BOOKMARK',
      object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: events[0].object.metadata.resourceVersion } },
    });
    // The event went out when it happened, not when the stream ended.
    const eventChunk = out.chunks.find((c) => c.bytes.includes('"streamed"'));
    expect(eventChunk!.at - createdAt).toBeLessThan(500);
    expect(out.chunks.at(-1)!.at - eventChunk!.at).toBeGreaterThan(300);
  });
});

describe('exec through the Function URL', () => {
  it('answers a Status saying exec needs a connection upgrade the Function URL cannot carry', async () => {
    await call('POST', PODS, { body: pod('exec-target') });
    const r = await call('POST', `${PODS}/exec-target/exec?command=true&stdout=true`);
    expect(r.body.kind).toBe('Status');
    expect(r.body.message).toMatch(/upgrade/i);
    expect(r.status).toBe(r.body.code);
  });
});
