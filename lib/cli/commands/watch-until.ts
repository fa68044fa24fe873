/**
 * client-go's watchtools.UntilWithSync for one named object: list it by
 * `metadata.name`, hand the current state to `onEvent`, then watch from the
 * list's resourceVersion and hand over every change until `onEvent` says
 * done or the deadline passes. A watch the server ends is resumed from the
 * last resourceVersion seen; an expired one (410) starts over with a list.
 */
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { isGone, isResourceExpired } from '../../api/errors.js';
import { errorFrom, type KubeClient } from '../../client/client.js';

/** The deadline passed before `onEvent` said done. */
export class WatchTimeoutError extends Error {
  override name = 'WatchTimeoutError';
  constructor() {
    super('timed out waiting for the condition');
  }
}

export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchUntilOptions {
  /** Epoch milliseconds; undefined waits without end. */
  deadline?: number;
  /** Called for the listed state and each change; true ends the wait. Throwing ends it with that error. */
  onEvent(type: ObjectEventType, obj: KObject): boolean | Promise<boolean>;
}

/** Longest single watch request; the loop reconnects after it. */
const WATCH_SLICE_MS = 5 * 60_000;

export async function watchUntil(client: KubeClient, rt: ResourceType, namespace: string | undefined, name: string, opts: WatchUntilOptions): Promise<void> {
  const fieldSelector = `metadata.name=${name}`;
  const remaining = () => (opts.deadline === undefined ? WATCH_SLICE_MS : opts.deadline - Date.now());
  for (;;) {
    const list = await client.list(rt, namespace, { fieldSelector });
    for (const item of list.items) if (await opts.onEvent('ADDED', item)) return;
    let rv = list.metadata.resourceVersion ?? '';
    let expired = false;
    while (!expired) {
      const left = remaining();
      if (left <= 0) throw new WatchTimeoutError();
      const slice = Math.min(left, WATCH_SLICE_MS);
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), slice);
      try {
        const events = await client.watch(
          rt,
          namespace,
          { fieldSelector, resourceVersion: rv, allowBookmarks: true, timeoutSeconds: Math.max(1, Math.ceil(slice / 1000)) },
          ac.signal,
        );
        for await (const ev of events) {
          if (ev.type === 'BOOKMARK') {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            continue;
          }
          if (ev.type === 'ERROR') {
            const err = errorFrom(500, ev.object);
            if (!(isResourceExpired(err) || isGone(err))) throw err;
            expired = true;
            break;
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (await opts.onEvent(ev.type, ev.object)) return;
        }
      } catch (err) {
        if (isResourceExpired(err) || isGone(err)) expired = true;
        else if (!ac.signal.aborted) throw err;
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
