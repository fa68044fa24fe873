/**
 * `GET /metrics` on `kumo up` (HTTPS and its bearer token), scraped over real
 * HTTP and read with a Prometheus text parser: requests counted with
 * kube-apiserver's labels and buckets, an open watch as a long-running
 * request, the store's operations, the controllers' reconciles and queues,
 * process metrics; 401 without a token; and the same text through
 * `kubectl get --raw /metrics`. Then the labels a request gets, as a table.
 */
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment } from './harness.js';
import { requestLabels } from '#lib/apiserver/metrics';
import type { LocalCluster } from '#lib/local/cluster';
import { KUBE_LATENCY_BUCKETS } from '#lib/util/stopwatch';
import { startCluster } from '../helpers/cluster.js';
import { kubectlPath } from '../helpers/kubectl.js';
import { type Exposition, parseExposition, samplesOf, valueOf } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';
import { kubeconfigFor } from '../kubectl/harness.js';
import { newKindRegistry } from '#lib/kinds/index';

const NS = 'default';
const CONFIGMAPS = `/api/v1/namespaces/${NS}/configmaps`;

let cluster: LocalCluster & { dispose(): Promise<void> };
let ca: Buffer;

beforeAll(async () => {
  cluster = await startCluster({ insecureHttp: false });
  ca = Buffer.from(cluster.caData!, 'base64');
});

afterAll(async () => {
  await cluster?.dispose();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTPS request; `token` null sends none. Resolves once the body has ended. */
function send(
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; contentType?: string; signal?: AbortSignal; onResponse?: () => void } = {},
): Promise<Reply> {
  const token = opts.token === undefined ? cluster.adminToken! : opts.token;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.url}${path}`,
      {
        method,
        ca,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        opts.onResponse?.();
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function scrape(): Promise<Exposition> {
  const r = await send('GET', '/metrics');
  expect(r.status).toBe(200);
  return parseExposition(r.text);
}

function configMap(name: string) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } };
}

/** apiserver_request_total for a core/v1 configmaps request. */
const configMapRequests = (e: Exposition, labels: Record<string, string>) =>
  valueOf(e, 'apiserver_request_total', { group: '', version: 'v1', resource: 'configmaps', component: 'apiserver', ...labels });

describe('GET /metrics on kumo up', () => {
  it("counts requests by verb, scope, dry run and code, times them in kube-apiserver's buckets, and counts store operations", async () => {
    const before = await scrape();
    expect((await send('POST', CONFIGMAPS, { body: configMap('m-1') })).status).toBe(201);
    expect((await send('POST', `${CONFIGMAPS}?dryRun=All`, { body: configMap('m-dry') })).status).toBe(201);
    expect((await send('GET', `${CONFIGMAPS}/m-1`)).status).toBe(200);
    expect((await send('GET', `${CONFIGMAPS}/missing`)).status).toBe(404);
    expect((await send('GET', CONFIGMAPS)).status).toBe(200);
    const apply = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m-1\ndata:\n  k: w\n';
    expect((await send('PATCH', `${CONFIGMAPS}/m-1?fieldManager=test&force=true`, { body: apply, contentType: 'application/apply-patch+yaml' })).status).toBe(
      200,
    );
    const after = await scrape();

    const moved = (labels: Record<string, string>) => configMapRequests(after, labels) - configMapRequests(before, labels);
    expect(moved({ verb: 'POST', dry_run: '', subresource: '', scope: 'resource', code: '201' })).toBe(1);
    expect(moved({ verb: 'POST', dry_run: 'All', scope: 'resource', code: '201' })).toBe(1);
    expect(moved({ verb: 'GET', scope: 'resource', code: '200' })).toBe(1);
    expect(moved({ verb: 'GET', scope: 'resource', code: '404' })).toBe(1);
    expect(moved({ verb: 'LIST', scope: 'namespace', code: '200' })).toBe(1);
    expect(moved({ verb: 'APPLY', scope: 'resource', code: '200' })).toBe(1);

    expect(after.types.get('apiserver_request_total')).toBe('counter');
    expect(after.types.get('apiserver_request_duration_seconds')).toBe('histogram');
    const buckets = samplesOf(after, 'apiserver_request_duration_seconds_bucket', { verb: 'POST', dry_run: '', resource: 'configmaps', scope: 'resource' });
    expect(buckets.map((b) => b.labels.le)).toEqual([...KUBE_LATENCY_BUCKETS.map(String), '+Inf']);
    expect(buckets.at(-1)!.value).toBe(
      valueOf(after, 'apiserver_request_duration_seconds_count', { verb: 'POST', dry_run: '', resource: 'configmaps', scope: 'resource' }),
    );

    // The scrape before this one was counted too, as a non-resource request.
    expect(valueOf(after, 'apiserver_request_total', { verb: 'GET', resource: '', subresource: '/metrics', scope: '', code: '200' })).toBeGreaterThan(0);

    const creates = (e: Exposition) => valueOf(e, 'etcd_requests_total', { operation: 'create', group: '', resource: 'configmaps' });
    expect(creates(after) - creates(before)).toBe(1);
    expect(valueOf(after, 'etcd_request_duration_seconds_count', { operation: 'create', resource: 'configmaps' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'etcd_request_errors_total', { operation: 'create', resource: 'configmaps' })).toBe(0);

    expect(valueOf(after, 'process_start_time_seconds')).toBeGreaterThan(0);
    expect(valueOf(after, 'kubernetes_build_info', { major: '1', minor: '35', git_version: 'v1.35.0-kumo' })).toBe(1);
  });

  it('serves the text exposition format', async () => {
    const r = await send('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('shows an open watch as a long-running request, and counts the watch when it ends', async () => {
    const watching = { verb: 'WATCH', group: '', version: 'v1', resource: 'configmaps', subresource: '', scope: 'namespace', component: 'apiserver' };
    const before = await scrape();
    expect(valueOf(before, 'apiserver_longrunning_requests', watching)).toBe(0);
    const abort = new AbortController();
    let answered = false;
    const watch = send('GET', `${CONFIGMAPS}?watch=true`, { signal: abort.signal, onResponse: () => (answered = true) }).catch(() => undefined);
    await waitFor(() => answered, { what: 'the watch to be answered' });
    const open = await waitFor(
      async () => {
        const e = await scrape();
        return valueOf(e, 'apiserver_longrunning_requests', watching) === 1 && e;
      },
      { what: 'the watch to show as long-running' },
    );
    // Counted when it ends, as kube-apiserver counts a watch.
    expect(configMapRequests(open, { verb: 'WATCH' })).toBe(configMapRequests(before, { verb: 'WATCH' }));

    abort.abort();
    await watch;
    const closed = await waitFor(
      async () => {
        const e = await scrape();
        return valueOf(e, 'apiserver_longrunning_requests', watching) === 0 && e;
      },
      { what: 'the watch to end' },
    );
    expect(
      configMapRequests(closed, { verb: 'WATCH', scope: 'namespace', code: '200' }) -
        configMapRequests(before, { verb: 'WATCH', scope: 'namespace', code: '200' }),
    ).toBe(1);
  });

  it('counts controller reconciles, work queue adds and depth, and the requests controllers make', async () => {
    expect((await send('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, { body: deployment('web', 1) })).status).toBe(201);
    await waitFor(
      async () => {
        const r = await send('GET', `/apis/apps/v1/namespaces/${NS}/replicasets`);
        return (JSON.parse(r.text) as { items: unknown[] }).items.length === 1;
      },
      { what: 'the Deployment controller to create a ReplicaSet' },
    );

    const e = await scrape();
    // Every result is a series from the start, as controller-runtime's; a Deployment's reconcile often ends in requeue_after.
    expect(
      samplesOf(e, 'controller_runtime_reconcile_total', { controller: 'deployment' })
        .map((s) => s.labels.result)
        .sort(),
    ).toEqual(['error', 'requeue', 'requeue_after', 'success']);
    expect(valueOf(e, 'controller_runtime_reconcile_total', { controller: 'deployment' })).toBeGreaterThanOrEqual(1);
    expect(samplesOf(e, 'controller_runtime_reconcile_errors_total', { controller: 'deployment' })).toHaveLength(1);
    expect(valueOf(e, 'controller_runtime_reconcile_time_seconds_count', { controller: 'deployment' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(e, 'workqueue_adds_total', { name: 'deployment', controller: 'deployment' })).toBeGreaterThanOrEqual(1);
    expect(samplesOf(e, 'workqueue_depth', { name: 'deployment', controller: 'deployment' })).toHaveLength(1);
    expect(samplesOf(e, 'workqueue_depth', { name: 'scheduler' })).toHaveLength(1);
    // The controller's own create went through the API server, as kube-controller-manager's requests do.
    expect(valueOf(e, 'apiserver_request_total', { verb: 'POST', group: 'apps', version: 'v1', resource: 'replicasets', scope: 'resource', code: '201' })).toBe(
      1,
    );
  });

  it('refuses a request without a token, or with a wrong one (401)', async () => {
    for (const token of [null, 'not-the-token']) {
      const r = await send('GET', '/metrics', { token });
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    }
  });

  it('is what `kubectl get --raw /metrics` prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-metrics-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, kubeconfigFor(cluster.url, { caData: cluster.caData!, token: cluster.adminToken! }));
      const bin = await kubectlPath();
      const out = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
        const child = spawn(bin, ['--cache-dir', join(dir, 'cache'), 'get', '--raw', '/metrics'], {
          env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig },
        });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
      });
      expect(out.code).toBe(0);
      const e = parseExposition(out.stdout);
      expect(e.types.get('apiserver_request_total')).toBe('counter');
      expect(e.types.get('workqueue_depth')).toBe('gauge');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('requestLabels', () => {
  const labelsOf = (method: string, target: string, headers: Record<string, string> = {}) => {
    const url = new URL(target, 'http://x');
    return requestLabels({ method, path: url.pathname, query: url.searchParams, headers }, newKindRegistry());
  };

  it('names verbs and scopes as kube-apiserver does', () => {
    const pods = '/api/v1/namespaces/ns/pods';
    const cases: [string, string, Record<string, string>, Partial<Record<string, string>>][] = [
      ['HEAD', `${pods}/p`, {}, { verb: 'GET', scope: 'resource' }],
      ['GET', '/api/v1/pods', {}, { verb: 'LIST', scope: 'cluster' }],
      ['GET', `${pods}?watch=1`, {}, { verb: 'WATCH', scope: 'namespace' }],
      ['POST', pods, {}, { verb: 'POST', scope: 'resource' }],
      ['PUT', `${pods}/p/status`, {}, { verb: 'PUT', subresource: 'status', scope: 'resource' }],
      ['PATCH', `${pods}/p`, { 'content-type': 'application/apply-patch+yaml' }, { verb: 'APPLY' }],
      ['PATCH', `${pods}/p`, { 'content-type': 'application/merge-patch+json' }, { verb: 'PATCH' }],
      ['DELETE', pods, {}, { verb: 'DELETE', scope: 'namespace' }],
      ['GET', `${pods}/p/log`, {}, { verb: 'CONNECT', subresource: 'log' }],
      ['POST', `${pods}?dryRun=All`, {}, { dry_run: 'All' }],
      ['POST', `${pods}?dryRun=Some`, {}, { dry_run: 'invalid' }],
      ['GET', '/apis/apps/v1/namespaces/ns/deployments/d', {}, { group: 'apps', version: 'v1', resource: 'deployments', scope: 'resource' }],
    ];
    for (const [method, target, headers, expected] of cases)
      expect(labelsOf(method, target, headers), `${method} ${target}`).toMatchObject({ component: 'apiserver', ...expected });
  });

  it('counts a non-resource path under one label however it is spelled, and a path nothing serves not at all', () => {
    expect(labelsOf('GET', '/apis/%61pps//v1')).toEqual(labelsOf('GET', '/apis/apps/v1'));
    expect(labelsOf('GET', '/apis/apps/v1')).toMatchObject({ verb: 'GET', group: '', resource: '', subresource: '/apis/apps/v1', scope: '' });
    expect(labelsOf('GET', '/healthz/anything')).toMatchObject({ subresource: '/healthz' });
    expect(labelsOf('GET', '/no/such/path')).toBeUndefined();
    expect(labelsOf('GET', '/api/v1/namespaces/ns/nosuchresource')).toBeUndefined();
  });
});
