/**
 * A typed Kubernetes client over any Transport: paths built from the
 * resource registry, Status bodies turned back into StatusErrors, watches as
 * async iterables. Controllers, the scheduler, the agent and the CLI all use
 * this, whichever transport they run on.
 */
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { StatusError, type Status, isNotFound } from '../api/errors.js';
import type { DeleteOptions } from '../api/meta/v1/delete-options.js';
import type { KList } from '../api/meta/v1/list.js';
import type { Transport, TransportRequest } from './transport.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  allowBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KObject;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  if (rt.namespaced && namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${rt.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** Turns a non-2xx response into a StatusError, keeping the server's Status when there is one. */
export function errorFrom(status: number, body: unknown): StatusError {
  const s = body as Partial<Status> | undefined;
  if (s && typeof s === 'object' && s.kind === 'Status') {
    return new StatusError(s.code ?? status, s.reason ?? 'InternalError', s.message ?? `status ${status}`, s.details);
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new StatusError(status, status === 404 ? 'NotFound' : 'InternalError', `the server responded with status ${status}: ${text.slice(0, 200)}`);
}

function writeQuery(opts: WriteOptions | undefined): URLSearchParams {
  const q = new URLSearchParams();
  if (opts?.dryRun) q.set('dryRun', 'All');
  if (opts?.fieldManager) q.set('fieldManager', opts.fieldManager);
  if (opts?.fieldValidation) q.set('fieldValidation', opts.fieldValidation);
  return q;
}

export class KubeClient {
  constructor(readonly transport: Transport) {}

  async call<T>(req: TransportRequest): Promise<T> {
    const res = await this.transport.request(req);
    if (res.status < 200 || res.status >= 300) throw errorFrom(res.status, res.body);
    return res.body as T;
  }

  get<T extends KObject = KObject>(rt: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.call<T>({ method: 'GET', path: resourcePath(rt, namespace, name) });
  }

  /** Like get, but undefined instead of a NotFound error. */
  async find<T extends KObject = KObject>(rt: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get<T>(rt, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T extends KObject = KObject>(rt: ResourceType, namespace: string | undefined, opts: ListOptions = {}): Promise<Omit<KList, 'items'> & { items: T[] }> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.continue) q.set('continue', opts.continue);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    return this.call({ method: 'GET', path: resourcePath(rt, namespace), query: q });
  }

  /** Every page of a list. */
  async listAll<T extends KObject = KObject>(
    rt: ResourceType,
    namespace: string | undefined,
    opts: ListOptions = {},
  ): Promise<Omit<KList, 'items'> & { items: T[] }> {
    const first = await this.list<T>(rt, namespace, opts);
    // Later pages name only the token, which carries what the first page read at (a resourceVersion beside it is refused).
    const { resourceVersion: _rv, ...rest } = opts;
    let cont = first.metadata.continue;
    while (cont) {
      const page = await this.list<T>(rt, namespace, { ...rest, continue: cont });
      first.items.push(...page.items);
      cont = page.metadata.continue;
    }
    delete first.metadata.continue;
    return first;
  }

  create<T extends KObject = KObject>(rt: ResourceType, namespace: string | undefined, obj: KObject, opts?: WriteOptions): Promise<T> {
    const body = { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(rt), kind: obj.kind ?? rt.kind };
    return this.call<T>({ method: 'POST', path: resourcePath(rt, namespace), query: writeQuery(opts), body });
  }

  update<T extends KObject = KObject>(rt: ResourceType, obj: KObject, opts?: WriteOptions): Promise<T> {
    return this.call<T>({ method: 'PUT', path: resourcePath(rt, obj.metadata.namespace, obj.metadata.name), query: writeQuery(opts), body: obj });
  }

  updateStatus<T extends KObject = KObject>(rt: ResourceType, obj: KObject, opts?: WriteOptions): Promise<T> {
    return this.call<T>({ method: 'PUT', path: resourcePath(rt, obj.metadata.namespace, obj.metadata.name, 'status'), query: writeQuery(opts), body: obj });
  }

  patch<T extends KObject = KObject>(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: 'merge' | 'json' | 'strategic' = 'merge',
    opts: WriteOptions & { subresource?: string } = {},
  ): Promise<T> {
    const contentType = { merge: 'application/merge-patch+json', json: 'application/json-patch+json', strategic: 'application/strategic-merge-patch+json' }[
      type
    ];
    return this.call<T>({ method: 'PATCH', path: resourcePath(rt, namespace, name, opts.subresource), query: writeQuery(opts), body: patch, contentType });
  }

  delete<T = KObject>(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.dryRun) body.dryRun = ['All'];
    return this.call<T>({ method: 'DELETE', path: resourcePath(rt, namespace, name), body });
  }

  /** A watch stream. Ends when the server ends it or the signal aborts; errors before streaming throw. */
  async watch(rt: ResourceType, namespace: string | undefined, opts: WatchOptions, signal?: AbortSignal): Promise<AsyncIterable<WatchEvent>> {
    const q = new URLSearchParams({ watch: 'true' });
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    if (opts.allowBookmarks) q.set('allowWatchBookmarks', 'true');
    if (opts.timeoutSeconds) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    if (opts.sendInitialEvents) {
      q.set('sendInitialEvents', 'true');
      q.set('resourceVersionMatch', 'NotOlderThan');
    }
    const res = await this.transport.stream({ method: 'GET', path: resourcePath(rt, namespace), query: q, ...(signal ? { signal } : {}) });
    if (!res.events) throw errorFrom(res.status, res.body);
    return res.events as AsyncIterable<WatchEvent>;
  }
}
