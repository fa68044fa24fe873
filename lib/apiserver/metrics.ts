/**
 * The API server's Prometheus metrics, named, labelled and bucketed as
 * kube-apiserver's (k8s.io/apiserver/pkg/endpoints/metrics), and what
 * `GET /metrics` serves. prom-client keeps the series and writes the text
 * exposition format; this module decides what a request is called.
 *
 * One registry holds the metrics of one server process: these, and what
 * the rest of the process registers on `registry` (the store's, the
 * controllers'). Process metrics (CPU, memory, event loop, heap) describe
 * the whole process, so they live in one process-wide registry merged in
 * at every scrape. In the cloud a registry is one Lambda container's: see
 * docs/cloud.md, "Metrics".
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PATCH_TYPES } from './patch.js';
import { mediaType } from './decode.js';
import { type Route, route } from './router.js';
import type { ApiRequest, ApiResponse } from '../api/request.js';
import type { ResourceRegistry } from '../api/registry.js';
import { VERSION_INFO } from './version.js';
import { KUBE_LATENCY_BUCKETS, type Stopwatch, systemStopwatch } from '../util/stopwatch.js';

/** kube-apiserver's `component` label for the requests it serves itself. */
const COMPONENT = 'apiserver';

/** Subresources kube-apiserver serves as CONNECT (a stream, not an object). */
const CONNECT_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/** What kube-apiserver's RequestInfo says about a request, as metric labels. */
export interface RequestLabels {
  verb: string;
  dry_run: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: string;
}

/**
 * The path a non-resource request is counted under (kube-apiserver puts it
 * in the subresource label), rebuilt from the route so that no spelling of
 * a path (escapes, doubled slashes) mints a series of its own: health checks
 * count under their endpoint whatever check they name, and discovery and
 * OpenAPI paths only when found (see observe), so only served ones count.
 */
function nonResourcePath(r: Exclude<Route, { type: 'resource' }>): string | undefined {
  switch (r.type) {
    case 'version':
      return '/version';
    case 'health':
      return `/${r.check}`;
    case 'metrics':
      return '/metrics';
    case 'core-versions':
      return '/api';
    case 'group-list':
      return '/apis';
    case 'group':
      return `/apis/${r.group}`;
    case 'resource-list':
      return r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    case 'openapi':
      return ['/openapi', ...r.rest].join('/');
    case 'oidc':
      return r.document === 'configuration' ? '/.well-known/openid-configuration' : '/openid/v1/jwks';
    case 'not-found':
      return undefined;
  }
}

/**
 * kube-apiserver's dry_run label: empty without the parameter, the sorted
 * distinct values when all are valid, else "invalid".
 */
function dryRunLabel(query: URLSearchParams): string {
  const values = query.getAll('dryRun');
  if (values.length === 0) return '';
  if (values.some((v) => v !== 'All')) return 'invalid';
  return 'All';
}

/**
 * The labels of a request, as kube-apiserver's MonitorRequest derives them
 * (CleanScope, CanonicalVerb, CleanVerb): verb POST/PUT/PATCH/DELETE from the
 * method, GET split into GET (one object) and LIST, WATCH, APPLY for a
 * server-side apply patch, CONNECT for log/exec; scope `resource` for a
 * named object or a create, `namespace`, `cluster`, or empty for a
 * non-resource path. Undefined for a path nothing serves, which
 * kube-apiserver does not count either.
 */
export function requestLabels(req: ApiRequest, kinds: ResourceRegistry): RequestLabels | undefined {
  let r: Route;
  try {
    r = route(req.method, req.path, req.query, kinds);
  } catch {
    // A method the path does not allow, or a path that does not decode: no handler, nothing counted.
    return undefined;
  }
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const dry_run = dryRunLabel(req.query);
  if (r.type !== 'resource') {
    const path = nonResourcePath(r);
    if (path === undefined) return undefined;
    return { verb: method, dry_run, group: '', version: '', resource: '', subresource: path, scope: '', component: COMPONENT };
  }
  const scope = r.name !== undefined || r.verb === 'create' ? 'resource' : r.namespace !== undefined ? 'namespace' : 'cluster';
  let verb: string;
  if (r.subresource !== undefined && CONNECT_SUBRESOURCES.has(r.subresource)) verb = 'CONNECT';
  else if (r.verb === 'watch') verb = 'WATCH';
  else if (r.verb === 'list') verb = 'LIST';
  else if (r.verb === 'patch' && mediaType(req.headers['content-type']) === PATCH_TYPES.apply) verb = 'APPLY';
  else verb = method;
  return {
    verb,
    dry_run,
    group: r.group,
    version: r.version,
    resource: r.resourceType.resource,
    subresource: r.subresource ?? '',
    scope,
    component: COMPONENT,
  };
}

/** Watches and CONNECTs are long-running: kube-apiserver's BasicLongRunningRequestCheck. */
function isLongRunning(labels: RequestLabels): boolean {
  return labels.verb === 'WATCH' || labels.verb === 'CONNECT';
}

let processRegistry: Registry | undefined;

/** The process-wide metrics: prom-client's process and Node.js collectors, and kubernetes_build_info. Created once. */
function processMetrics(): Registry {
  if (processRegistry) return processRegistry;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'kubernetes_build_info',
    help: "A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is running.",
    labelNames: ['major', 'minor', 'git_version', 'git_commit', 'git_tree_state', 'build_date', 'go_version', 'compiler', 'platform'],
    registers: [registry],
  });
  const v = VERSION_INFO;
  info.set(
    {
      major: v.major,
      minor: v.minor,
      git_version: v.gitVersion,
      git_commit: v.gitCommit,
      git_tree_state: v.gitTreeState,
      build_date: v.buildDate,
      go_version: v.goVersion,
      compiler: v.compiler,
      platform: v.platform,
    },
    1,
  );
  processRegistry = registry;
  return registry;
}

export interface ApiMetricsOptions {
  /** Where the series live; share it with the store's and the controllers' metrics. @default a new registry */
  registry?: Registry;
  /** @default performance.now */
  stopwatch?: Stopwatch;
}

/**
 * Counts and times every request the API server handles, and renders the
 * registry for `GET /metrics`. One per registry: two servers of one process
 * (the Lambda function's buffered and streaming ones) share one.
 */
export class ApiMetrics {
  readonly registry: Registry;
  private readonly stopwatch: Stopwatch;
  private readonly requests: Counter<keyof RequestLabels | 'code'>;
  private readonly durations: Histogram<keyof RequestLabels>;
  private readonly longRunning: Gauge<Exclude<keyof RequestLabels, 'dry_run'>>;

  constructor(opts: ApiMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.stopwatch = opts.stopwatch ?? systemStopwatch;
    const registers = [this.registry];
    const labelNames = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
    this.requests = new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: [...labelNames, 'code'],
      registers,
    });
    this.durations = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames,
      buckets: [...KUBE_LATENCY_BUCKETS],
      registers,
    });
    this.longRunning = new Gauge({
      name: 'apiserver_longrunning_requests',
      help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
      labelNames: labelNames.filter((l) => l !== 'dry_run'),
      registers,
    });
  }

  /**
   * Runs `serve` for `req` and counts its answer (under the resource `kinds` routes it to). A streamed answer (a
   * watch, a log) is counted when its stream ends, as kube-apiserver counts
   * it when the handler returns, and is open in apiserver_longrunning_requests
   * while its consumer reads it. Invariant: the response is returned as
   * `serve` made it, a stream wrapped but not read ahead.
   */
  async observe(req: ApiRequest, kinds: ResourceRegistry, serve: () => Promise<ApiResponse>): Promise<ApiResponse> {
    const started = this.stopwatch();
    const labels = requestLabels(req, kinds);
    const res = await serve();
    // A non-resource path that was not found is one nothing serves (an unknown API group, an OpenAPI path).
    if (!labels || (labels.resource === '' && res.status === 404)) return res;
    if ('events' in res) return { ...res, events: this.tracked(labels, res.status, started, res.events) };
    if ('bytes' in res) return { ...res, bytes: this.tracked(labels, res.status, started, res.bytes) };
    this.count(labels, res.status, started);
    return res;
  }

  /** The registry (and the process's metrics) in Prometheus' text exposition format. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }

  private count(labels: RequestLabels, status: number, started: number): void {
    this.requests.inc({ ...labels, code: String(status) });
    this.durations.observe(labels, (this.stopwatch() - started) / 1000);
  }

  /** `source`, counted as open from its first read until it ends or its consumer lets go. */
  private tracked<T>(labels: RequestLabels, status: number, started: number, source: AsyncIterable<T>): AsyncIterable<T> {
    const { dry_run: _, ...gaugeLabels } = labels;
    const longRunning = isLongRunning(labels) ? this.longRunning : undefined;
    const count = () => this.count(labels, status, started);
    return (async function* () {
      longRunning?.inc(gaugeLabels);
      try {
        yield* source;
      } finally {
        longRunning?.dec(gaugeLabels);
        count();
      }
    })();
  }
}
