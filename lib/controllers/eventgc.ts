/** Deletes Events an hour after they were last seen (the API server's --event-ttl). */
import type { Event } from '../api/core/v1/event.js';
import type { KObject } from '../api/object.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, systemClock } from '../util/clock.js';
import { EVENT_TTL_MS } from '../client/events.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { EVENTS } from '../kinds/resources.js';

export class EventGarbageCollector implements Reconciler {
  readonly name = 'eventgc';
  readonly watches: Watch[] = [];
  /**
   * When the earliest Event seen by the last pass expires. Events written
   * since then were seen at or after that pass, so they expire later: no pass
   * is needed (and no list of every Event made) before this time.
   */
  private nextDue = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock = systemClock,
    private readonly ttlMs = EVENT_TTL_MS,
  ) {}

  async listKeys(): Promise<string[]> {
    return ['events'];
  }

  async reconcile(): Promise<ReconcileResult | void> {
    const now = this.clock.now();
    if (now < this.nextDue) return { requeueAfterMs: this.nextDue - now + 1000 };
    const events = (await this.client.listAll<Event & KObject>(EVENTS, undefined)).items;
    let next = Infinity;
    for (const ev of events) {
      const last = Date.parse(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp ?? '') || now;
      const expires = last + this.ttlMs;
      if (expires > now) {
        next = Math.min(next, expires - now);
        continue;
      }
      try {
        await this.client.delete(EVENTS, ev.metadata.namespace, ev.metadata.name!, { preconditions: { resourceVersion: ev.metadata.resourceVersion! } });
      } catch (err) {
        if (!(isNotFound(err) || isConflict(err))) throw err;
      }
    }
    this.nextDue = Number.isFinite(next) ? now + next : now + this.ttlMs;
    return Number.isFinite(next) ? { requeueAfterMs: next + 1000 } : undefined;
  }
}
