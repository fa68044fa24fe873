/**
 * A Store that counts and times every operation of the store it wraps, under
 * kube-apiserver's names for its storage calls (etcd_request_duration_seconds,
 * etcd_requests_total, etcd_request_errors_total, labelled operation, group
 * and resource): the store holds etcd's place, so dashboards built for
 * kube-apiserver read kumo's unchanged. Operations are the Store's verbs;
 * `currentRevision` and `compact` have no etcd3-store counterpart and keep
 * their own names.
 *
 * An error is a failure of the store (throttling, I/O, the network), not an
 * answer: a create on a taken key, a compacted revision and a bad continue
 * token are results the callers act on, as a compare-and-swap miss is, and
 * are not counted as errors (kube-apiserver's etcd3 store does the same for
 * a key that exists). Watches are long-lived feeds, not requests, and pass
 * through uncounted.
 */
import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';
import type { KObject, ObjectKey } from '../api/object.js';
import type { ResourceRegistry } from '../api/registry.js';
import { KUBE_LATENCY_BUCKETS, type Stopwatch, systemStopwatch } from '../util/stopwatch.js';
import {
  AlreadyExistsError,
  type CasResult,
  CompactedError,
  InvalidContinueError,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type WatchOptions,
} from './types.js';

type Labels = 'operation' | 'group' | 'resource';

/** Errors that are answers, not failures of the store. */
function isAnswer(err: unknown): boolean {
  return err instanceof AlreadyExistsError || err instanceof CompactedError || err instanceof InvalidContinueError;
}

export class InstrumentedStore implements Store {
  private readonly durations: Histogram<Labels>;
  private readonly requests: Counter<Labels>;
  private readonly errors: Counter<Labels>;

  constructor(
    private readonly inner: Store,
    registry: Registry,
    /** The kinds served, for each resource's group label. */
    private readonly kinds: ResourceRegistry,
    private readonly stopwatch: Stopwatch = systemStopwatch,
  ) {
    const registers = [registry];
    const labelNames = ['operation', 'group', 'resource'] as const;
    this.durations = new Histogram({
      name: 'etcd_request_duration_seconds',
      help: 'Etcd request latency in seconds for each operation and object type.',
      labelNames,
      buckets: [...KUBE_LATENCY_BUCKETS],
      registers,
    });
    this.requests = new Counter({ name: 'etcd_requests_total', help: 'Etcd request counts for each operation and object type.', labelNames, registers });
    this.errors = new Counter({
      name: 'etcd_request_errors_total',
      help: 'Etcd failed request counts for each operation and object type.',
      labelNames,
      registers,
    });
  }

  private async timed<T>(operation: string, resource: string, call: () => Promise<T>): Promise<T> {
    const labels = { operation, group: this.kinds.byStoreKey(resource)?.group ?? '', resource };
    const started = this.stopwatch();
    try {
      return await call();
    } catch (err) {
      if (!isAnswer(err)) this.errors.inc(labels);
      throw err;
    } finally {
      this.requests.inc(labels);
      this.durations.observe(labels, (this.stopwatch() - started) / 1000);
    }
  }

  create(key: ObjectKey, obj: KObject): Promise<KObject> {
    return this.timed('create', key.resource, () => this.inner.create(key, obj));
  }

  get(key: ObjectKey): Promise<KObject | undefined> {
    return this.timed('get', key.resource, () => this.inner.get(key));
  }

  update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    return this.timed('update', key.resource, () => this.inner.update(key, obj, prev));
  }

  delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    return this.timed('delete', key.resource, () => this.inner.delete(key, prev));
  }

  list(resource: string, opts?: ListOptions): Promise<ListResult> {
    return this.timed('list', resource, () => this.inner.list(resource, opts));
  }

  currentRevision(resource: string): Promise<number> {
    return this.timed('currentRevision', resource, () => this.inner.currentRevision(resource));
  }

  watch(resource: string, opts: WatchOptions): AsyncIterable<StoreEvent> {
    return this.inner.watch(resource, opts);
  }

  compact(): Promise<void> {
    return this.timed('compact', '', () => this.inner.compact());
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
