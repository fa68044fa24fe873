/**
 * The API server core: a request in, a response out, for every front door
 * (local HTTP server, Lambda, in-process client). Routing, authentication and
 * authorization hooks, content negotiation, and the Kubernetes REST verbs
 * over the generic storage in rest.ts.
 */
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { formatSelector, fromLabelSelector } from '../api/labels.js';
import type { LabelSelector } from '../api/meta/v1/label-selector.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { isPlainObject } from '../util/json.js';
import type { Store } from '../store/types.js';
import { checkObject, decodeObjectBody, fieldValidationOf, type FieldValidation, mediaType, requireMediaType, strictErrors, typeMismatch } from './decode.js';
import { AGGREGATED_CONTENT_TYPE, aggregatedDiscovery, apiGroupDocument, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import { StatusError, isNotFound } from '../api/errors.js';
import { applyPatch, decodePatch, PATCH_MEDIA_TYPES, PATCH_TYPES, type PatchType } from './patch.js';
import { checkResourceVersion, RestStorage, type ServerAdmissionConfig } from './rest.js';
import { evictPod } from './eviction.js';
import { requestToken } from './token-request.js';
import type { ServiceAccountTokenIssuer } from '../api/serviceaccount-tokens.js';
import type { DeleteOptions } from '../api/meta/v1/delete-options.js';
import { route, type ResourceRoute, type Route } from './router.js';
import { newKindRegistry, type KindRegistry } from '../kinds/index.js';
import { printerOf } from '../kinds/printer.js';
import type { Kind } from '../kinds/kind.js';
import type { PodConnector } from '../api/pod-connector.js';
import type { ApiRequest, ApiResponse, Authenticator, Authorizer, RequestHandler, UserInfo } from '../api/request.js';
import { openWatch, type WireEvent } from './watch.js';
import { OPENAPI_V2_CONTENT_TYPE, OPENAPI_V2_DOCUMENT, openApiDocument, openApiIndex } from './openapi.js';
import { tableFor, wantsTable } from './table.js';
import { serverSideApply, validateFieldManager } from './apply.js';
import { ApiMetrics } from './metrics.js';
import { VERSION_INFO } from './version.js';
import { dropUnknownFields } from './schema/unknown.js';
import { AUDIT_ID_HEADER, auditIdOf } from '../api/audit-id.js';
import { REQUEST_TIMEOUT_MS, WRITE_TIMEOUT_MS } from './limits.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { valueAt, withValueAt } from './scale-paths.js';
import { customResourceSyncFor, type CustomResourceSync } from './custom-resources.js';
import { customResourceDefinitionKind } from '../kinds/customresourcedefinition.js';
import { MetricsApi, metricsGroupDocument, metricsResourceList, metricsRoute, type MetricsRoute } from './metrics-api.js';
import { impersonate } from './impersonation.js';

/**
 * The container a log, exec or attach request means: the named one, which
 * must be one of the pod's (init and ephemeral containers included), else
 * the only app container, as kube-apiserver's validateContainer picks it.
 */
export function podContainer(pod: KObject, name: string | null | undefined): string {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name?: string }[] };
  const containers = (spec.containers ?? []).map((c) => c.name);
  const all = [...(spec.initContainers ?? []).map((c) => c.name), ...containers, ...(spec.ephemeralContainers ?? []).map((c) => c.name ?? '')];
  const podName = pod.metadata.name ?? '';
  if (name) {
    if (!all.includes(name)) throw StatusError.badRequest(`container ${name} is not valid for pod ${podName}`);
    return name;
  }
  if (containers.length === 1) return containers[0]!;
  if (containers.length === 0) throw StatusError.badRequest(`a container name must be specified for pod ${podName}`);
  throw StatusError.badRequest(`a container name must be specified for pod ${podName}, choose one of: [${all.join(' ')}]`);
}

export interface ApiServerOptions {
  store: Store;
  clock?: Clock;
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  podConnector?: PodConnector;
  /** Upper bound of a watch's life when the client names none. @default 30 minutes */
  watchTimeoutMs?: number;
  /** Idle time before a bookmark. @default 60 seconds */
  bookmarkIntervalMs?: number;
  /** Admission defaults (configurable for tests). */
  admission?: Partial<ServerAdmissionConfig>;
  /** The kinds served; the server reads it on every request, so kinds added to it are served at once. @default the built-in kinds (newKindRegistry()) */
  kinds?: KindRegistry;
  /** Counts requests and serves `GET /metrics`; share one between servers of a process. @default this server's own */
  metrics?: ApiMetrics;
  /** Deadline of a request that is not a watch or a stream (writes: at most WRITE_TIMEOUT_MS). @default REQUEST_TIMEOUT_MS (60 s) */
  requestTimeoutMs?: number;
  /** Where a 500 is logged, with the request's auditID. @default defaultLogger() */
  logger?: Logger;
  /**
   * How long the server trusts what it last read of the CustomResourceDefinitions before it checks their revision in
   * the store again (servers sharing `kinds` share one check, with the first one's setting). @default DEFAULT_CRD_TTL_MS
   */
  crdTtlMs?: number;
  /** The audiences a token is for when a TokenReview names none (kube-apiserver's --api-audiences). @default DEFAULT_API_AUDIENCES */
  apiAudiences?: readonly string[];
  /** Issues ServiceAccount tokens (serviceaccounts/token) and serves issuer discovery. @default none: both answer 404, as kube-apiserver without a signing key */
  serviceAccountTokens?: ServiceAccountTokenIssuer;
  /** The longest token a TokenRequest gets (kube-apiserver's --service-account-max-token-expiration, in seconds). @default no maximum */
  maxTokenExpirationSeconds?: number;
}

/** kube-apiserver's audiences when --api-audiences is unset: its ServiceAccount issuer, as kind and kubeadm clusters name it. */
export const DEFAULT_API_AUDIENCES: readonly string[] = ['https://kubernetes.default.svc.cluster.local'];

/** Subresources that stream, exempt from the request deadline as kube's long-running check exempts them. */
const LONG_RUNNING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/**
 * The deadline of a request in ms, or undefined for a long-running one
 * (a watch, a log or exec stream). Writes are capped as kube caps them
 * (requestTimeoutUpperBound); a `timeout` parameter (`30s`, `1m`) may
 * shorten it, and one that does not parse is ignored, as kube ignores it.
 */
function requestDeadlineMs(req: ApiRequest, defaultMs: number): number | undefined {
  const watch = req.query.get('watch');
  if ((req.method === 'GET' && (watch === 'true' || watch === '1')) || req.path.includes('/watch/')) return undefined;
  const last =
    req.path
      .split('/')
      .filter((p) => p !== '')
      .pop() ?? '';
  if (LONG_RUNNING_SUBRESOURCES.has(last)) return undefined;
  let ms = req.method === 'GET' || req.method === 'HEAD' ? defaultMs : Math.min(defaultMs, WRITE_TIMEOUT_MS);
  const asked = /^(\d+)(ms|s|m|h)$/.exec(req.query.get('timeout') ?? '');
  if (asked) {
    const n = Number(asked[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[asked[2] as 'ms' | 's' | 'm' | 'h'];
    if (n > 0) ms = Math.min(ms, n);
  }
  return ms;
}

const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
export const ADMIN: UserInfo = { name: 'kumo-admin', groups: ['system:masters', 'system:authenticated'] };

function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body };
}

/** An integer query parameter, refused as kube's parameter codec refuses it (Go's strconv.ParseInt). */
function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw StatusError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw StatusError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
}

/**
 * A patch whose result is not an object of the kind, as kube's patchers
 * refuse it: 422 on the field `patch`, its value the patched object
 * (NewInvalid with an empty kind and name).
 */
function patchInvalid(patched: unknown, why: string): StatusError {
  const message = `Invalid value: ${JSON.stringify(JSON.stringify(patched) ?? 'null')}: ${why}`;
  return new StatusError(422, 'Invalid', ` "" is invalid: patch: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }] });
}

/**
 * Who makes a write, for managedFields: the fieldManager parameter, else
 * the User-Agent's product (`kubectl` for `kubectl/v1.35.2 (...)`), as
 * Kubernetes does; in-process callers without one are named by their user.
 */
function fieldManagerOf(req: ApiRequest): string {
  const param = req.query.get('fieldManager');
  if (param) {
    validateFieldManager(param);
    return param;
  }
  const agent = req.headers['user-agent']?.split('/')[0]?.trim();
  return (agent || req.user?.name || 'unknown').slice(0, 128);
}

/** Who writes, for admission, and where its warnings go. */
function writer(req: ApiRequest, warnings?: string[]): { user?: UserInfo; warnings?: string[] } {
  return { ...(req.user ? { user: req.user } : {}), ...(warnings ? { warnings } : {}) };
}

function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) if (v !== 'All' && v !== '') throw StatusError.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.includes('All');
}

export class ApiServer implements RequestHandler {
  readonly rest: RestStorage;
  readonly store: Store;
  readonly metrics: ApiMetrics;
  readonly kinds: KindRegistry;
  private readonly clock: Clock;
  private readonly opts: ApiServerOptions;
  private readonly customResources: CustomResourceSync;
  private readonly metricsApi: MetricsApi;

  constructor(opts: ApiServerOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? new ApiMetrics();
    this.kinds = opts.kinds ?? newKindRegistry();
    this.rest = new RestStorage(
      opts.store,
      this.clock,
      this.kinds,
      {
        ...opts.admission,
        defaultTolerationSeconds: opts.admission?.defaultTolerationSeconds ?? 300,
      },
      opts.authorizer,
    );
    this.metricsApi = new MetricsApi(this.rest, () => this.clock.now());
    this.customResources = customResourceSyncFor({
      store: opts.store,
      rest: this.rest,
      kinds: this.kinds,
      clock: this.clock,
      ...(opts.crdTtlMs !== undefined ? { ttlMs: opts.crdTtlMs } : {}),
    });
  }

  /**
   * Brings `kinds` up to date with the CRDs stored, for in-process callers
   * that read the registry without making requests (the cloud's controllers
   * before each batch): within the TTL, or at once when `now`.
   */
  syncCustomResources(now = false): Promise<void> {
    if (now) this.customResources.invalidate();
    return this.customResources.refresh();
  }

  /** The registered kind of a routed resource (routes only resolve registered ones). */
  private kind(rt: ResourceType): Kind {
    const kind = this.kinds.kindOf(rt);
    if (!kind) throw StatusError.internal(`resource ${rt.resource} is not registered`);
    return kind;
  }

  /** Handles one request. Never throws: failures become Status responses. */
  handle(req: ApiRequest): Promise<ApiResponse> {
    return this.metrics.observe(req, this.kinds, () => this.serve(req));
  }

  /**
   * Serves one request; failures become Status responses, a 500 (a fault of
   * ours, never bad input) logged with the request's id. Every response
   * carries that id in `Audit-Id`. A request that is not a watch or a stream
   * gets kube's deadline: past it the client is answered 504 Timeout while
   * the work, which cannot be preempted, finishes unseen (as in kube, a
   * timed-out write may still land).
   */
  private async serve(req: ApiRequest): Promise<ApiResponse> {
    const auditID = auditIdOf(req.headers);
    let res: ApiResponse;
    try {
      res = await this.withDeadline(req, this.dispatch(req));
    } catch (err) {
      if (err instanceof StatusError) {
        const retryAfter = err.details?.retryAfterSeconds;
        // As kube's responsewriters: a Status that asks for a retry says when in Retry-After too (clients read the header).
        res = json(err.code, err.toStatus(), retryAfter ? { 'retry-after': String(retryAfter) } : {});
      } else {
        const message = err instanceof Error ? err.message : String(err);
        (this.opts.logger ?? defaultLogger()).error(`kumo apiserver: ${req.method} ${req.path}: ${message}`, { auditID, error: err });
        res = json(500, StatusError.internal(message).toStatus());
      }
    }
    res.headers = { ...res.headers, [AUDIT_ID_HEADER]: auditID };
    return res;
  }

  private async withDeadline(req: ApiRequest, work: Promise<ApiResponse>): Promise<ApiResponse> {
    const ms = requestDeadlineMs(req, this.opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
    if (ms === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(StatusError.timeout('request did not complete within requested timeout - context deadline exceeded')), ms);
    });
    // The work goes on after a timeout; its late failure has no one to tell.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async dispatch(req: ApiRequest): Promise<ApiResponse> {
    // A request that may concern a custom resource (discovery, OpenAPI, a path not served yet, a custom resource, CRDs)
    // sees the CRDs stored so far: within the TTL, or at once after this server wrote one. A built-in kind's request
    // neither waits for that refresh nor fails with it; the next request that needs it does.
    const metrics = metricsRoute(req.method, req.path, req.query);
    if (metrics === 'group') return json(200, metricsGroupDocument());
    if (metrics === 'resources') return json(200, metricsResourceList());
    if (metrics) return this.serveResourceMetrics(req, metrics);
    const refreshed = this.customResources.refresh();
    let r = route(req.method, req.path, req.query, this.kinds);
    if (this.needsCustomResources(r)) {
      await refreshed;
      r = route(req.method, req.path, req.query, this.kinds);
    } else refreshed.catch(() => undefined);
    const accept = req.headers.accept;
    switch (r.type) {
      case 'version':
        return json(200, VERSION_INFO);
      case 'health':
        return { status: 200, headers: { 'content-type': 'text/plain' }, text: 'ok' };
      case 'core-versions':
        return wantsAggregated(accept)
          ? json(200, aggregatedDiscovery(this.kinds, true), { 'content-type': AGGREGATED_CONTENT_TYPE })
          : json(200, apiVersions());
      case 'group-list':
        return wantsAggregated(accept)
          ? json(200, aggregatedDiscovery(this.kinds, false), { 'content-type': AGGREGATED_CONTENT_TYPE })
          : json(200, apiGroupList(this.kinds));
      case 'group': {
        const doc = apiGroupDocument(this.kinds, r.group);
        if (!doc) throw StatusError.pathNotFound();
        return json(200, doc);
      }
      case 'resource-list': {
        const doc = apiResourceList(this.kinds, r.group, r.version);
        if (!doc) throw StatusError.pathNotFound();
        return json(200, doc);
      }
      case 'openapi': {
        if (r.rest.length === 1 && r.rest[0] === 'v2') return { status: 200, headers: { 'content-type': OPENAPI_V2_CONTENT_TYPE }, text: OPENAPI_V2_DOCUMENT };
        const doc =
          r.rest.length === 1 && r.rest[0] === 'v3'
            ? openApiIndex(this.kinds)
            : r.rest[0] === 'v3'
              ? openApiDocument(this.kinds, r.rest.slice(1).join('/'))
              : undefined;
        if (!doc) throw StatusError.pathNotFound();
        return json(200, doc);
      }
      case 'metrics':
        return this.serveMetrics(req);
      case 'oidc':
        return this.serveIssuerDiscovery(req, r.document);
      case 'not-found':
        throw StatusError.pathNotFound();
      case 'resource': {
        const writesCRD = r.resourceType === customResourceDefinitionKind && !['get', 'list', 'watch'].includes(r.verb);
        let res: ApiResponse;
        try {
          res = await this.resource(req, r);
        } finally {
          if (writesCRD) this.customResources.invalidate();
        }
        const warning = r.resourceType.deprecation;
        if (warning) {
          const header = `299 - ${JSON.stringify(warning)}`;
          res.headers = { ...res.headers, warning: res.headers?.warning ? `${res.headers.warning}, ${header}` : header };
        }
        return res;
      }
    }
  }

  private needsCustomResources(r: Route): boolean {
    switch (r.type) {
      case 'version':
      case 'health':
      case 'metrics':
      case 'oidc':
        return false;
      case 'resource':
        return r.resourceType === customResourceDefinitionKind || this.customResources.serves(r.resourceType);
      default:
        return true;
    }
  }

  /**
   * The caller: set by the front door, else authenticated (401 without a
   * valid credential); everyone is admin without an authenticator. Then
   * impersonation (Impersonate-* headers), authorized for that caller.
   */
  private async caller(req: ApiRequest): Promise<UserInfo> {
    let user = req.user;
    if (!user && this.opts.authenticator) {
      user = await this.opts.authenticator.authenticate(req);
      if (!user) throw StatusError.unauthorized();
    }
    return impersonate(req, user ?? (this.opts.authenticator ? ANONYMOUS : ADMIN), this.opts.authorizer);
  }

  private async authorize(req: ApiRequest, r: ResourceRoute): Promise<UserInfo> {
    const user = await this.caller(req);
    if (this.opts.authorizer) {
      // Connect subresources are authorized by what they do whatever the method (a WebSocket upgrade is a GET): reading logs, creating a session.
      const verb = r.subresource === 'log' ? 'get' : r.subresource === 'exec' || r.subresource === 'attach' ? 'create' : r.verb;
      // kube's RequestInfo: a Namespace named in the path is its own namespace, so a RoleBinding there may let one read it.
      const namespace =
        r.resourceType.group === '' && r.resourceType.resource === 'namespaces' && r.name !== undefined
          ? r.name
          : r.resourceType.namespaced
            ? r.namespace
            : undefined;
      const reason = await this.opts.authorizer.authorize(user, {
        verb,
        apiGroup: r.resourceType.group,
        resource: r.resourceType.resource,
        type: r.resourceType,
        ...(namespace !== undefined ? { namespace } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
        ...(r.subresource !== undefined ? { subresource: r.subresource } : {}),
        // A create names its object in the body, not the URL: the authorizer sees it (as NodeRestriction admission does).
        ...(r.verb === 'create' && !r.subresource ? this.peekObject(req, r.resourceType) : {}),
      });
      if (reason !== undefined) {
        throw StatusError.forbidden(
          user.name,
          verb,
          { group: r.resourceType.group, resource: r.subresource ? `${r.resourceType.resource}/${r.subresource}` : r.resourceType.resource },
          r.name,
          namespace,
          reason,
        );
      }
    }
    return user;
  }

  /**
   * `/metrics`, a non-resource URL: authorized as kube-apiserver authorizes
   * one (the method in lower case as the verb, on the path); GET and HEAD only.
   */
  private async serveMetrics(req: ApiRequest): Promise<ApiResponse> {
    const user = await this.caller(req);
    const verb = req.method.toLowerCase();
    const authorizer = this.opts.authorizer;
    if (authorizer) {
      const reason = authorizer.authorizeNonResource
        ? await authorizer.authorizeNonResource(user, { verb, path: '/metrics' })
        : 'no non-resource URL is authorized';
      if (reason !== undefined) throw StatusError.forbiddenPath(user.name, verb, '/metrics', reason);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
    const { contentType, text } = await this.metrics.exposition();
    return { status: 200, headers: { 'content-type': contentType }, text };
  }

  /**
   * ServiceAccount issuer discovery, public as kube's
   * system:service-account-issuer-discovery role makes it (anyone may verify
   * tokens: the documents hold public keys only); GET only, cacheable for an
   * hour as kube serves them.
   */
  private serveIssuerDiscovery(req: ApiRequest, document: 'configuration' | 'jwks'): ApiResponse {
    const issuer = this.opts.serviceAccountTokens;
    if (!issuer) throw StatusError.pathNotFound();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
    const headers = { 'cache-control': 'public, max-age=3600' };
    return document === 'configuration'
      ? json(200, issuer.openIdConfiguration(), headers)
      : json(200, issuer.jwks(), { ...headers, 'content-type': 'application/jwk-set+json' });
  }

  /** metrics.k8s.io NodeMetrics and PodMetrics (lib/apiserver/metrics-api.ts), authorized as resources of that group. */
  private async serveResourceMetrics(req: ApiRequest, r: MetricsRoute): Promise<ApiResponse> {
    const user = await this.caller(req);
    if (this.opts.authorizer) {
      const reason = await this.opts.authorizer.authorize(user, {
        verb: r.verb,
        apiGroup: r.resource.group,
        resource: r.resource.resource,
        type: r.resource,
        ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      });
      if (reason !== undefined) {
        throw StatusError.forbidden(user.name, r.verb, { group: r.resource.group, resource: r.resource.resource }, r.name, r.namespace, reason);
      }
    }
    return json(200, await this.metricsApi.serve(r, req.query));
  }

  /** The body of a create, for the authorizer; a body that does not parse is left to the create path to report. */
  private peekObject(req: ApiRequest, rt: ResourceType): { object?: KObject } {
    try {
      const value = req.object ?? this.decodeBody(req, rt.kind);
      return isPlainObject(value) && isPlainObject(value.metadata) ? { object: value as unknown as KObject } : {};
    } catch {
      return {};
    }
  }

  /** The request body as an object of the route's kind. */
  private decodeObject(req: ApiRequest, rt: ResourceType): { object: KObject; warnings: string[] } {
    const validation = fieldValidationOf(req.query);
    if (req.object !== undefined) return checkObject(rt, req.object, validation);
    const { value, duplicates } = decodeObjectBody(req.body, req.headers['content-type'], rt.kind);
    return checkObject(rt, value, validation, duplicates);
  }

  /** A request body of kind `into` in any media type clients send (JSON, YAML, protobuf). */
  private decodeBody(req: ApiRequest, into: string): unknown {
    return req.object ?? decodeObjectBody(req.body, req.headers['content-type'], into).value;
  }

  private respondObject(req: ApiRequest, rt: ResourceType, status: number, obj: unknown, warnings: string[] = []): ApiResponse {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // A write retried after a conflict is admitted again: each warning once.
    if (warnings.length > 0) headers.warning = [...new Set(warnings)].map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    if (wantsTable(req.headers.accept) && isPlainObject(obj) && obj.kind !== 'Status') {
      const table = tableFor(printerOf(this.kind(rt)), obj as unknown as KObject, req.query.get('includeObject'), this.clock.now());
      if (table) return { status, headers, body: table };
    }
    return { status, headers, body: obj };
  }

  private async resource(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    req = { ...req, user: await this.authorize(req, r) };
    const q = req.query;
    const ns = rt.namespaced ? r.namespace : undefined;
    if (rt.unstored) return this.answer(req, r);
    if (r.subresource) return this.subresource(req, r);

    switch (r.verb) {
      case 'get':
        return this.respondObject(req, rt, 200, await this.rest.get(rt, ns, r.name!));
      case 'list': {
        const limit = intParam(q, 'limit');
        const list = await this.rest.list(rt, ns, {
          labelSelector: q.get('labelSelector') ?? '',
          fieldSelector: q.get('fieldSelector') ?? '',
          ...(limit && limit > 0 ? { limit } : {}),
          ...(q.get('continue') ? { continue: q.get('continue')! } : {}),
          ...(q.get('resourceVersion') ? { resourceVersion: q.get('resourceVersion')! } : {}),
          ...(q.get('resourceVersionMatch') ? { resourceVersionMatch: q.get('resourceVersionMatch')! } : {}),
          ...(q.get('sendInitialEvents') ? { sendInitialEvents: q.get('sendInitialEvents')! } : {}),
        });
        return this.respondObject(req, rt, 200, list);
      }
      case 'watch':
        return this.watch(req, r);
      case 'create': {
        if (this.customResources.terminating(rt)) {
          // As kube's crdHandler: NewMethodNotSupported with its message replaced.
          throw new StatusError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating', {
            group: rt.group,
            kind: rt.resource,
          });
        }
        const { object, warnings } = this.decodeObject(req, rt);
        const created = await this.rest.create(rt, ns, object, { dryRun: isDryRun(q), fieldManager: fieldManagerOf(req), ...writer(req, warnings) });
        return this.respondObject(req, rt, 201, created, warnings);
      }
      case 'update': {
        const { object, warnings } = this.decodeObject(req, rt);
        const updated = await this.rest.update(rt, ns, r.name!, object, { dryRun: isDryRun(q), fieldManager: fieldManagerOf(req), ...writer(req, warnings) });
        return this.respondObject(req, rt, 200, updated, warnings);
      }
      case 'patch': {
        if (mediaType(req.headers['content-type']) === PATCH_TYPES.apply) return this.apply(req, rt, ns, r.name!, undefined);
        const { object, warnings } = await this.patch(req, rt, ns, r.name!, undefined);
        return this.respondObject(req, rt, 200, object, warnings);
      }
      case 'delete': {
        const opts = this.deleteOptions(req);
        const warnings: string[] = [];
        const { object } = await this.rest.delete(rt, ns, r.name!, opts, writer(req, warnings));
        return this.respondObject(req, rt, 200, object, warnings);
      }
      case 'deletecollection': {
        const opts = this.deleteOptions(req);
        const list = await this.rest.list(rt, ns, { labelSelector: q.get('labelSelector') ?? '', fieldSelector: q.get('fieldSelector') ?? '' });
        const items: KObject[] = [];
        for (const item of list.items) {
          try {
            items.push((await this.rest.delete(rt, item.metadata.namespace, item.metadata.name!, opts, writer(req))).object);
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
        }
        return json(200, { ...list, items });
      }
    }
  }

  /**
   * The create of an unstored kind (a review), as kube's create handler
   * serves a rest.Creater: the body decoded and its namespace reconciled
   * with the URL's, then the kind's answer, 201; nothing is stored, so no
   * other verb is served (405) and dry runs change nothing either.
   */
  private async answer(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    const kind = this.kind(rt);
    if (r.verb !== 'create' || r.subresource || !kind.answer)
      throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
    if (rt.namespaced && r.namespace === undefined) throw StatusError.pathNotFound();
    isDryRun(req.query);
    const { object, warnings } = this.decodeObject(req, rt);
    const meta = object.metadata;
    // rest.EnsureObjectNamespaceMatchesRequestNamespace.
    if (!rt.namespaced) delete meta.namespace;
    else if (!meta.namespace) meta.namespace = r.namespace;
    else if (meta.namespace !== r.namespace)
      throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const answered = await kind.answer(object, {
      user: req.user!,
      namespace: r.namespace,
      now: this.clock.now(),
      authenticator: this.opts.authenticator,
      authorizer: this.opts.authorizer,
      apiAudiences: this.opts.apiAudiences ?? DEFAULT_API_AUDIENCES,
      served: (group, resource) => this.kinds.all().find((t) => t.group === group && t.resource === resource),
    });
    return this.respondObject(req, rt, 201, answered, warnings);
  }

  /** Server-side apply: 201 when the apply created the object. */
  private async apply(req: ApiRequest, rt: ResourceType, ns: string | undefined, name: string, subresource: string | undefined): Promise<ApiResponse> {
    const validation = fieldValidationOf(req.query);
    const { value, duplicates } = req.object !== undefined ? { value: req.object, duplicates: [] } : decodePatch(PATCH_TYPES.apply, req.body, validation);
    const res = await serverSideApply(this.rest, this.clock, {
      rt,
      namespace: ns,
      name,
      ...(subresource ? { subresource } : {}),
      body: value,
      duplicates,
      fieldManager: req.query.get('fieldManager'),
      force: req.query.get('force'),
      fieldValidation: validation,
      dryRun: isDryRun(req.query),
      ...(req.user ? { user: req.user } : {}),
    });
    return this.respondObject(req, rt, res.created ? 201 : 200, res.object, res.warnings);
  }

  /**
   * A JSON, merge or strategic merge patch, as kube's patch handler applies
   * it: decoded and bounded (patch.ts), then the result checked as a decoded
   * object would be, its unknown fields dropped (Warn: with warnings, which
   * a retried attempt recomputes) or, under Strict, refused with 422 as
   * kube's patchers refuse them.
   */
  private async patch(
    req: ApiRequest,
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    subresource: string | undefined,
  ): Promise<{ object: KObject; warnings: string[] }> {
    const type = requireMediaType(req.headers['content-type'], PATCH_MEDIA_TYPES) as PatchType;
    const validation = fieldValidationOf(req.query);
    const { value: patchBody, duplicates } = req.object !== undefined ? { value: req.object, duplicates: [] } : decodePatch(type, req.body, validation);
    // Unknown-field warnings of the attempt that wrote; admission's (PodSecurity) are added by the write itself.
    let fieldWarnings: string[] = [];
    const admissionWarnings: string[] = [];
    const object = await this.rest.guaranteedUpdate(
      rt,
      ns,
      name,
      (current) => {
        const patched = applyPatch(current, patchBody, type);
        const result = this.checkPatched(rt, patched, validation, duplicates);
        fieldWarnings = result.warnings;
        const obj = result.object;
        // As Kubernetes' patch handler (checkName): a patch may not move the object to another name or namespace.
        // A patch that removed the name is refused too (kube's namer finds no name to match).
        const patchedName = obj.metadata.name ?? '';
        if (patchedName !== name) {
          throw StatusError.badRequest(`the name of the object (${patchedName}) does not match the name on the URL (${name})`);
        }
        const patchedNs = obj.metadata?.namespace;
        if (rt.namespaced && patchedNs !== undefined && ns !== undefined && patchedNs !== ns) {
          throw StatusError.badRequest(`the namespace of the object (${patchedNs}) does not match the namespace on the request (${ns})`);
        }
        checkResourceVersion(rt, name, obj.metadata?.resourceVersion, current);
        return obj;
      },
      { dryRun: isDryRun(req.query), fieldManager: fieldManagerOf(req), ...writer(req, admissionWarnings), ...(subresource ? { subresource } : {}) },
    );
    return { object, warnings: [...fieldWarnings, ...admissionWarnings] };
  }

  /** What a patch produced, checked as kube's patchers decode it (patch.go applyPatchToCurrentObject). */
  private checkPatched(
    rt: ResourceType,
    patched: unknown,
    validation: FieldValidation,
    duplicates: readonly string[],
  ): { object: KObject; warnings: string[] } {
    if (!isPlainObject(patched)) throw patchInvalid(patched, `Object 'Kind' is missing in '${JSON.stringify(patched) ?? 'null'}'`);
    if (patched.apiVersion !== apiVersionOf(rt) || patched.kind !== rt.kind) {
      throw patchInvalid(
        patched,
        `the object's kind (${String(patched.kind)}) and version (${String(patched.apiVersion)}) cannot change from ${rt.kind} and ${apiVersionOf(rt)}`,
      );
    }
    // A patch that removed metadata leaves Go's zero value, whose empty name checkName then refuses.
    if (patched.metadata === undefined || patched.metadata === null) patched.metadata = {};
    const mismatch = typeMismatch(rt, patched);
    if (mismatch) throw patchInvalid(patched, mismatch);
    const shown = validation === 'Strict' ? (JSON.parse(JSON.stringify(patched)) as unknown) : undefined;
    const found = strictErrors(validation === 'Ignore' ? [] : duplicates, dropUnknownFields(rt, patched));
    if (validation === 'Strict' && found.length > 0) throw patchInvalid(shown, `strict decoding error: ${found.join(', ')}`);
    return { object: patched as unknown as KObject, warnings: validation === 'Warn' ? found : [] };
  }

  private deleteOptions(req: ApiRequest): DeleteOptions {
    let body: Record<string, unknown> = {};
    const raw = req.object ?? (req.body && req.body.length > 0 ? this.decodeBody(req, 'DeleteOptions') : undefined);
    if (raw !== undefined) {
      if (!isPlainObject(raw)) throw StatusError.badRequest('DeleteOptions must be an object');
      body = raw;
    }
    const q = req.query;
    const grace = intParam(q, 'gracePeriodSeconds') ?? (typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined);
    const policy = q.get('propagationPolicy') ?? (typeof body.propagationPolicy === 'string' ? body.propagationPolicy : undefined);
    const orphan = q.get('orphanDependents') ?? (typeof body.orphanDependents === 'boolean' ? String(body.orphanDependents) : undefined);
    const dryRun = isDryRun(q) || (Array.isArray(body.dryRun) && body.dryRun.includes('All'));
    const pre = isPlainObject(body.preconditions) ? body.preconditions : undefined;
    const effectivePolicy = policy ?? (orphan === 'true' ? 'Orphan' : orphan === 'false' ? 'Background' : undefined);
    return {
      ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      ...(effectivePolicy ? { propagationPolicy: effectivePolicy as DeleteOptions['propagationPolicy'] & string } : {}),
      ...(pre
        ? {
            preconditions: {
              ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
              ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
            },
          }
        : {}),
      dryRun,
    };
  }

  private watch(req: ApiRequest, r: ResourceRoute): ApiResponse {
    const q = req.query;
    const rt = r.resourceType;
    const timeoutSeconds = intParam(q, 'timeoutSeconds');
    const sendInitial = q.get('sendInitialEvents');
    if (sendInitial === 'true' && q.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw StatusError.invalid('ListOptions', 'meta.k8s.io', '', [
        {
          type: 'FieldValueForbidden',
          field: 'resourceVersionMatch',
          message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        },
      ]);
    }
    // A custom resource's watch also ends when its CRD goes (or changes), as kube closes them.
    const following = this.customResources.follow(rt);
    const signals = [req.signal, following?.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    let events: AsyncGenerator<WireEvent>;
    try {
      events = openWatch(this.rest, this.store, {
        rt,
        ...(rt.namespaced && r.namespace !== undefined ? { namespace: r.namespace } : {}),
        ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
        ...(sendInitial !== null ? { sendInitialEvents: sendInitial === 'true' } : {}),
        allowBookmarks: q.get('allowWatchBookmarks') === 'true',
        // As kube's watch handler: a negative timeout has already passed (the watch ends at once), zero or none means the server's.
        timeoutMs: timeoutSeconds !== undefined && timeoutSeconds !== 0 ? Math.max(0, timeoutSeconds * 1000) : (this.opts.watchTimeoutMs ?? 30 * 60_000),
        bookmarkIntervalMs: this.opts.bookmarkIntervalMs ?? 60_000,
        labelSelector: q.get('labelSelector') ?? '',
        fieldSelector: q.get('fieldSelector') ?? '',
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      following?.release();
      throw err;
    }
    const table = wantsTable(req.headers.accept);
    const now = () => this.clock.now();
    const printer = printerOf(this.kind(rt));
    async function* framed() {
      let first = true;
      try {
        for await (const ev of events) {
          if (table && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED')) {
            const t = tableFor(printer, ev.object as KObject, q.get('includeObject'), now(), !first);
            first = false;
            yield { type: ev.type, object: t ?? ev.object };
          } else yield ev;
        }
      } finally {
        following?.release();
      }
    }
    return { status: 200, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, events: framed() };
  }

  private async subresource(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    const ns = rt.namespaced ? r.namespace : undefined;
    const name = r.name!;
    const sub = r.subresource!;
    const q = req.query;
    switch (sub) {
      case 'status':
      case 'finalize':
      case 'ephemeralcontainers': {
        if (r.verb === 'get') return this.respondObject(req, rt, 200, await this.rest.get(rt, ns, name));
        if (r.verb === 'update') {
          const { object } = this.decodeObject(req, rt);
          if (object.metadata.name && object.metadata.name !== name) {
            throw StatusError.badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
          }
          const demanded = object.metadata.resourceVersion;
          const updated = await this.rest.guaranteedUpdate(
            rt,
            ns,
            name,
            (current) => {
              checkResourceVersion(rt, name, demanded, current);
              return object;
            },
            { dryRun: isDryRun(q), subresource: sub, fieldManager: fieldManagerOf(req), ...writer(req) },
          );
          return this.respondObject(req, rt, 200, updated);
        }
        if (r.verb === 'patch' && mediaType(req.headers['content-type']) === PATCH_TYPES.apply && sub === 'status') return this.apply(req, rt, ns, name, sub);
        if (r.verb === 'patch') {
          const { object, warnings } = await this.patch(req, rt, ns, name, sub);
          return this.respondObject(req, rt, 200, object, warnings);
        }
        break;
      }
      case 'scale':
        return this.scale(req, r);
      case 'binding':
        if (r.verb === 'create') return this.bind(req, r);
        break;
      case 'eviction':
        if (r.verb === 'create') {
          const body = this.decodeBody(req, 'Eviction') as { metadata?: { name?: string }; deleteOptions?: Record<string, unknown> } | null;
          const opts = this.deleteOptions({ ...req, object: body?.deleteOptions ?? {} });
          const status = await evictPod(this.rest, rt, ns!, name, body?.metadata?.name, opts, this.clock.now());
          return json(status.code, status);
        }
        break;
      case 'token':
        if (r.verb === 'create') {
          const issuer = this.opts.serviceAccountTokens;
          if (!issuer) throw StatusError.pathNotFound();
          const { object, warnings } = await requestToken(
            {
              rest: this.rest,
              issuer,
              now: this.clock.now(),
              ...(this.opts.maxTokenExpirationSeconds !== undefined ? { maxExpirationSeconds: this.opts.maxTokenExpirationSeconds } : {}),
            },
            rt,
            ns!,
            name,
            this.decodeBody(req, 'TokenRequest'),
          );
          const headers: Record<string, string> = warnings.length > 0 ? { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {};
          return json(201, object, headers);
        }
        break;
      case 'log':
        if (r.verb === 'get') {
          const pod = await this.rest.get(rt, ns, name);
          if (!this.opts.podConnector) throw StatusError.badRequest(`no agent serves logs for pod "${name}"`);
          const query = new URLSearchParams(q);
          query.set('container', podContainer(pod, q.get('container')));
          return this.opts.podConnector.logs(pod, query, req.signal);
        }
        break;
      case 'exec':
      case 'attach':
        // Upgraded requests never get here (streamTarget serves them); this is one whose front door
        // dropped the upgrade (a Lambda Function URL does) or a client that never asked for it.
        if (r.verb === 'get' || r.verb === 'create') {
          await this.rest.get(rt, ns, name);
          throw StatusError.badRequest(
            `Upgrade request required: ${sub} needs a WebSocket or SPDY connection upgrade, which this endpoint does not carry (a Lambda Function URL cannot; see docs/agent.md)`,
          );
        }
        break;
    }
    throw StatusError.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }

  /**
   * Checks a `pods/{name}/exec` or `pods/{name}/attach` request before its
   * WebSocket is accepted: authentication, authorization (create on the
   * subresource), the pod and the container; the caller checks the stream
   * options. Failures are StatusErrors to answer instead of upgrading.
   */
  async streamTarget(req: ApiRequest): Promise<{ pod: KObject; subresource: 'exec' | 'attach'; container: string; connector: PodConnector }> {
    const r = route('POST', req.path, req.query, this.kinds);
    if (r.type !== 'resource' || (r.subresource !== 'exec' && r.subresource !== 'attach') || r.resourceType.resource !== 'pods' || !r.name) {
      throw StatusError.pathNotFound();
    }
    await this.authorize(req, r);
    const pod = await this.rest.get(r.resourceType, r.namespace, r.name);
    const connector = this.opts.podConnector;
    if (!connector?.[r.subresource]) throw StatusError.badRequest(`no agent serves ${r.subresource} for pod "${r.name}"`);
    return { pod, subresource: r.subresource, container: podContainer(pod, req.query.get('container')), connector };
  }

  /** autoscaling/v1 Scale view of a workload's replicas. */
  private async scale(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    const ns = r.namespace;
    const name = r.name!;
    const paths = rt.scalePaths;
    const toScale = (obj: KObject) => {
      const spec = (obj.spec ?? {}) as { replicas?: number; selector?: LabelSelector | Record<string, string> | null };
      const status = (obj.status ?? {}) as { replicas?: number };
      // A custom resource's Scale reads the CRD's paths (kube's scale subresource for custom resources); a missing value reads as 0 or "".
      const replicas = paths ? valueAt(obj, paths.specReplicas) : spec.replicas;
      const current = paths ? valueAt(obj, paths.statusReplicas) : status.replicas;
      const selector = paths
        ? paths.labelSelector
          ? valueAt(obj, paths.labelSelector)
          : ''
        : formatSelector(fromLabelSelector(asLabelSelector(spec.selector)));
      return {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: {
          name,
          namespace: ns,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
          creationTimestamp: obj.metadata.creationTimestamp,
        },
        spec: { replicas: typeof replicas === 'number' ? replicas : 0 },
        status: { replicas: typeof current === 'number' ? current : 0, selector: typeof selector === 'string' ? selector : '' },
      };
    };
    if (r.verb === 'get') return json(200, toScale(await this.rest.get(rt, ns, name)));
    if (r.verb !== 'update' && r.verb !== 'patch') throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
    const type = r.verb === 'update' ? undefined : (requireMediaType(req.headers['content-type'], PATCH_MEDIA_TYPES) as PatchType);
    const body = r.verb === 'update' ? this.decodeBody(req, 'Scale') : (req.object ?? decodePatch(type!, req.body, 'Ignore').value);
    const updated = await this.rest.guaranteedUpdate(
      rt,
      ns,
      name,
      (current) => {
        const scale =
          type === undefined ? body : applyPatch(toScale(current) as unknown as KObject, body, type === PATCH_TYPES.apply ? PATCH_TYPES.merge : type);
        if (!isPlainObject(scale)) throw patchInvalid(scale, `Object 'Kind' is missing in '${JSON.stringify(scale) ?? 'null'}'`);
        const s = scale as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
        checkResourceVersion(rt, name, s.metadata?.resourceVersion, current);
        const replicas = s.spec?.replicas;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
          throw StatusError.invalid('Scale', 'autoscaling', name, [
            { type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
          ]);
        }
        return paths ? withValueAt(current, paths.specReplicas, replicas) : { ...current, spec: { ...(current.spec as object), replicas } };
      },
      { dryRun: isDryRun(req.query), subresource: 'scale', fieldManager: fieldManagerOf(req) },
    );
    return json(200, toScale(updated));
  }

  /** pods/{name}/binding: sets spec.nodeName once; a second binding is a conflict, so racing schedulers cannot both win. */
  private async bind(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    const name = r.name!;
    const body = this.decodeBody(req, 'Binding');
    const binding = body as { target?: { name?: string; kind?: string }; metadata?: { name?: string } };
    const node = binding?.target?.name;
    if (!node) throw StatusError.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    if (binding.metadata?.name && binding.metadata.name !== name) {
      throw StatusError.badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
    }
    // Kubernetes reports binding conflicts against "pods/binding" (BindingREST.assignPod).
    const bindingRef = { group: '', resource: 'pods/binding' };
    await this.rest.guaranteedUpdate(
      rt,
      r.namespace,
      name,
      (current) => {
        const spec = (current.spec ?? {}) as { nodeName?: string };
        if (current.metadata.deletionTimestamp) {
          throw StatusError.conflict(bindingRef, name, `pod ${name} is being deleted, cannot be assigned to a host`);
        }
        if (spec.nodeName) {
          throw StatusError.conflict(bindingRef, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
        }
        // As setPodScheduled: binding also marks the pod PodScheduled=True.
        const status = (current.status ?? {}) as { conditions?: { type: string; status: string }[] };
        const scheduled = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(this.clock.now()) };
        const existing = status.conditions ?? [];
        const conditions = existing.some((c) => c.type === 'PodScheduled')
          ? existing.map((c) => (c.type !== 'PodScheduled' || c.status === 'True' ? c : scheduled))
          : [...existing, scheduled];
        return { ...current, spec: { ...spec, nodeName: node }, status: { ...status, conditions } };
      },
      { dryRun: isDryRun(req.query), subresource: 'binding' },
    );
    return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
}

/**
 * A workload's selector as metav1.LabelSelector: a ReplicationController's is
 * a label map (every value a string), which a LabelSelector never is (its
 * matchLabels and matchExpressions are objects).
 */
function asLabelSelector(selector: LabelSelector | Record<string, string> | null | undefined): LabelSelector | null | undefined {
  if (!selector || !Object.values(selector).every((v) => typeof v === 'string')) return selector as LabelSelector | null | undefined;
  return Object.keys(selector).length > 0 ? { matchLabels: selector as Record<string, string> } : selector;
}

export { apiVersionOf };
