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
import { EVENTS } from '../kinds/resources.js';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../api/errors.js';
import type { KubeClient } from './client.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';

/** How long Events are kept (the apiserver's --event-ttl default). */
export const EVENT_TTL_MS = 60 * 60_000;

export type EventType = 'Normal' | 'Warning';

export interface Recorder {
  record(obj: KObject, type: EventType, reason: string, message: string): Promise<void>;
}

/**
 * Background writes of the recorders made with `background: true`, shared
 * by the process (client-go's event broadcaster is asynchronous the same
 * way): a controller's record() returns at once, so writing the Event is not
 * on its critical path (the scheduler decides one pod at a time). At most
 * four writes run at once; past 10,000 waiting Events the newest are
 * dropped, as client-go drops events when its queue is full.
 */
const MAX_WRITERS = 4;
const MAX_BACKLOG = 10_000;
const backlog: Job[] = [];
let backlogHead = 0;
let writers = 0;
let dropped = 0;
let drained: (() => void)[] = [];

/** A queued write, and where its failure is logged (its recorder's logger). */
interface Job {
  write: () => Promise<void>;
  logger: Logger;
}

function enqueue(job: Job): void {
  if (backlog.length - backlogHead >= MAX_BACKLOG) {
    if (dropped++ % 1000 === 0) job.logger.warn(`kumo events: ${dropped} event(s) dropped, the write queue is full`);
    return;
  }
  backlog.push(job);
  pump();
}

function pump(): void {
  while (writers < MAX_WRITERS && backlogHead < backlog.length) {
    const job = backlog[backlogHead++]!;
    if (backlogHead > 1024 && backlogHead * 2 > backlog.length) {
      backlog.splice(0, backlogHead);
      backlogHead = 0;
    }
    writers++;
    void job
      .write()
      .catch((err: Error) => job.logger.error(`kumo events: ${err.message}`))
      .finally(() => {
        writers--;
        pump();
        if (writers === 0 && backlogHead >= backlog.length) {
          const waiters = drained;
          drained = [];
          for (const w of waiters) w();
        }
      });
  }
}

/** Resolves once every Event recorded in the background so far is written (a Lambda invocation calls this before it returns). */
export async function flushEvents(): Promise<void> {
  while (writers > 0 || backlogHead < backlog.length) await new Promise<void>((resolve) => drained.push(resolve));
}

export class EventRecorder implements Recorder {
  /** With `background`, record() queues the write and returns at once (see flushEvents). Events that cannot be written are logged to `logger` (@default defaultLogger()). */
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly clock: Clock = systemClock,
    private readonly host?: string,
    private readonly opts: { background?: boolean; logger?: Logger | undefined } = {},
  ) {}

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  /** Best effort: an Event that cannot be written is logged, never thrown. */
  async record(obj: KObject, type: EventType, reason: string, message: string): Promise<void> {
    if (this.opts.background) {
      // The object may change after this returns: take what the Event needs now.
      const snapshot = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...obj.metadata } } as KObject;
      const now = this.clock.now();
      enqueue({ write: () => this.write(snapshot, type, reason, message, now), logger: this.logger });
      return;
    }
    await this.write(obj, type, reason, message, this.clock.now());
  }

  private async write(obj: KObject, type: EventType, reason: string, message: string, at: number): Promise<void> {
    const namespace = obj.metadata.namespace || 'default';
    const hash = createHash('sha256')
      .update([obj.kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', obj.metadata.uid ?? '', type, reason, message, this.component].join('\0'))
      .digest('hex')
      .slice(0, 16);
    const name = `${obj.metadata.name}.${hash}`;
    const now = rfc3339(at);
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
      if (isAlreadyExists(err)) {
        await this.bump(namespace, name, now, key).catch((e: Error) => this.logger.error(`kumo events: ${e.message}`));
        return;
      }
      if (known && isNotFound(err)) {
        // The Event expired meanwhile: start a new one.
        this.recent.delete(key);
        return this.record(obj, type, reason, message);
      }
      this.logger.error(`kumo events: could not record ${reason} for ${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
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
        if (isForbidden(err)) {
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
        if (!isConflict(err)) throw err;
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
