/**
 * Watch streams: initial state (when asked for), then every change after a
 * resourceVersion in order, filtered by namespace and selectors, with
 * bookmarks and a deadline. An object that stops matching a selector is
 * reported DELETED to that watcher, one that starts matching ADDED, as the
 * Kubernetes watch cache does.
 */
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { storeResource } from '../api/store-key.js';
import { CompactedError, type Store, type StoreEvent } from '../store/types.js';
import { AsyncQueue } from '../util/async-queue.js';
import { StatusError } from '../api/errors.js';
import { compileSelectors, type RestStorage } from './rest.js';

export type WireEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WireEvent {
  type: WireEventType;
  object: unknown;
}

export interface WatchRequest {
  rt: ResourceType;
  namespace?: string;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  /** The stream ends after this long. */
  timeoutMs: number;
  /** A bookmark is sent after this long without events (when bookmarks are allowed). */
  bookmarkIntervalMs: number;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
}

export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

function bookmark(rt: ResourceType, revision: number, initialEnd = false): WireEvent {
  return {
    type: 'BOOKMARK',
    object: {
      kind: rt.kind,
      apiVersion: apiVersionOf(rt),
      metadata: { resourceVersion: String(revision), ...(initialEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}) },
    },
  };
}

export function expired(message: string): WireEvent {
  return { type: 'ERROR', object: StatusError.gone(message).toStatus() };
}

function parseRevision(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  if (!/^\d+$/.test(rv)) throw StatusError.badRequest(`invalid resource version: ${rv}`);
  return Number(rv);
}

/**
 * Validates the request (throwing StatusErrors before anything is streamed)
 * and returns the event stream.
 */
export function openWatch(rest: RestStorage, store: Store, req: WatchRequest): AsyncGenerator<WireEvent> {
  const { predicate } = compileSelectors(req.rt, req);
  const from = parseRevision(req.resourceVersion);
  const initial = req.sendInitialEvents ?? from === undefined;
  const inScope = (o: KObject) => !req.rt.namespaced || req.namespace === undefined || o.metadata.namespace === req.namespace;
  const selected = (o: KObject) => inScope(o) && (!predicate || predicate(o));
  return stream(rest, store, req, from, initial, selected);
}

/** Translates a store event for a filtered watcher (see the module comment). */
export function translate(event: StoreEvent, selected: (o: KObject) => boolean): WireEvent | undefined {
  const now = selected(event.object);
  switch (event.type) {
    case 'ADDED':
      return now ? { type: 'ADDED', object: event.object } : undefined;
    case 'DELETED':
      return now ? { type: 'DELETED', object: event.object } : undefined;
    case 'MODIFIED': {
      const before = event.prev ? selected(event.prev) : now;
      if (now && before) return { type: 'MODIFIED', object: event.object };
      if (now) return { type: 'ADDED', object: event.object };
      if (before) return { type: 'DELETED', object: event.object };
      return undefined;
    }
  }
}

async function* stream(
  rest: RestStorage,
  store: Store,
  req: WatchRequest,
  from: number | undefined,
  initial: boolean,
  selected: (o: KObject) => boolean,
): AsyncGenerator<WireEvent> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  // A client gone before the first read would otherwise hold a store watcher until the timeout.
  if (req.signal?.aborted) stop.abort();
  const deadline = Date.now() + req.timeoutMs;
  const queue = new AsyncQueue<StoreEvent>();
  try {
    let position: number;
    if (initial) {
      const list = await rest.list(req.rt, req.rt.namespaced ? req.namespace : undefined, {
        ...(req.labelSelector ? { labelSelector: req.labelSelector } : {}),
        ...(req.fieldSelector ? { fieldSelector: req.fieldSelector } : {}),
      });
      position = Number(list.metadata.resourceVersion);
      for (const item of list.items) yield { type: 'ADDED', object: item };
      if (req.sendInitialEvents && req.allowBookmarks) yield bookmark(req.rt, position, true);
    } else {
      position = from ?? (await store.currentRevision(storeResource(req.rt)));
    }

    let source: AsyncIterable<StoreEvent>;
    try {
      source = store.watch(storeResource(req.rt), { fromRevision: position, signal: stop.signal });
    } catch (err) {
      if (err instanceof CompactedError) {
        yield expired(`too old resource version: ${err.requested} (${err.compacted})`);
        return;
      }
      throw err;
    }
    void (async () => {
      try {
        for await (const event of source) queue.push(event);
        queue.close();
      } catch (err) {
        queue.fail(err);
      }
    })();

    for (;;) {
      if (stop.signal.aborted) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      let next: Awaited<ReturnType<typeof queue.next>>;
      try {
        next = await queue.next(Math.min(left, req.allowBookmarks ? req.bookmarkIntervalMs : left));
      } catch (err) {
        if (err instanceof CompactedError) {
          yield expired(`too old resource version: ${err.requested} (${err.compacted})`);
          return;
        }
        throw err;
      }
      if (next === 'closed') return;
      if (next === 'timeout') {
        if (req.allowBookmarks && Date.now() < deadline) yield bookmark(req.rt, position);
        continue;
      }
      position = next.item.revision;
      const out = translate(next.item, selected);
      // The feed carries objects as stored; the watcher gets them in the version it watches.
      if (out) yield { ...out, object: await rest.conversion.fromStorage(req.rt, out.object as KObject) };
    }
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
