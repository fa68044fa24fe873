/**
 * Serving CustomResourceDefinitions: keeps a server's registry in step with
 * the CRDs in the store, as apiextensions-apiserver's crdHandler, naming,
 * establishing and finalizer controllers do together.
 *
 * The store is the only thing API servers share (a local process has one,
 * the cloud's function instances many), so each server checks the CRDs'
 * revision counter (one read) at most once per `ttlMs`, and at once after
 * it wrote a CRD itself; only when the counter moved does it list the CRDs
 * and rebuild what changed. A CRD's kinds are rebuilt when its uid or
 * generation changes (its spec), never for a status write.
 *
 * Names are unique within a group (lib/apiextensions/naming.ts): a CRD
 * whose plural, singular, short names, kind or list kind another CRD of its
 * group (or a built-in kind of it) holds is not served; its NamesAccepted
 * condition says so with kube's reason and message (`ShortNamesConflict`,
 * `"wd" is already in use`). A served CRD keeps its names; of the others,
 * the oldest takes a contested name first. Accepted names make it
 * Established; a CRD whose conflict is fixed (its spec or the other's) is
 * served on the refresh after.
 *
 * Deletion: a CRD marked for deletion keeps its kinds while its objects are
 * deleted, then loses the cleanup finalizer (and so is removed); the next
 * refresh stops serving it.
 */
import { isConflict, isNotFound } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import type { ResourceType } from '../api/registry.js';
import { storeResource } from '../api/store-key.js';
import { acceptNames, emptyGroupNames, holdNames, type CustomResourceDefinition, type GroupNames } from '../apiextensions/index.js';
import { customResourceKinds } from '../kinds/custom-resource.js';
import { CUSTOM_RESOURCE_CLEANUP_FINALIZER, customResourceDefinitionKind as CRDS } from '../kinds/customresourcedefinition.js';
import type { KindRegistry } from '../kinds/index.js';
import type { Kind } from '../kinds/kind.js';
import type { Store } from '../store/types.js';
import { type Clock, rfc3339 } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { RestStorage } from './rest.js';

/** How long a server trusts what it last read of the CRDs before it checks their revision again. */
export const DEFAULT_CRD_TTL_MS = 500;

/** Passes of one refresh over the CRDs: the first serves and writes statuses, the next see what those writes freed. */
const MAX_PASSES = 3;

type Condition = NonNullable<NonNullable<CustomResourceDefinition['status']>['conditions']>[number];

interface Served {
  uid: string;
  generation: number;
  kinds: Kind[];
  /** The CRD is marked for deletion: its objects are being deleted, and no new one may be created. */
  terminating: boolean;
  /** Aborted when these kinds stop being served (the CRD deleted, or its spec changed): open watches end. */
  ended: AbortController;
}

export interface CustomResourceSyncOptions {
  store: Store;
  rest: RestStorage;
  kinds: KindRegistry;
  clock: Clock;
  /** @default DEFAULT_CRD_TTL_MS */
  ttlMs?: number;
}

export class CustomResourceSync {
  private readonly served = new Map<string, Served>();
  private readonly key = storeResource(CRDS);
  /** The CRDs' revision last read, and when; -1: never (or invalidated). */
  private revision = -1;
  private checkedAt = -Infinity;
  private inFlight: Promise<void> | undefined;
  /** Watches following a custom resource, and the timer that refreshes every TTL while there are any. */
  private followers = 0;
  private poll: NodeJS.Timeout | undefined;
  /** The last refresh left a deleted CRD waiting for objects held by finalizers of their own. */
  private cleanupPending = false;

  constructor(private readonly opts: CustomResourceSyncOptions) {}

  /** Makes the next refresh read the store (this server wrote a CRD). */
  invalidate(): void {
    this.revision = -1;
  }

  /**
   * Brings the registry up to date with the stored CRDs, if the TTL has run
   * out or the server wrote a CRD since. Concurrent callers share one
   * refresh; a failure rejects them all (the caller answers 500) and the
   * next call tries again.
   */
  async refresh(): Promise<void> {
    const now = this.opts.clock.now();
    if (this.revision >= 0 && now - this.checkedAt < (this.opts.ttlMs ?? DEFAULT_CRD_TTL_MS)) return;
    this.inFlight ??= this.sync(now).finally(() => (this.inFlight = undefined));
    await this.inFlight;
  }

  /** Whether `rt` is a kind this sync serves for a CRD (requests for it wait for a refresh). */
  serves(rt: ResourceType): boolean {
    return this.servedFor(rt) !== undefined;
  }

  /** Whether `rt` is served for a CRD marked for deletion (kube then refuses creates). */
  terminating(rt: ResourceType): boolean {
    return this.servedFor(rt)?.terminating ?? false;
  }

  /**
   * For a watch of `rt`: a signal aborted once `rt` is no longer served (kube
   * closes a CRD's watches when it tears its storage down), or undefined for
   * a kind this sync does not serve. While any watch follows, the CRDs are
   * refreshed every TTL even without requests, so the watch ends within about
   * one TTL of the CRD going. `release` when the watch ends.
   */
  follow(rt: ResourceType): { signal: AbortSignal; release(): void } | undefined {
    const served = this.servedFor(rt);
    if (!served) return undefined;
    if (this.followers++ === 0) {
      this.poll = setInterval(() => void this.refresh().catch(() => undefined), this.opts.ttlMs ?? DEFAULT_CRD_TTL_MS);
      this.poll.unref();
    }
    let released = false;
    return {
      signal: served.ended.signal,
      release: () => {
        if (released) return;
        released = true;
        if (--this.followers === 0) clearInterval(this.poll);
      },
    };
  }

  private servedFor(rt: ResourceType): Served | undefined {
    return [...this.served.values()].find((s) => s.kinds.some((k) => k.group === rt.group && k.resource === rt.resource));
  }

  private async sync(now: number): Promise<void> {
    try {
      let revision = await this.opts.store.currentRevision(this.key);
      this.checkedAt = now;
      if (revision === this.revision) return;
      // What a pass writes (statuses; a finalizer removed, so a CRD deleted and its names freed) may change what the
      // others get: passes repeat while they write, a bounded number of times; the next request sees what is left.
      // A CRD whose objects are held by finalizers of their own is looked at again on the next request.
      this.cleanupPending = false;
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        const { items } = await this.opts.store.list(this.key);
        this.revision = revision;
        if (!(await this.apply(items as unknown as CustomResourceDefinition[]))) {
          if (this.cleanupPending) this.revision = -1;
          return;
        }
        revision = await this.opts.store.currentRevision(this.key);
      }
      this.revision = -1;
    } catch (err) {
      this.revision = -1;
      throw err;
    }
  }

  /** Serves what the CRDs declare and updates their status; returns whether it wrote to the store. */
  private async apply(crds: CustomResourceDefinition[]): Promise<boolean> {
    let wrote = false;
    for (const [name, s] of this.served) {
      const crd = crds.find((c) => c.metadata.name === name);
      if (crd?.metadata.uid !== s.uid || (crd.metadata.generation ?? 0) !== s.generation) this.unserve(name);
    }
    // Names a CRD still served holds stay its own (kube's accepted names); the rest, oldest first, take what is free.
    const held = this.heldNames(crds);
    const ordered = [...crds].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    for (const crd of ordered) {
      const name = crd.metadata.name ?? '';
      const group = crd.spec.group ?? '';
      let names: ReturnType<typeof acceptNames> | undefined;
      if (!this.served.has(name)) {
        const inGroup = held.get(group) ?? emptyGroupNames();
        names = acceptNames(crd, inGroup);
        if (names.condition.status === 'True' && this.serve(crd)) {
          holdNames(inGroup, crd.spec.names ?? {});
          held.set(group, inGroup);
        }
      }
      const served = this.served.get(name);
      if (served) served.terminating = crd.metadata.deletionTimestamp != null;
      if (await this.updateStatus(crd, served !== undefined, names)) wrote = true;
      if (crd.metadata.deletionTimestamp && (crd.metadata.finalizers ?? []).includes(CUSTOM_RESOURCE_CLEANUP_FINALIZER))
        wrote = (await this.cleanUp(crd)) || wrote;
    }
    return wrote;
  }

  /** The names held per group: the built-in kinds' and those of the CRDs served. */
  private heldNames(crds: readonly CustomResourceDefinition[]): Map<string, GroupNames> {
    const held = new Map<string, GroupNames>();
    const groupOf = (group: string) => {
      const names = held.get(group) ?? emptyGroupNames();
      held.set(group, names);
      return names;
    };
    const custom = new Set([...this.served.values()].flatMap((s) => s.kinds));
    for (const k of this.opts.kinds.all()) {
      if (!custom.has(k))
        holdNames(groupOf(k.group), { plural: k.resource, singular: k.singular, shortNames: [...k.shortNames], kind: k.kind, listKind: k.listKind });
    }
    for (const crd of crds) if (this.served.has(crd.metadata.name ?? '')) holdNames(groupOf(crd.spec.group ?? ''), crd.spec.names ?? {});
    return held;
  }

  /** Adds a CRD's kinds to the registry; false (nothing added) when one is taken after all (two CRDs accepted the same names at once). */
  private serve(crd: CustomResourceDefinition): boolean {
    const built = customResourceKinds(crd);
    const added: Kind[] = [];
    try {
      for (const k of built) {
        this.opts.kinds.add(k);
        added.push(k);
      }
    } catch {
      for (const k of added) this.opts.kinds.remove(k);
      return false;
    }
    this.served.set(crd.metadata.name ?? '', {
      uid: crd.metadata.uid ?? '',
      generation: crd.metadata.generation ?? 0,
      kinds: built,
      terminating: false,
      ended: new AbortController(),
    });
    return true;
  }

  private unserve(name: string): void {
    const served = this.served.get(name);
    for (const k of served?.kinds ?? []) this.opts.kinds.remove(k);
    served?.ended.abort();
    this.served.delete(name);
  }

  /**
   * Sets NamesAccepted and Established (and acceptedNames) as kube's naming
   * and establishing controllers do, if they changed. `names` is what this
   * refresh decided for a CRD not served before; a CRD served all along keeps
   * its names and conditions.
   */
  private async updateStatus(crd: CustomResourceDefinition, served: boolean, names: ReturnType<typeof acceptNames> | undefined): Promise<boolean> {
    const accepted: Condition = names?.condition ?? { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
    const established: Condition = served
      ? { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }
      : { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' };
    const status = crd.status ?? {};
    const now = this.opts.clock.now();
    const conditions = withCondition(withCondition(status.conditions ?? [], accepted, now), established, now);
    const acceptedNames = names?.acceptedNames ?? status.acceptedNames ?? crd.spec.names ?? {};
    if (deepEqual(conditions, status.conditions ?? []) && deepEqual(acceptedNames, status.acceptedNames ?? {})) return false;
    return this.tolerant(() =>
      this.opts.rest.guaranteedUpdate(
        CRDS,
        undefined,
        crd.metadata.name ?? '',
        (current) => {
          const cur = current as unknown as CustomResourceDefinition;
          const next = {
            ...cur.status,
            conditions: withCondition(withCondition(cur.status?.conditions ?? [], accepted, now), established, now),
            acceptedNames,
          };
          return { ...current, status: next } as KObject;
        },
        { subresource: 'status', fieldManager: 'kumo-apiextensions' },
      ),
    );
  }

  /** Deletes the CRD's objects; once none is left, removes the cleanup finalizer (the CRD is then deleted). Returns whether it wrote. */
  private async cleanUp(crd: CustomResourceDefinition): Promise<boolean> {
    // The storage version reads objects as stored (no conversion a webhook would have to make).
    const kinds = this.served.get(crd.metadata.name ?? '')?.kinds ?? [];
    const kind = kinds.find((k) => k.conversion?.storageVersion === k.version) ?? kinds[0];
    if (kind) {
      const { items } = await this.opts.store.list(storeResource(kind));
      let changed = false;
      for (const item of items) {
        // An object already marked and held by a finalizer of its own is left as it is: no write, nothing for another pass.
        const held = item.metadata.deletionTimestamp !== undefined && (item.metadata.finalizers ?? []).length > 0;
        if (!held)
          changed = (await this.tolerant(() => this.opts.rest.delete(kind, item.metadata.namespace || undefined, item.metadata.name ?? ''))) || changed;
      }
      // Objects held by finalizers of their own keep the CRD until a later refresh finds them gone.
      if ((await this.opts.store.list(storeResource(kind), { limit: 1 })).items.length > 0) {
        this.cleanupPending = true;
        return changed;
      }
    }
    return this.tolerant(() =>
      this.opts.rest.guaranteedUpdate(CRDS, undefined, crd.metadata.name ?? '', (current) => ({
        ...current,
        metadata: { ...current.metadata, finalizers: (current.metadata.finalizers ?? []).filter((f) => f !== CUSTOM_RESOURCE_CLEANUP_FINALIZER) },
      })),
    );
  }

  /** Runs a write another server may have raced: a conflict or a vanished object is left to the next refresh. Returns true either way (the store moved). */
  private async tolerant(write: () => Promise<unknown>): Promise<true> {
    try {
      await write();
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
    return true;
  }
}

/** One sync per registry: what a registry serves is its own, whichever of the servers sharing it reads the store. */
const syncs = new WeakMap<KindRegistry, CustomResourceSync>();

/**
 * The sync of `opts.kinds`, made with these options by the first server of
 * the registry (the cloud function's two servers share one registry).
 */
export function customResourceSyncFor(opts: CustomResourceSyncOptions): CustomResourceSync {
  let sync = syncs.get(opts.kinds);
  if (!sync) {
    sync = new CustomResourceSync(opts);
    syncs.set(opts.kinds, sync);
  }
  return sync;
}

/** `conditions` with `c` set: its lastTransitionTime moves only when its status does (apiextensions' SetCRDCondition). */
function withCondition(conditions: readonly Condition[], c: Condition, now: number): Condition[] {
  const old = conditions.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return [...conditions];
  const next = { ...c, lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? rfc3339(now)) : rfc3339(now) };
  return old ? conditions.map((x) => (x.type === c.type ? next : x)) : [...conditions, next];
}
