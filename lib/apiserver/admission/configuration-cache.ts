/**
 * The admission configurations (webhook configurations, policies, their
 * bindings) as last read, so a write does not read them from the store each
 * time: each resource is listed again once its copy is older than `ttlMs`
 * (the bound on how stale another API server's view may be: docs/webhooks.md),
 * or at once after this server wrote one (invalidate). Concurrent readers of
 * a stale copy share one list.
 */
import type { KObject } from '../../api/object.js';
import type { Clock } from '../../util/clock.js';

interface Entry {
  at: number;
  items: Promise<readonly KObject[]>;
}

export class ConfigurationCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly load: (resource: string) => Promise<readonly KObject[]>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** The objects of `resource` (a store resource key), at most ttlMs old. */
  get(resource: string): Promise<readonly KObject[]> {
    const now = this.clock.now();
    const entry = this.entries.get(resource);
    if (entry && now - entry.at < this.ttlMs) return entry.items;
    const items = this.load(resource);
    this.entries.set(resource, { at: now, items });
    // A failed list is not kept: the next request lists again.
    items.catch(() => {
      if (this.entries.get(resource)?.items === items) this.entries.delete(resource);
    });
    return items;
  }

  /** Forgets `resource`'s copy (this server wrote one of its objects). */
  invalidate(resource: string): void {
    this.entries.delete(resource);
  }
}
