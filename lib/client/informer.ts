/**
 * List-then-watch with resume, like client-go's reflector: keeps a local copy
 * of the objects a selector picks, re-watches from the last resourceVersion
 * when a watch ends, and re-lists when that version has expired (410). Each
 * change is handed to `onChange` in order.
 *
 * With `pollIntervalMs` it holds no watch and re-lists at that interval
 * instead, handing over the differences the same way: for clients of the
 * cloud API, where a held watch keeps a Lambda invocation (billed by the
 * second) open for its whole length and a list costs milliseconds.
 */
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import { isGone, isResourceExpired } from '../api/errors.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { sleep } from '../util/sleep.js';
import { errorFrom, type KubeClient } from './client.js';

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called for every change, after the local copy is updated. Errors are logged, not fatal. */
  onChange?: (type: InformerEventType, obj: KObject, old: KObject | undefined) => void | Promise<void>;
  /** Called after each (re)list with the full set. */
  onSync?: (items: KObject[]) => void | Promise<void>;
  /** Seconds each watch request asks for. @default 300 */
  watchTimeoutSeconds?: number;
  /** Re-list at this interval instead of watching (changes arrive up to this late). */
  pollIntervalMs?: number;
  /** Where failing handlers and watches are logged. @default defaultLogger() */
  logger?: Logger;
}

function keyOf(obj: KObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export class Informer {
  readonly items = new Map<string, KObject>();
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private synced!: Promise<void>;
  private markSynced!: () => void;

  constructor(
    private readonly client: KubeClient,
    private readonly rt: ResourceType,
    private readonly opts: InformerOptions = {},
  ) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  /** Starts listing and watching; resolves once the first list is in. */
  async start(): Promise<void> {
    this.loop = this.run();
    await this.synced;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    return this.items.get(`${namespace ?? ''}/${name}`);
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  private async emit(type: InformerEventType, obj: KObject, old: KObject | undefined): Promise<void> {
    try {
      await this.opts.onChange?.(type, obj, old);
    } catch (err) {
      this.logger.error(`kumo informer ${this.rt.resource}: handler failed: ${(err as Error).message}`);
    }
  }

  private async list(): Promise<void> {
    const list = await this.client.listAll(this.rt, this.opts.namespace, {
      ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
      ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
    });
    const seen = new Set<string>();
    for (const obj of list.items) {
      const k = keyOf(obj);
      seen.add(k);
      const old = this.items.get(k);
      this.items.set(k, obj);
      if (!old) await this.emit('ADDED', obj, undefined);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) await this.emit('MODIFIED', obj, old);
    }
    for (const [k, old] of [...this.items]) {
      if (!seen.has(k)) {
        this.items.delete(k);
        await this.emit('DELETED', old, old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    await this.opts.onSync?.(list.items);
  }

  private async run(): Promise<void> {
    let needList = true;
    let backoff = 100;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) {
          await this.list();
          this.markSynced();
          needList = false;
        }
        if (this.opts.pollIntervalMs) {
          await sleep(this.opts.pollIntervalMs, this.abort.signal);
          needList = true;
          continue;
        }
        const events = await this.client.watch(
          this.rt,
          this.opts.namespace,
          {
            resourceVersion: this.resourceVersion,
            allowBookmarks: true,
            timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
            ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
            ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
          },
          this.abort.signal,
        );
        for await (const ev of events) {
          if (ev.type === 'ERROR') {
            // As client-go's reflector: an expired resourceVersion means list again; any other error, watch again.
            const err = errorFrom(500, ev.object);
            if (isResourceExpired(err) || isGone(err)) needList = true;
            break;
          }
          const rv = ev.object.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          if (ev.type === 'BOOKMARK') continue;
          const k = keyOf(ev.object);
          const old = this.items.get(k);
          if (ev.type === 'DELETED') this.items.delete(k);
          else this.items.set(k, ev.object);
          await this.emit(ev.type === 'ADDED' && old ? 'MODIFIED' : ev.type, ev.object, old);
        }
        backoff = 100;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (isResourceExpired(err) || isGone(err)) needList = true;
        else this.logger.warn(`kumo informer ${this.rt.resource}: ${(err as Error).message}; retrying`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }
}
