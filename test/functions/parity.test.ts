/**
 * Both front doors answer alike: one script of requests runs against the
 * Node HTTP server (a real server on an ephemeral port) and against the
 * Lambda handler (real-shaped Function URL events, in-process), each on its
 * own fresh store, and every answer must match in status, content type,
 * warnings and body, once uids and timestamps are masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi, type Wire } from '../apiserver/harness.js';
import { functionUrlEvent, invocationContext, ndjson, type EventOptions } from './events.js';

process.env.KUMO_SQLITE_PATH = ':memory:';
process.env.KUMO_WATCH_POLL_SECONDS = '2';
const { handler } = await import('../../functions/api.js');

interface Answer {
  status: number;
  contentType: string | undefined;
  warning: string | undefined;
  body: unknown;
}

type Send = (method: string, path: string, opts?: EventOptions) => Promise<Answer>;

function decode(text: string, contentType: string | undefined, watch: boolean): unknown {
  if (!(contentType ?? '').includes('json') || text === '') return text;
  return watch ? ndjson(text) : JSON.parse(text);
}

const isWatch = (path: string, status: number) => /[?&]watch=true/.test(path) && status === 200;

function viaHttp(t: TestApi): Send {
  return async (method, path, opts = {}) => {
    const body = opts.body instanceof Uint8Array || typeof opts.body === 'string' || opts.body === undefined ? opts.body : JSON.stringify(opts.body);
    const r = await t.req(method, path, {
      // The same client as the Lambda events: the User-Agent names the field manager recorded in managedFields.
      headers: { 'user-agent': 'kubectl/v1.35.2 (linux/amd64) kubernetes/6f0b9b7' },
      ...(body !== undefined ? { body, contentType: opts.contentType ?? 'application/json' } : {}),
      ...(opts.accept ? { accept: opts.accept } : {}),
    });
    const contentType = r.headers.get('content-type') ?? undefined;
    return { status: r.status, contentType, warning: r.headers.get('warning') ?? undefined, body: decode(r.text, contentType, isWatch(path, r.status)) };
  };
}

const viaLambda: Send = async (method, path, opts = {}) => {
  const r = await handler(functionUrlEvent(method, path, opts), invocationContext());
  const headers = (r.headers ?? {}) as Record<string, string>;
  const text = r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r.body ?? '');
  return {
    status: r.statusCode ?? 0,
    contentType: headers['content-type'],
    warning: headers.warning,
    body: decode(text, headers['content-type'], isWatch(path, r.statusCode ?? 0)),
  };
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
const AGE = /^\d+s$/;

/** Masks what legitimately differs between two servers: uids, timestamps and ages. */
function mask(v: unknown): unknown {
  if (typeof v === 'string') return AGE.test(v) ? '<age>' : v.replace(UUID, '<uid>').replace(TIME, '<time>');
  if (Array.isArray(v)) return v.map(mask);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
  return v;
}

const PODS = '/api/v1/namespaces/default/pods';
const CMS = '/api/v1/namespaces/default/configmaps';
const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const MERGE = 'application/merge-patch+json';

function pod(name: string, labels?: Record<string, string>): Wire {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(labels ? { labels } : {}) }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } };
}

function deployment(name: string): Wire {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
    },
  };
}

/** The script: every step's answer, by step name. Later steps read earlier state through the same front door. */
async function script(send: Send): Promise<[string, Answer][]> {
  const out: [string, Answer][] = [];
  const step = async (name: string, method: string, path: string, opts?: EventOptions) => {
    const a = await send(method, path, opts);
    out.push([name, a]);
    return a;
  };
  // A resource nobody wrote yet lists at resourceVersion "0", which a watch reads as "any"; start from a real position.
  await step('create a first configmap', 'POST', CMS, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first' } } });
  const startRv = ((await step('list configmaps', 'GET', CMS)).body as Wire).metadata.resourceVersion;

  await step('get namespace', 'GET', '/api/v1/namespaces/default');
  await step('create pod', 'POST', PODS, { body: pod('web-1', { app: 'web' }) });
  await step('create pod from YAML', 'POST', PODS, {
    body: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-2\nspec:\n  containers:\n  - name: c\n    image: busybox\n',
    contentType: 'application/yaml',
  });
  await step('create existing: 409', 'POST', PODS, { body: pod('web-1') });
  await step('create invalid: 422', 'POST', PODS, { body: { ...pod('Bad_Name'), spec: { containers: [{ name: 'c' }] } } });
  await step('create not JSON: 400', 'POST', PODS, { body: '{"kind": ' });
  await step('create with unknown field: Warning', 'POST', PODS, { body: { ...pod('web-3'), spec: { ...pod('web-3').spec, bogus: 1 } } });
  await step('create strict unknown field: 400', 'POST', `${PODS}?fieldValidation=Strict`, {
    body: { ...pod('web-4'), spec: { ...pod('web-4').spec, bogus: 1 } },
  });
  await step('create in missing namespace: 404', 'POST', '/api/v1/namespaces/nowhere/pods', { body: pod('lost') });
  await step('create dry run', 'POST', `${PODS}?dryRun=All`, { body: pod('dry') });
  await step('get pod', 'GET', `${PODS}/web-1`);
  await step('get missing: 404', 'GET', `${PODS}/nope`);
  await step('list pods', 'GET', PODS);
  await step('list pods by label', 'GET', `${PODS}?labelSelector=${encodeURIComponent('app in (web),!tier')}`);
  await step('list pods by field', 'GET', `${PODS}?fieldSelector=${encodeURIComponent('metadata.name!=web-1')}`);
  await step('bad field selector: 400', 'GET', `${PODS}?fieldSelector=${encodeURIComponent('spec.image=x')}`);
  await step('list as Table', 'GET', PODS, { accept: TABLE });
  await step('page 1', 'GET', `${PODS}?limit=1`);
  await step('unknown resource: 404', 'GET', '/api/v1/namespaces/default/widgets');

  const cm = (await step('create configmap', 'POST', CMS, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } } }))
    .body as Wire;
  await step('update configmap', 'PUT', `${CMS}/cfg`, { body: { ...cm, data: { a: '2' } } });
  await step('update stale: 409', 'PUT', `${CMS}/cfg`, { body: { ...cm, data: { a: '3' } } });
  await step('update without resourceVersion', 'PUT', `${CMS}/cfg`, {
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { b: '1' } },
  });
  await step('merge patch', 'PATCH', `${CMS}/cfg`, { body: { data: { c: '2', b: null } }, contentType: MERGE });
  await step('json patch', 'PATCH', `${CMS}/cfg`, { body: [{ op: 'add', path: '/data/d', value: '4' }], contentType: 'application/json-patch+json' });
  await step('json patch failing test: 422', 'PATCH', `${CMS}/cfg`, {
    body: [{ op: 'test', path: '/data/d', value: 'x' }],
    contentType: 'application/json-patch+json',
  });

  await step('create deployment', 'POST', DEPLOYS, { body: deployment('web') });
  await step('strategic merge patch', 'PATCH', `${DEPLOYS}/web`, {
    body: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ name: 'nginx', image: 'nginx:1.28' }] } } } },
    contentType: 'application/strategic-merge-patch+json',
  });
  await step('get scale', 'GET', `${DEPLOYS}/web/scale`);
  await step('patch scale', 'PATCH', `${DEPLOYS}/web/scale`, { body: { spec: { replicas: 5 } }, contentType: MERGE });
  await step('negative scale: 422', 'PATCH', `${DEPLOYS}/web/scale`, { body: { spec: { replicas: -1 } }, contentType: MERGE });
  await step('status patch', 'PATCH', `${DEPLOYS}/web/status`, { body: { status: { replicas: 5 } }, contentType: MERGE });
  await step('unsupported patch type: 415', 'PATCH', `${DEPLOYS}/web`, { body: {}, contentType: 'text/plain' });

  await step('bind pod', 'POST', `${PODS}/web-2/binding`, {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web-2' }, target: { kind: 'Node', name: 'n1' } },
  });
  await step('bind again: 409', 'POST', `${PODS}/web-2/binding`, {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web-2' }, target: { kind: 'Node', name: 'n2' } },
  });
  await step('delete bound pod: graceful', 'DELETE', `${PODS}/web-2`, { body: { propagationPolicy: 'Background' } });
  await step('delete unbound pod', 'DELETE', `${PODS}/web-1`);
  await step('get deleted: 404', 'GET', `${PODS}/web-1`);
  await step('delete with bad policy: 422', 'DELETE', `${PODS}/web-3`, { body: { propagationPolicy: 'Sideways' } });
  await step('delete foreground', 'DELETE', `${DEPLOYS}/web`, { body: { propagationPolicy: 'Foreground' } });
  await step('deletecollection', 'DELETE', `${PODS}?labelSelector=${encodeURIComponent('!app')}`);
  await step('too large: 413', 'POST', CMS, {
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'x'.repeat(3 * 1024 * 1024) } },
  });

  await step('watch configmaps from the first list', 'GET', `${CMS}?watch=true&timeoutSeconds=1&resourceVersion=${startRv}`);
  await step('watch pods by label as Table', 'GET', `${PODS}?watch=true&timeoutSeconds=1&resourceVersion=0`, { accept: TABLE });
  await step('watch with bad selector: 400', 'GET', `${CMS}?watch=true&labelSelector=${encodeURIComponent('a in (')}`);
  await step('watch-list without resourceVersionMatch: 422', 'GET', `${CMS}?watch=true&sendInitialEvents=true`);
  return out;
}

let t: TestApi;
let http: [string, Answer][];
let lambda: [string, Answer][];

beforeAll(async () => {
  t = await startApi();
  // One after the other: the machine is small and the timings of watches should not overlap.
  http = await script(viaHttp(t));
  lambda = await script(viaLambda);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('the HTTP server and the Lambda handler', () => {
  it('ran the same steps', () => {
    expect(lambda.map(([name]) => name)).toEqual(http.map(([name]) => name));
  });

  it('answer every step alike', () => {
    for (const [i, [name, h]] of http.entries()) {
      const l = lambda[i]![1];
      expect({ step: name, status: l.status, contentType: l.contentType, warning: l.warning }, name).toEqual({
        step: name,
        status: h.status,
        contentType: h.contentType,
        warning: h.warning,
      });
      expect(mask(l.body), name).toEqual(mask(h.body));
    }
  });

  it('covered successes and every error class', () => {
    const statuses = new Set(http.map(([, a]) => a.status));
    for (const code of [200, 201, 400, 404, 409, 413, 415, 422]) expect(statuses, `status ${code}`).toContain(code);
    const watch = http.find(([name]) => name === 'watch configmaps from the first list')![1].body as Wire[];
    expect(watch.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED']);
    const warned = http.find(([name]) => name === 'create with unknown field: Warning')![1];
    expect(warned.warning).toBe('299 - "unknown field \\"spec.bogus\\""');
  });
});
