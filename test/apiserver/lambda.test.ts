/**
 * The Lambda conversions in lib/apiserver/lambda.ts as pure logic, over
 * scripted handlers: what happens when the core fails, when a stream fails
 * half-way, when a source ignores its abort, and how events, bytes and
 * headers are shaped. (The same front door over the real ApiServer is tested
 * in test/functions.)
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lambdaFrontDoor, MAX_BUFFERED_RESPONSE_BYTES, requestFromEvent, type RequestHandler } from '#lib/apiserver/lambda';
import type { ApiRequest, ApiResponse } from '#lib/api/request';
import { functionUrlEvent, invocationContext, ndjson, parseStreamed, RecordingStream } from '../functions/events.js';
import type { Wire } from './harness.js';
import { newKindRegistry } from '#lib/kinds/index';

function serving(respond: (req: ApiRequest) => ApiResponse | Promise<ApiResponse>): RequestHandler {
  return { handle: async (req) => respond(req) };
}

function frontDoor(respond: (req: ApiRequest) => ApiResponse | Promise<ApiResponse>, watchPollMs = 2000) {
  return lambdaFrontDoor(async () => serving(respond), { watchPollMs, quietMs: 50, kinds: newKindRegistry() });
}

function cm(name: string, rv: string) {
  return { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, resourceVersion: rv } };
}

async function* scripted(items: unknown[], then: 'end' | 'fail' | 'hang' | 'hang-ignoring-abort', signal?: AbortSignal): AsyncGenerator<unknown> {
  for (const item of items) yield item;
  if (then === 'fail') throw new Error('store went away');
  if (then === 'hang') await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
  if (then === 'hang-ignoring-abort') await new Promise<void>(() => undefined);
}

const WATCH = '/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=5';

describe('requestFromEvent', () => {
  it('builds the ApiRequest from a Function URL event', () => {
    const event = functionUrlEvent('PATCH', '/api/v1/namespaces/default/pods/p?fieldManager=kubectl&dryRun=All', {
      body: { metadata: { labels: { a: 'b' } } },
      contentType: 'application/merge-patch+json',
      headers: { 'X-Custom': 'Yes' },
    });
    event.cookies = ['a=1', 'b=2'];
    const req = requestFromEvent(event);
    expect(req.method).toBe('PATCH');
    expect(req.path).toBe('/api/v1/namespaces/default/pods/p');
    expect(req.query.get('fieldManager')).toBe('kubectl');
    expect(req.query.getAll('dryRun')).toEqual(['All']);
    expect(req.headers['content-type']).toBe('application/merge-patch+json');
    expect(req.headers['x-custom']).toBe('Yes');
    expect(req.headers.cookie).toBe('a=1; b=2');
    expect(Buffer.from(req.body!).toString('utf8')).toBe('{"metadata":{"labels":{"a":"b"}}}');
    expect(req.remoteAddress).toBe('203.0.113.9');
  });

  it('decodes base64 bodies byte for byte', () => {
    const bytes = Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0x10]);
    const req = requestFromEvent(
      functionUrlEvent('POST', '/apis/apps/v1/namespaces/default/deployments', {
        body: bytes,
        base64: true,
        contentType: 'application/vnd.kubernetes.protobuf',
      }),
    );
    expect(Buffer.from(req.body!)).toEqual(Buffer.from(bytes));
  });

  it('leaves the body out when there is none', () => {
    expect(requestFromEvent(functionUrlEvent('GET', '/api')).body).toBeUndefined();
  });
});

describe('failures never leak a stack trace', () => {
  const boom = () => {
    throw new Error('boom');
  };

  it('answers a core that throws with a 500 Status in buffered mode', async () => {
    const r = await frontDoor(boom).buffered(functionUrlEvent('GET', '/api/v1/pods'), invocationContext());
    expect(r.statusCode).toBe(500);
    const body = JSON.parse(r.body!);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: boom',
      reason: 'InternalError',
      code: 500,
    });
    expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('answers a core that throws with a 500 Status in streaming mode', async () => {
    const out = new RecordingStream();
    await frontDoor(boom).streaming(functionUrlEvent('GET', '/api/v1/pods'), out, invocationContext());
    const { prelude, body } = parseStreamed(out.bytes);
    expect(prelude.statusCode).toBe(500);
    expect(JSON.parse(body.toString('utf8')).message).toBe('Internal error occurred: boom');
    expect(body.toString('utf8')).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('answers a watch that fails before its first event with the failure as a Status', async () => {
    const door = frontDoor((req) => ({ status: 200, events: scripted([], 'fail', req.signal) }));
    const r = await door.buffered(functionUrlEvent('GET', WATCH), invocationContext());
    expect(r.statusCode).toBe(500);
    expect(JSON.parse(r.body!)).toMatchObject({ kind: 'Status', reason: 'InternalError', message: 'Internal error occurred: store went away' });
  });

  it('ends a watch that fails half-way with an ERROR event after what was sent', async () => {
    const door = frontDoor((req) => ({ status: 200, events: scripted([{ type: 'ADDED', object: cm('a', '6') }], 'fail', req.signal) }));
    const r = await door.buffered(functionUrlEvent('GET', WATCH), invocationContext());
    expect(r.statusCode).toBe(200);
    const events = ndjson(r.body!) as Wire[];
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ERROR']);
    expect(events[1].object).toMatchObject({ kind: 'Status', status: 'Failure', code: 500, message: 'Internal error occurred: store went away' });

    const out = new RecordingStream();
    const failing = frontDoor((req) => ({ status: 200, events: scripted([{ type: 'ADDED', object: cm('a', '6') }], 'fail', req.signal) }));
    await failing.streaming(functionUrlEvent('GET', WATCH), out, invocationContext());
    const streamed = ndjson(parseStreamed(out.bytes).body.toString('utf8')) as Wire[];
    expect(streamed.map((e) => e.type)).toEqual(['ADDED', 'ERROR']);
  });
});

describe('buffered watches', () => {
  it('coalesces progress bookmarks into one final bookmark at the newest position', async () => {
    const door = frontDoor((req) => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      events: scripted(
        [
          { type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '7' } } },
          { type: 'ADDED', object: cm('a', '8') },
          { type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '12' } } },
        ],
        'hang',
        req.signal,
      ),
    }));
    const r = await door.buffered(functionUrlEvent('GET', WATCH), invocationContext());
    expect(r.headers).toEqual({ 'content-type': 'application/json' });
    expect(ndjson(r.body!)).toEqual([
      { type: 'ADDED', object: cm('a', '8') },
      { type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '12' } } },
    ]);
  });

  it('aborts the watch through the request signal when the poll is over', async () => {
    let aborted = false;
    const door = frontDoor((req) => {
      req.signal?.addEventListener('abort', () => (aborted = true));
      return { status: 200, events: scripted([], 'hang', req.signal) };
    }, 200);
    const r = await door.buffered(functionUrlEvent('GET', WATCH), invocationContext());
    expect(aborted).toBe(true);
    // Nothing happened: the final bookmark re-states the request's resourceVersion.
    expect(ndjson(r.body!)).toEqual([{ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '5' } } }]);
  });

  it('answers in time even when the event source ignores the abort', async () => {
    const door = frontDoor((req) => ({ status: 200, events: scripted([{ type: 'ADDED', object: cm('a', '6') }], 'hang-ignoring-abort', req.signal) }), 200);
    const started = Date.now();
    const r = await door.buffered(functionUrlEvent('GET', WATCH), invocationContext());
    expect(Date.now() - started).toBeLessThan(2000);
    expect((ndjson(r.body!) as Wire[]).map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
  });

  it('sends no bookmark when the client did not allow them', async () => {
    const door = frontDoor((req) => ({ status: 200, events: scripted([{ type: 'ADDED', object: cm('a', '6') }], 'end', req.signal) }));
    const r = await door.buffered(functionUrlEvent('GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=5'), invocationContext());
    expect(ndjson(r.body!)).toEqual([{ type: 'ADDED', object: cm('a', '6') }]);
  });
});

describe('bytes (logs)', () => {
  async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
    for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
  }

  it('returns text as text', async () => {
    const door = frontDoor(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, bytes: chunks('line 1\n', 'line 2 ✓\n') }));
    const r = await door.buffered(functionUrlEvent('GET', '/api/v1/namespaces/default/pods/p/log'), invocationContext());
    expect(r).toMatchObject({ statusCode: 200, isBase64Encoded: false, body: 'line 1\nline 2 ✓\n' });
  });

  it('returns binary as base64', async () => {
    const raw = Uint8Array.from([0, 1, 2, 0xfe, 0xff]);
    const door = frontDoor(() => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, bytes: chunks(raw) }));
    const r = await door.buffered(functionUrlEvent('GET', '/x'), invocationContext());
    expect(r.isBase64Encoded).toBe(true);
    expect(Buffer.from(r.body!, 'base64')).toEqual(Buffer.from(raw));
  });

  it('streams bytes after the prelude', async () => {
    const door = frontDoor(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, bytes: chunks('a\n', 'b\n') }));
    const out = new RecordingStream();
    await door.streaming(functionUrlEvent('GET', '/api/v1/namespaces/default/pods/p/log'), out, invocationContext());
    const { prelude, body } = parseStreamed(out.bytes);
    expect(prelude).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain' } });
    expect(body.toString('utf8')).toBe('a\nb\n');
  });
});

describe('buffered payload size', () => {
  const bigList = {
    kind: 'ConfigMapList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '9' },
    items: Array.from({ length: 400 }, (_, i) => ({ ...cm(`cm-${i}`, String(i)), data: { v: 'x'.repeat(1000) } })),
  };

  it('gzips a large body for a client that accepts gzip, as the Kubernetes apiserver does', async () => {
    const door = frontDoor(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: bigList }));
    const r = await door.buffered(functionUrlEvent('GET', '/api/v1/configmaps'), invocationContext());
    expect(r.headers).toEqual({ 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.isBase64Encoded).toBe(true);
    expect(JSON.parse(gunzipSync(Buffer.from(r.body!, 'base64')).toString('utf8'))).toEqual(bigList);
  });

  it('leaves a large body alone for a client that does not accept gzip, and small bodies always', async () => {
    const door = frontDoor(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: bigList }));
    const plain = await door.buffered(functionUrlEvent('GET', '/api/v1/configmaps', { headers: { 'accept-encoding': 'identity' } }), invocationContext());
    expect(plain.isBase64Encoded).toBe(false);
    expect(JSON.parse(plain.body!)).toEqual(bigList);
    const small = await frontDoor(() => ({ status: 200, body: cm('a', '1') })).buffered(functionUrlEvent('GET', '/x'), invocationContext());
    expect(small.headers).toEqual({ 'content-type': 'application/json' });
  });

  it('answers a body too large for Lambda with a 500 Status instead of a response Lambda would refuse', async () => {
    const noise = randomBytes(MAX_BUFFERED_RESPONSE_BYTES).toString('base64');
    const door = frontDoor(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: { ...cm('huge', '1'), data: { noise } } }));
    const r = await door.buffered(functionUrlEvent('GET', '/api/v1/namespaces/default/configmaps/huge'), invocationContext());
    expect(r.statusCode).toBe(500);
    const status = JSON.parse(r.body!);
    expect(status).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect(status.message).toContain('larger than a buffered Lambda response can carry');
  });
});
