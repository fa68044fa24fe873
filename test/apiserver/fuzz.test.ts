/**
 * A seeded, bounded fuzz of the API over real HTTP on SQLite, without
 * controllers: malformed and mutated bodies in every media type, patches of
 * every type, odd paths and escapes, selectors, resourceVersions, limits
 * and continue tokens, content types and query parameters. Two properties:
 * the server never answers 5xx (bad input is never a fault of ours; the one
 * exception is kube-apiserver's own 504 for a resourceVersion from the future), and a
 * request that is not answered 2xx stores nothing (every resource's store
 * revision is unchanged).
 *
 * The seed is printed; `FUZZ_SEED=<n>` replays a run, `FUZZ_RUNS=<n>`
 * makes it longer. A failure prints the request (fast-check shrinks it).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceTypes } from '#lib/kinds/resources';
import { MAX_NESTING_DEPTH } from '#lib/apiserver/limits';
import { configMap, deployment, pod, startApi, type TestApi } from './harness.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 400;

let t: TestApi;

/** The objects most requests aim at; put back after a request deletes one, so later requests find them. */
async function seed(): Promise<void> {
  for (const [path, obj] of [
    ['/api/v1/namespaces/default/pods', pod('p')],
    ['/api/v1/namespaces/default/configmaps', configMap('c', { a: 'b' })],
    ['/apis/apps/v1/namespaces/default/deployments', deployment('d')],
  ] as const) {
    expect([201, 409]).toContain((await t.post(path, obj)).status);
  }
}

beforeAll(async () => {
  t = await startApi();
  await seed();
});

afterAll(async () => {
  await t?.close();
});

/** Every resource's store revision: equal before and after means nothing was stored. */
async function revisions(): Promise<string> {
  return (await Promise.all(resourceTypes.map((rt) => t.store.currentRevision(rt.resource)))).join(',');
}

const COLLECTIONS = [
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/configmaps',
  '/apis/apps/v1/namespaces/default/deployments',
  '/api/v1/namespaces',
  '/api/v1/nodes',
  '/api/v1/namespaces/default/services',
  '/apis/batch/v1/namespaces/default/jobs',
  '/api/v1/pods',
];
const NAMES = ['p', 'c', 'd', 'default', 'nope', '', '..', '%', '%zz', '%E0%A4', '%E0%A4%A', '%2F', 'ünï', 'a'.repeat(300), 'UPPER', '-x', 'x%00y'];
const SUBRESOURCES = ['', 'status', 'scale', 'binding', 'eviction', 'log', 'exec', 'finalize', 'ephemeralcontainers', 'nope', 'status/extra'];
const ODD_PATHS = [
  '/',
  '/api',
  '/apis',
  '/apis/apps',
  '/apis/apps/v1',
  '/version',
  '/healthz',
  '/openapi/v2',
  '/openapi/v3/api/v1',
  '/api/v2/pods',
  '/apis/x.y/v1/z',
  '//api//v1',
  '/api/v1/namespaces/default/pods/p/status/x/y',
  '/%',
];

const path = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...ODD_PATHS) },
  { weight: 2, arbitrary: fc.constantFrom(...COLLECTIONS) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...COLLECTIONS),
        fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 12 }).map(encodeURIComponent)),
        fc.constantFrom(...SUBRESOURCES),
      )
      .map(([c, n, s]) => `${c}/${n}${s ? `/${s}` : ''}`),
  },
);

const SELECTORS = [
  'app=web',
  'app in (a',
  'a=b=c',
  '!',
  'Bad Key=x',
  'app notin (a,b)',
  'x,y',
  '=',
  'a==b',
  'a!=b',
  'metadata.name=p',
  'spec.nodeName=',
  'status.phase!=Running',
  'metadata.name',
  'spec.image=x',
];
const param = fc.oneof(
  fc.tuple(fc.constant('labelSelector'), fc.oneof(fc.constantFrom(...SELECTORS), fc.string({ maxLength: 20 }))),
  fc.tuple(fc.constant('fieldSelector'), fc.oneof(fc.constantFrom(...SELECTORS), fc.string({ maxLength: 20 }))),
  fc.tuple(fc.constant('resourceVersion'), fc.constantFrom('0', '1', '-1', '999999999', 'abc', '', '1e3', '18446744073709551616')),
  fc.tuple(fc.constant('resourceVersionMatch'), fc.constantFrom('Exact', 'NotOlderThan', 'Bogus', '')),
  fc.tuple(fc.constant('limit'), fc.constantFrom('1', '0', '-5', 'ten', '99999999999999999999', '500')),
  fc.tuple(fc.constant('continue'), fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 }))),
  fc.tuple(fc.constant('fieldValidation'), fc.constantFrom('Strict', 'Warn', 'Ignore', 'Loud')),
  fc.tuple(fc.constant('dryRun'), fc.constantFrom('All', 'Some', '')),
  fc.tuple(fc.constant('fieldManager'), fc.oneof(fc.constantFrom('m', 'x'.repeat(200)), fc.string({ maxLength: 10 }))),
  fc.tuple(fc.constant('force'), fc.constantFrom('true', 'false', 'maybe')),
  fc.tuple(fc.constant('propagationPolicy'), fc.constantFrom('Foreground', 'Background', 'Orphan', 'Sideways')),
  fc.tuple(fc.constant('gracePeriodSeconds'), fc.constantFrom('0', '-1', 'x', '30')),
  fc.tuple(fc.constant('timeoutSeconds'), fc.constantFrom('-1', 'x', '1e9')),
  fc.tuple(fc.constant('timeout'), fc.constantFrom('1s', 'x', '-1s', '0')),
  fc.tuple(fc.constant('watch'), fc.constantFrom('true', '1', 'false', 'x')),
  fc.tuple(fc.constant('sendInitialEvents'), fc.constantFrom('true', 'false')),
  fc.tuple(fc.constant('allowWatchBookmarks'), fc.constantFrom('true', 'x')),
  fc.tuple(fc.constant('container'), fc.constantFrom('nginx', 'nope')),
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
);

const CONTENT_TYPES = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'garbage',
];

const BASE_OBJECTS = [pod('p'), configMap('c', { a: 'b' }), deployment('d'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fz' } }];

/** Keys an edit may add: plain ones, strategic merge directives, and names that are special to JavaScript objects. */
const EDIT_KEYS = [
  'f0',
  'f1',
  'metadata',
  'spec',
  'status',
  'kind',
  'apiVersion',
  'name',
  'resourceVersion',
  '$patch',
  '$retainKeys',
  '$setElementOrder/containers',
  '$deleteFromPrimitiveList/finalizers',
  '__proto__',
  'constructor',
];
const EDIT_VALUES = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('replace', 'delete', 'merge', [], {}, null, ['nginx'], [{ name: 'nginx' }], [{ $patch: 'delete', name: 'nginx' }], { $patch: 'replace' }),
);

/** Edits of a JSON value: at a random place, a field replaced, added or removed. */
const edits = fc.array(fc.tuple(fc.nat(), fc.constantFrom('replace', 'add', 'remove'), fc.constantFrom(...EDIT_KEYS), EDIT_VALUES), { maxLength: 3 });

function mutate(base: unknown, changes: [number, string, string, unknown][]): Record<string, unknown> {
  const obj = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const [pick, kind, addKey, value] of changes) {
    // Walk down a random chain of objects and arrays and edit there.
    let node: unknown = obj;
    let n = pick;
    for (;;) {
      const keys = node && typeof node === 'object' ? Object.keys(node) : [];
      if (keys.length === 0 || n % 3 === 0) break;
      const next = (node as Record<string, unknown>)[keys[n % keys.length]!];
      if (!next || typeof next !== 'object') break;
      node = next;
      n = Math.floor(n / 3);
    }
    if (!node || typeof node !== 'object') continue;
    const target = node as Record<string, unknown>;
    const keys = Object.keys(target);
    const key = kind === 'add' || keys.length === 0 ? addKey : keys[pick % keys.length]!;
    if (kind === 'remove') delete target[key];
    else
      Object.defineProperty(target, key, {
        value: JSON.parse(JSON.stringify(value) ?? 'null') as unknown,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return obj;
}

const mutatedObject = fc.tuple(fc.constantFrom(...BASE_OBJECTS), edits).map(([base, changes]) => JSON.stringify(mutate(base, changes)));

/** Valid JSON text with characters deleted, inserted or replaced. */
const mangledText = fc
  .tuple(
    mutatedObject,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('del', 'ins', 'rep'), fc.string({ minLength: 1, maxLength: 2 })), { minLength: 1, maxLength: 4 }),
  )
  .map(([text, edits]) => {
    let s = text;
    for (const [at, kind, chars] of edits) {
      const i = at % (s.length + 1);
      s =
        kind === 'del'
          ? s.slice(0, i) + s.slice(i + 1)
          : kind === 'ins'
            ? s.slice(0, i) + chars + s.slice(i)
            : s.slice(0, i) + chars + s.slice(i + chars.length);
    }
    return s;
  });

const POINTERS = [
  '',
  '/',
  '/metadata',
  '/metadata/labels/a',
  '/data',
  '/data/a',
  '/spec/containers/0',
  '/spec/containers/-',
  '/spec/replicas',
  '/~1',
  '/x/y/z',
  '/metadata/name',
  '/kind',
];
const jsonPatch = fc
  .array(
    fc.record(
      {
        op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
        path: fc.oneof(fc.constantFrom(...POINTERS), fc.string({ maxLength: 6 })),
        from: fc.constantFrom(...POINTERS),
        value: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['op'] },
    ),
    { maxLength: 6 },
  )
  .map((ops) => JSON.stringify(ops));

const yamlBodies = fc.constantFrom(
  'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {a: b}\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n',
  'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
  '--- {}\n--- {}\n',
  'kind: ConfigMap\nmetadata: {name: y2}\ndata:\n  a: "1"\n  a: "2"\n',
  `x: ${'['.repeat(MAX_NESTING_DEPTH + 1)}${']'.repeat(MAX_NESTING_DEPTH + 1)}\n`,
  '*undefined\n',
  '!!binary x\n',
  '? [a, b]\n: c\n',
  'metadata: {name: 1}\n',
);

const body = fc.oneof(
  { weight: 4, arbitrary: mutatedObject },
  { weight: 3, arbitrary: mangledText },
  { weight: 3, arbitrary: jsonPatch },
  { weight: 2, arbitrary: yamlBodies },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"a":'.repeat(MAX_NESTING_DEPTH + 5) + '1' + '}'.repeat(MAX_NESTING_DEPTH + 5),
      '',
      'null',
      '[]',
      '{}',
      '"x"',
      '1e999',
      '{"metadata":null}',
      '{"metadata":[]}',
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from([0x6b, 0x38, 0x73, 0x00, ...b])) },
);

interface FuzzRequest {
  method: string;
  path: string;
  query: [string, string][];
  contentType: string | undefined;
  body: string | Buffer | undefined;
}

/** Kinds the coherent requests aim at: where they live, a name that exists, an object of theirs. */
const TARGETS = [
  { collection: '/api/v1/namespaces/default/pods', name: 'p', object: pod('p') },
  { collection: '/api/v1/namespaces/default/configmaps', name: 'c', object: configMap('c', { a: 'b' }) },
  { collection: '/apis/apps/v1/namespaces/default/deployments', name: 'd', object: deployment('d') },
];

/**
 * Requests shaped like a client's (the verb's own content type, a body of
 * the kind, a real name) with mutations, so that most reach decoding,
 * patching, validation and the store rather than stopping at routing.
 */
const coherent: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom(...TARGETS),
    fc.constantFrom('create', 'update', 'merge', 'strategic', 'json', 'apply', 'apply-yaml', 'delete', 'status', 'scale', 'eviction', 'binding'),
    edits,
    jsonPatch,
    fc.array(param, { maxLength: 2 }),
    fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 6 }),
    fc.boolean(),
  )
  .map(([target, verb, changes, ops, query, otherType, otherName]) => {
    const name = otherName ? 'fz' : target.name;
    const object = mutate({ ...target.object, metadata: { ...(target.object as { metadata: object }).metadata, name } }, changes);
    const at = `${target.collection}/${name}`;
    const shapes: Record<string, [string, string, string, string | undefined]> = {
      create: ['POST', target.collection, 'application/json', JSON.stringify(object)],
      update: ['PUT', at, 'application/json', JSON.stringify(object)],
      merge: ['PATCH', at, 'application/merge-patch+json', JSON.stringify(mutate({}, changes))],
      strategic: ['PATCH', at, 'application/strategic-merge-patch+json', JSON.stringify(mutate({ spec: {} }, changes))],
      json: ['PATCH', at, 'application/json-patch+json', ops],
      apply: ['PATCH', at, 'application/apply-patch+yaml', JSON.stringify(object)],
      'apply-yaml': [
        'PATCH',
        at,
        'application/apply-patch+yaml',
        `apiVersion: ${String(object.apiVersion)}\nkind: ${String(object.kind)}\nmetadata:\n  name: ${name}\n  labels: {a: b}\n`,
      ],
      delete: ['DELETE', at, 'application/json', JSON.stringify(mutate({ kind: 'DeleteOptions', apiVersion: 'v1' }, changes))],
      status: ['PATCH', `${at}/status`, 'application/merge-patch+json', JSON.stringify(mutate({ status: {} }, changes))],
      scale: ['PATCH', `${at}/scale`, 'application/merge-patch+json', JSON.stringify(mutate({ spec: { replicas: 2 } }, changes))],
      eviction: [
        'POST',
        `${at}/eviction`,
        'application/json',
        JSON.stringify(mutate({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } }, changes)),
      ],
      binding: [
        'POST',
        `${at}/binding`,
        'application/json',
        JSON.stringify(mutate({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { name: 'n1' } }, changes)),
      ],
    };
    const [method, path, type, body] = shapes[verb]!;
    const q: [string, string][] = verb.startsWith('apply') ? [['fieldManager', 'fuzz'], ...query] : query;
    return { method, path, query: q, contentType: otherType ?? type, body };
  });

const chaotic: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'PATCH', 'OPTIONS'),
  path,
  query: fc.array(param, { maxLength: 4 }),
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
  body: fc.option(body, { nil: undefined, freq: 6 }),
});

/** Deleting a namespace (or all of them) would leave every later request refused: no controller finishes the deletion here. */
const request = fc
  .oneof({ weight: 3, arbitrary: coherent }, { weight: 2, arbitrary: chaotic })
  .filter((r) => !(r.method === 'DELETE' && /^\/api\/v1\/namespaces(\/[^/]*)?$/.test(r.path)));

function describeRequest(r: FuzzRequest): string {
  const b = r.body === undefined ? '' : typeof r.body === 'string' ? r.body.slice(0, 300) : `<${r.body.length} bytes: ${r.body.toString('hex').slice(0, 80)}>`;
  return `${r.method} ${r.path}?${new URLSearchParams(r.query).toString()} content-type=${r.contentType ?? '(none)'} body=${b}`;
}

/**
 * The one 5xx that is kube-apiserver's own answer to a client, not a fault: a list or get at a
 * resourceVersion the store has not reached yet waits, then gets 504 Timeout "Too large resource
 * version" with a Retry-After (the client may be ahead of a lagging cache).
 */
function isTooLargeResourceVersion(status: number, text: string): boolean {
  return status === 504 && text.includes('"reason":"Timeout"') && text.includes('Too large resource version');
}

describe('fuzzing the API', () => {
  it('never answers 5xx and stores nothing without a 2xx', async () => {
    console.log(`fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED}), ${RUNS} requests`);
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const query = new URLSearchParams(r.query);
        // A watch must end at once: a timeout in the past (kube's watch handler ends it immediately).
        if (r.method === 'GET' && ['true', '1'].includes(query.get('watch') ?? '')) query.set('timeoutSeconds', '-1');
        const before = await revisions();
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        const res = await fetch(`${t.url}${r.path}${query.size > 0 ? `?${query.toString()}` : ''}`, {
          method: r.method,
          headers,
          ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}),
        });
        const text = await res.text();
        const what = `${describeRequest(r)}\n  -> ${res.status} ${text.slice(0, 300)}`;
        if (res.status >= 500 && !isTooLargeResourceVersion(res.status, text)) throw new Error(`5xx for ${what}`);
        if (res.status >= 300 && (await revisions()) !== before) throw new Error(`stored without a 2xx: ${what}`);
        if (r.method === 'DELETE' && res.status < 300) await seed();
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 120_000);
});
