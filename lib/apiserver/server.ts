/**
 * The API server core: a request in, a response out, for every front door
 * (local HTTP server, Lambda, in-process client). Routing, authentication and
 * authorization hooks, content negotiation, and the Kubernetes REST verbs
 * over the generic storage in rest.ts.
 */
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { formatSelector, fromLabelSelector } from '../api/labels.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { isPlainObject } from '../util/json.js';
import type { Store } from '../store/types.js';
import { checkObject, fieldValidationOf, mediaType, parseBody } from './decode.js';
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  wantsAggregated,
} from './discovery.js';
import { StatusError } from './errors.js';
import { applyPatch, PATCH_TYPES } from './patch.js';
import { type DeleteOptions, requiredResourceVersion, RestStorage } from './rest.js';
import { route, type ResourceRoute } from './router.js';
import { strategies } from './strategies/index.js';
import type { AdmissionConfig } from './strategy.js';
import type { ApiRequest, ApiResponse, UserInfo } from './types.js';
import { openWatch } from './watch.js';
import { OPENAPI_V2_CONTENT_TYPE, OPENAPI_V2_DOCUMENT, openApiDocument, openApiIndex } from './openapi.js';
import { tableFor, wantsTable } from './table.js';
import { decodeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { parseApplyBody, serverSideApply, validateFieldManager } from './apply.js';

export interface Authorizer {
  /** Returns undefined to allow, or a reason to refuse with 403. */
  authorize(user: UserInfo, attrs: { verb: string; resource: ResourceType; namespace?: string; name?: string; subresource?: string; object?: KObject }): Promise<string | undefined>;
}

export interface Authenticator {
  /** Returns the caller, or undefined if the request carries no valid credential. */
  authenticate(req: ApiRequest): Promise<UserInfo | undefined>;
}

/** What `pods/exec` asks for, validated (lib/agent/exec-channel.ts execParams). */
export interface PodExecRequest {
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The two ends of an exec: input from the client, output back to it. */
export interface PodExecIO {
  stdin?: AsyncIterable<Uint8Array>;
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  resize?: AsyncIterable<{ width: number; height: number }>;
  signal?: AbortSignal;
}

/** Serves pods' logs and exec from the agent that runs them (lib/agent/connector.ts). */
export interface PodConnector {
  /** `query` carries the resolved `container` and the log options. */
  logs(pod: KObject, query: URLSearchParams, signal: AbortSignal | undefined): Promise<ApiResponse>;
  /** Runs the command; resolves with its exit code. */
  exec?(pod: KObject, req: PodExecRequest, io: PodExecIO): Promise<number>;
}

/**
 * The container a log or exec request means: the named one, which must be in
 * the pod, else the only one (as kube-apiserver's pod strategy picks it).
 */
export function podContainer(pod: KObject, name: string | null | undefined): string {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name?: string }[] };
  const containers = (spec.containers ?? []).map((c) => c.name);
  const inits = (spec.initContainers ?? []).map((c) => c.name);
  const podName = pod.metadata.name ?? '';
  if (name) {
    if (!containers.includes(name) && !inits.includes(name)) throw StatusError.badRequest(`container ${name} is not valid for pod ${podName}`);
    return name;
  }
  if (containers.length === 1) return containers[0]!;
  const initPart = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : '';
  throw StatusError.badRequest(`a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]${initPart}`);
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
  admission?: Partial<AdmissionConfig>;
}

const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
export const ADMIN: UserInfo = { name: 'kumo-admin', groups: ['system:masters', 'system:authenticated'] };

export const VERSION_INFO = {
  major: '1',
  minor: '35',
  gitVersion: 'v1.35.0-kumo',
  gitCommit: 'kumo',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'n/a',
  compiler: 'kumo',
  platform: `${process.platform}/${process.arch}`,
};

/** Warnings Kubernetes attaches to every response about a core/v1 resource (KEP-4974 deprecates v1 Endpoints). */
const RESOURCE_WARNINGS: Readonly<Record<string, string>> = {
  endpoints: 'v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice',
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body };
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw StatusError.badRequest(`invalid ${name}: ${v}`);
  return Number(v);
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

export class ApiServer {
  readonly rest: RestStorage;
  readonly store: Store;
  private readonly clock: Clock;
  private readonly opts: ApiServerOptions;

  constructor(opts: ApiServerOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.rest = new RestStorage(opts.store, this.clock, strategies, { ...opts.admission, defaultTolerationSeconds: opts.admission?.defaultTolerationSeconds ?? 300 });
  }

  /** Handles one request. Never throws: failures become Status responses. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      return await this.dispatch(req);
    } catch (err) {
      if (err instanceof StatusError) return json(err.code, err.toStatus());
      const message = err instanceof Error ? err.message : String(err);
      console.error(`kumo apiserver: ${req.method} ${req.path}: ${err instanceof Error ? (err.stack ?? message) : message}`);
      return json(500, StatusError.internal(message).toStatus());
    }
  }

  private async dispatch(req: ApiRequest): Promise<ApiResponse> {
    const r = route(req.method, req.path, req.query);
    const accept = req.headers.accept;
    switch (r.type) {
      case 'version':
        return json(200, VERSION_INFO);
      case 'health':
        return { status: 200, headers: { 'content-type': 'text/plain' }, text: 'ok' };
      case 'core-versions':
        return wantsAggregated(accept) ? json(200, aggregatedDiscovery(true), { 'content-type': AGGREGATED_CONTENT_TYPE }) : json(200, apiVersions());
      case 'group-list':
        return wantsAggregated(accept) ? json(200, aggregatedDiscovery(false), { 'content-type': AGGREGATED_CONTENT_TYPE }) : json(200, apiGroupList());
      case 'group': {
        const doc = apiGroupDocument(r.group);
        if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
        return json(200, doc);
      }
      case 'resource-list': {
        const doc = apiResourceList(r.group, r.version);
        if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
        return json(200, doc);
      }
      case 'openapi': {
        if (r.rest.length === 1 && r.rest[0] === 'v2') return { status: 200, headers: { 'content-type': OPENAPI_V2_CONTENT_TYPE }, text: OPENAPI_V2_DOCUMENT };
        const doc = r.rest.length === 1 && r.rest[0] === 'v3' ? openApiIndex() : r.rest[0] === 'v3' ? openApiDocument(r.rest.slice(1).join('/')) : undefined;
        if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
        return json(200, doc);
      }
      case 'not-found':
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      case 'resource': {
        const res = await this.resource(req, r);
        const warning = r.resourceType.group === '' ? RESOURCE_WARNINGS[r.resourceType.resource] : undefined;
        if (warning) {
          const header = `299 - ${JSON.stringify(warning)}`;
          res.headers = { ...res.headers, warning: res.headers?.warning ? `${res.headers.warning}, ${header}` : header };
        }
        return res;
      }
    }
  }

  private async authorize(req: ApiRequest, r: ResourceRoute): Promise<UserInfo> {
    let user = req.user;
    if (!user && this.opts.authenticator) {
      user = await this.opts.authenticator.authenticate(req);
      if (!user) throw StatusError.unauthorized();
    }
    user ??= this.opts.authenticator ? ANONYMOUS : ADMIN;
    if (this.opts.authorizer) {
      const verb = r.subresource === 'log' || r.subresource === 'exec' ? (r.subresource === 'exec' ? 'create' : 'get') : r.verb;
      const reason = await this.opts.authorizer.authorize(user, {
        verb,
        resource: r.resourceType,
        ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
        ...(r.subresource !== undefined ? { subresource: r.subresource } : {}),
        // A create names its object in the body, not the URL: the authorizer sees it (as NodeRestriction admission does).
        ...(r.verb === 'create' && !r.subresource ? this.peekObject(req) : {}),
      });
      if (reason !== undefined) {
        throw StatusError.forbidden(user.name, verb, { group: r.resourceType.group, resource: r.subresource ? `${r.resourceType.resource}/${r.subresource}` : r.resourceType.resource }, r.name, r.resourceType.namespaced ? r.namespace : undefined, reason);
      }
    }
    return user;
  }

  /** The body of a create, for the authorizer; a body that does not parse is left to the create path to report. */
  private peekObject(req: ApiRequest): { object?: KObject } {
    try {
      const value = req.object ?? this.decodeBody(req);
      return isPlainObject(value) && isPlainObject(value.metadata) ? { object: value as unknown as KObject } : {};
    } catch {
      return {};
    }
  }

  /** The request body as an object of the route's kind. */
  private decodeObject(req: ApiRequest, rt: ResourceType): { object: KObject; warnings: string[] } {
    const validation = fieldValidationOf(req.query);
    let value = req.object;
    if (value === undefined) {
      const type = mediaType(req.headers['content-type']);
      value = type === PROTOBUF_CONTENT_TYPE ? decodeProtobuf(req.body) : parseBody(req.body, req.headers['content-type']);
    }
    return checkObject(rt, value, validation);
  }

  /** A request body in any content type clients send (JSON, YAML, protobuf). */
  private decodeBody(req: ApiRequest): unknown {
    return mediaType(req.headers['content-type']) === PROTOBUF_CONTENT_TYPE ? decodeProtobuf(req.body) : parseBody(req.body, req.headers['content-type']);
  }

  private respondObject(req: ApiRequest, rt: ResourceType, status: number, obj: unknown, warnings: string[] = []): ApiResponse {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // A write retried after a conflict is admitted again: each warning once.
    if (warnings.length > 0) headers.warning = [...new Set(warnings)].map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    if (wantsTable(req.headers.accept) && isPlainObject(obj) && obj.kind !== 'Status') {
      const table = tableFor(rt, obj as unknown as KObject, req.query.get('includeObject'), this.clock.now());
      if (table) return { status, headers, body: table };
    }
    return { status, headers, body: obj };
  }

  private async resource(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    req = { ...req, user: await this.authorize(req, r) };
    const q = req.query;
    const ns = rt.namespaced ? r.namespace : undefined;
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
        const warnings: string[] = [];
        const updated = await this.patch(req, rt, ns, r.name!, undefined, warnings);
        return this.respondObject(req, rt, 200, updated, warnings);
      }
      case 'delete': {
        const opts = this.deleteOptions(req);
        const { object } = await this.rest.delete(rt, ns, r.name!, opts);
        return this.respondObject(req, rt, 200, object);
      }
      case 'deletecollection': {
        const opts = this.deleteOptions(req);
        const list = await this.rest.list(rt, ns, { labelSelector: q.get('labelSelector') ?? '', fieldSelector: q.get('fieldSelector') ?? '' });
        const items: KObject[] = [];
        for (const item of list.items) {
          try {
            items.push((await this.rest.delete(rt, item.metadata.namespace, item.metadata.name!, opts)).object);
          } catch (err) {
            if (!(err instanceof StatusError && err.code === 404)) throw err;
          }
        }
        return json(200, { ...list, items });
      }
    }
  }

  /** Server-side apply: 201 when the apply created the object. */
  private async apply(req: ApiRequest, rt: ResourceType, ns: string | undefined, name: string, subresource: string | undefined): Promise<ApiResponse> {
    const res = await serverSideApply(this.rest, this.clock, {
      rt,
      namespace: ns,
      name,
      ...(subresource ? { subresource } : {}),
      body: req.object ?? parseApplyBody(req.body),
      fieldManager: req.query.get('fieldManager'),
      force: req.query.get('force'),
      fieldValidation: fieldValidationOf(req.query),
      dryRun: isDryRun(req.query),
      ...(req.user ? { user: req.user } : {}),
    });
    return this.respondObject(req, rt, res.created ? 201 : 200, res.object, res.warnings);
  }

  private async patch(req: ApiRequest, rt: ResourceType, ns: string | undefined, name: string, subresource: string | undefined, warnings: string[] = []): Promise<KObject> {
    const type = mediaType(req.headers['content-type']);
    if (!(Object.values(PATCH_TYPES) as string[]).includes(type) || type === PATCH_TYPES.apply) throw StatusError.unsupportedMediaType(type);
    const patchBody = req.object ?? parseBody(req.body, 'application/json');
    return this.rest.guaranteedUpdate(
      rt,
      ns,
      name,
      (current) => {
        const patched = applyPatch(current, patchBody, type);
        // As Kubernetes' patch handler (checkName): a patch may not move the object to another name or namespace.
        const patchedName = patched.metadata?.name;
        if (patchedName !== undefined && patchedName !== name) {
          throw StatusError.badRequest(`the name of the object (${patchedName}) does not match the name on the URL (${name})`);
        }
        const patchedNs = patched.metadata?.namespace;
        if (rt.namespaced && patchedNs !== undefined && ns !== undefined && patchedNs !== ns) {
          throw StatusError.badRequest(`the namespace of the object (${patchedNs}) does not match the namespace on the request (${ns})`);
        }
        const rv = requiredResourceVersion(patched.metadata?.resourceVersion);
        if (rv && rv !== current.metadata.resourceVersion) {
          throw StatusError.conflict({ group: rt.group, resource: rt.resource }, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        return checkObject(rt, patched, 'Ignore').object;
      },
      { dryRun: isDryRun(req.query), fieldManager: fieldManagerOf(req), ...writer(req, warnings), ...(subresource ? { subresource } : {}) },
    );
  }

  private deleteOptions(req: ApiRequest): DeleteOptions {
    let body: Record<string, unknown> = {};
    const raw = req.object ?? (req.body && req.body.length > 0 ? this.decodeBody(req) : undefined);
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
        { type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" },
      ]);
    }
    const events = openWatch(this.rest, this.store, {
      rt,
      ...(rt.namespaced && r.namespace !== undefined ? { namespace: r.namespace } : {}),
      ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
      ...(sendInitial !== null ? { sendInitialEvents: sendInitial === 'true' } : {}),
      allowBookmarks: q.get('allowWatchBookmarks') === 'true',
      timeoutMs: timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : (this.opts.watchTimeoutMs ?? 30 * 60_000),
      bookmarkIntervalMs: this.opts.bookmarkIntervalMs ?? 60_000,
      labelSelector: q.get('labelSelector') ?? '',
      fieldSelector: q.get('fieldSelector') ?? '',
      ...(req.signal ? { signal: req.signal } : {}),
    });
    const table = wantsTable(req.headers.accept);
    const now = () => this.clock.now();
    async function* framed() {
      let first = true;
      for await (const ev of events) {
        if (table && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED')) {
          const t = tableFor(rt, ev.object as KObject, q.get('includeObject'), now(), !first);
          first = false;
          yield { type: ev.type, object: t ?? ev.object };
        } else yield ev;
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
      case 'finalize': {
        if (r.verb === 'get') return this.respondObject(req, rt, 200, await this.rest.get(rt, ns, name));
        if (r.verb === 'update') {
          const { object } = this.decodeObject(req, rt);
          if (object.metadata.name && object.metadata.name !== name) {
            throw StatusError.badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
          }
          const expected = requiredResourceVersion(object.metadata.resourceVersion);
          const updated = await this.rest.guaranteedUpdate(
            rt,
            ns,
            name,
            (current) => {
              if (expected && expected !== current.metadata.resourceVersion) {
                throw StatusError.conflict({ group: rt.group, resource: rt.resource }, name, 'the object has been modified; please apply your changes to the latest version and try again');
              }
              return object;
            },
            { dryRun: isDryRun(q), subresource: sub, fieldManager: fieldManagerOf(req), ...writer(req) },
          );
          return this.respondObject(req, rt, 200, updated);
        }
        if (r.verb === 'patch' && mediaType(req.headers['content-type']) === PATCH_TYPES.apply && sub === 'status') return this.apply(req, rt, ns, name, sub);
        if (r.verb === 'patch') return this.respondObject(req, rt, 200, await this.patch(req, rt, ns, name, sub));
        break;
      }
      case 'scale':
        return this.scale(req, r);
      case 'binding':
        if (r.verb === 'create') return this.bind(req, r);
        break;
      case 'eviction':
        if (r.verb === 'create') {
          const body = (req.object ?? this.decodeBody(req)) as { deleteOptions?: Record<string, unknown> };
          const opts = this.deleteOptions({ ...req, object: body?.deleteOptions ?? {} });
          await this.rest.delete(rt, ns, name, opts);
          return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
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
        // Upgraded exec requests never get here (execTarget serves them); this is one whose front door
        // dropped the upgrade (a Lambda Function URL does) or a client that never asked for it.
        if (r.verb === 'get' || r.verb === 'create') {
          await this.rest.get(rt, ns, name);
          throw StatusError.badRequest('Upgrade request required: exec needs a WebSocket or SPDY connection upgrade, which this endpoint does not carry (a Lambda Function URL cannot; see docs/agent.md)');
        }
        break;
    }
    throw StatusError.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }

  /**
   * Checks a `pods/{name}/exec` request before its WebSocket is accepted:
   * authentication, authorization (create on pods/exec), the pod, the
   * container and the exec options. Failures are StatusErrors to answer
   * instead of upgrading.
   */
  async execTarget(req: ApiRequest, parse: (query: URLSearchParams, container: string) => PodExecRequest): Promise<{ pod: KObject; exec: PodExecRequest; connector: PodConnector }> {
    const r = route('POST', req.path, req.query);
    if (r.type !== 'resource' || r.subresource !== 'exec' || r.resourceType.resource !== 'pods' || !r.name) {
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    }
    await this.authorize(req, r);
    const pod = await this.rest.get(r.resourceType, r.namespace, r.name);
    const connector = this.opts.podConnector;
    if (!connector?.exec) throw StatusError.badRequest(`no agent serves exec for pod "${r.name}"`);
    return { pod, exec: parse(req.query, podContainer(pod, req.query.get('container'))), connector };
  }

  /** autoscaling/v1 Scale view of a workload's replicas. */
  private async scale(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    const ns = r.namespace;
    const name = r.name!;
    const toScale = (obj: KObject) => {
      const spec = (obj.spec ?? {}) as { replicas?: number; selector?: Parameters<typeof fromLabelSelector>[0] };
      const status = (obj.status ?? {}) as { replicas?: number };
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
        spec: { replicas: spec.replicas ?? 0 },
        status: { replicas: status.replicas ?? 0, selector: formatSelector(fromLabelSelector(spec.selector)) },
      };
    };
    if (r.verb === 'get') return json(200, toScale(await this.rest.get(rt, ns, name)));
    if (r.verb !== 'update' && r.verb !== 'patch') throw StatusError.methodNotAllowed('the server does not allow this method on the requested resource');
    const type = mediaType(req.headers['content-type']);
    const body = req.object ?? (type === PROTOBUF_CONTENT_TYPE ? decodeProtobuf(req.body) : parseBody(req.body, type === PATCH_TYPES.apply ? 'application/yaml' : 'application/json'));
    const updated = await this.rest.guaranteedUpdate(
      rt,
      ns,
      name,
      (current) => {
        const scale = r.verb === 'update' ? body : applyPatch(toScale(current) as unknown as KObject, body, type === PATCH_TYPES.apply ? PATCH_TYPES.merge : type);
        const s = scale as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
        const rv = requiredResourceVersion(s.metadata?.resourceVersion);
        if (rv && rv !== current.metadata.resourceVersion) {
          throw StatusError.conflict({ group: rt.group, resource: rt.resource }, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        const replicas = s.spec?.replicas;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
          throw StatusError.invalid('Scale', 'autoscaling', name, [
            { type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
          ]);
        }
        return { ...current, spec: { ...(current.spec as object), replicas } };
      },
      { dryRun: isDryRun(req.query), subresource: 'scale', fieldManager: fieldManagerOf(req) },
    );
    return json(200, toScale(updated));
  }

  /** pods/{name}/binding: sets spec.nodeName once; a second binding is a conflict, so racing schedulers cannot both win. */
  private async bind(req: ApiRequest, r: ResourceRoute): Promise<ApiResponse> {
    const rt = r.resourceType;
    const name = r.name!;
    const body = req.object ?? this.decodeBody(req);
    const binding = body as { target?: { name?: string; kind?: string }; metadata?: { name?: string } };
    const node = binding?.target?.name;
    if (!node) throw StatusError.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    if (binding.metadata?.name && binding.metadata.name !== name) {
      throw StatusError.badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
    }
    // Kubernetes reports binding conflicts against "pods/binding" (BindingREST.assignPod).
    const bindingRef = { group: '', resource: 'pods/binding' };
    await this.rest.guaranteedUpdate(rt, r.namespace, name, (current) => {
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
    }, { dryRun: isDryRun(req.query), subresource: 'binding' });
    return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
}

export { apiVersionOf };
