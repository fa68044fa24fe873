/**
 * Records core/v1 Events the way client-go's recorder does, with its
 * aggregation: the same (object, type, reason, message, source) bumps
 * `count` and `lastTimestamp` on one Event instead of writing a new one. The
 * Event's name is derived from those fields, so separate processes (parallel
 * Lambda invocations) aggregate into the same Event too.
 */
import { createHash } from 'node:crypto';
import type { KObject } from '../api/object.js';
import type { Event } from '../api/core/v1/event.js';
import { resourceByName } from '../api/registry.js';
import { StatusError } from '../apiserver/errors.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';

export const EVENTS = resourceByName('events')!;

/** How long Events are kept (the apiserver's --event-ttl default). */
export const EVENT_TTL_MS = 60 * 60_000;

export type EventType = 'Normal' | 'Warning';

export interface Recorder {
  record(obj: KObject, type: EventType, reason: string, message: string): Promise<void>;
}

export class EventRecorder implements Recorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly clock: Clock = systemClock,
    private readonly host?: string,
  ) {}

  /** Best effort: an Event that cannot be written is logged, never thrown. */
  async record(obj: KObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace || 'default';
    const hash = createHash('sha256')
      .update([obj.kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', obj.metadata.uid ?? '', type, reason, message, this.component].join('\0'))
      .digest('hex')
      .slice(0, 16);
    const name = `${obj.metadata.name}.${hash}`;
    const now = rfc3339(this.clock.now());
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name ?? '',
        uid: obj.metadata.uid ?? '',
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion ?? '',
      },
      reason,
      message,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    const key = `${namespace}/${name}`;
    const known = this.recent.get(key);
    try {
      if (known) {
        // Seen before by this recorder: one patch, no read (like client-go's event correlator).
        const patched = await this.client.patch<Event & KObject>(EVENTS, namespace, name, { count: known + 1, lastTimestamp: now }, 'merge');
        this.remember(key, patched.count ?? known + 1);
        return;
      }
      await this.client.create(EVENTS, namespace, event as KObject);
      this.remember(key, 1);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'AlreadyExists') {
        await this.bump(namespace, name, now, key).catch((e: Error) => console.error(`kumo events: ${e.message}`));
        return;
      }
      if (known && err instanceof StatusError && err.code === 404) {
        // The Event expired meanwhile: start a new one.
        this.recent.delete(key);
        return this.record(obj, type, reason, message);
      }
      console.error(`kumo events: could not record ${reason} for ${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
    }
  }

  /** Recently written Events and their counts, oldest first (bounded). */
  private readonly recent = new Map<string, number>();

  private remember(key: string, count: number): void {
    this.recent.delete(key);
    this.recent.set(key, count);
    if (this.recent.size > 4096) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Another process wrote this Event first: read its count and add one. */
  private async bump(namespace: string, name: string, now: string, key: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let current: (Event & KObject) | undefined;
      try {
        current = await this.client.find<Event & KObject>(EVENTS, namespace, name);
      } catch (err) {
        // A credential that may write Events but not read them (a node's): move lastTimestamp on without a count.
        if (err instanceof StatusError && err.code === 403) {
          await this.client.patch(EVENTS, namespace, name, { lastTimestamp: now }, 'merge');
          return;
        }
        throw err;
      }
      if (!current) return;
      try {
        const count = (current.count ?? 1) + 1;
        await this.client.update(EVENTS, { ...current, count, lastTimestamp: now } as KObject);
        this.remember(key, count);
        return;
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 409)) throw err;
      }
    }
  }
}

/** A recorder that keeps events in memory (for unit tests of pure logic). */
export class MemoryRecorder implements Recorder {
  readonly events: { obj: KObject; type: EventType; reason: string; message: string }[] = [];
  async record(obj: KObject, type: EventType, reason: string, message: string): Promise<void> {
    this.events.push({ obj, type, reason, message });
  }
}
