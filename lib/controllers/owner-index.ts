/**
 * A change-fed view of the objects controllers own, indexed by owner: which
 * pods (or ReplicaSets, Jobs, ...) reference an owner's uid, and which have no
 * controller at all (orphans a controller may adopt). It replaces the full
 * list of a namespace that the ReplicaSet, Job and garbage collector
 * reconciles used to make on every reconcile, which cost O(objects in the
 * namespace) per reconcile and O(n²) to bring up a large ReplicaSet.
 *
 * How current the view is depends on who drives the reconcilers:
 * - `follow` (`kumo up`): prime() loads every resource once, then the local
 *   driver hands every change of the store's feed to observe(), in revision
 *   order. The view is a consistent snapshot of the store at `revision`.
 * - `batch` (the cloud's stream driver): invalidate() at the start of each
 *   batch; the first read of a resource in the batch lists it (consistently),
 *   and the rest of the batch shares that list.
 * - `fresh` (reconcilers called directly, e.g. tests): every read lists
 *   again, which is what the controllers did before this index existed.
 *
 * Whatever the mode, a reader names the lowest revision it may use
 * (`ensure(resource, minRevision)`); an older view is reloaded first. The
 * persisted expectations rely on this (expectations.ts): a pod observed by one
 * reconcile must be seen by every later one, even in another process.
 *
 * Objects in the view are shared, never copied: callers must not mutate them.
 */
import type { KObject } from '../api/object.js';
import type { ResourceRegistry } from '../api/registry.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import type { ChangeEvent, SharedCache } from '../controller-runtime/reconciler.js';

/**
 * The store keys of the kinds whose objects may be owned by others (the
 * collector scans them for dependents; the owner index covers exactly these),
 * one per resource however many versions serve it.
 */
export function dependentResources(kinds: ResourceRegistry): string[] {
  return [
    ...new Set(
      kinds
        .all()
        .filter((t) => t.garbageCollection.dependent)
        .map(storeResource),
    ),
  ];
}

export interface Dependent {
  /** The dependent's store key (storeResource). */
  resource: string;
  obj: KObject;
}

interface View {
  /** Every change at or below this revision is reflected. */
  revision: number;
  objects: Map<string, KObject>;
}

type Mode = 'fresh' | 'batch' | 'follow';

function keyOf(obj: KObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function revisionOf(obj: KObject): number {
  return Number(obj.metadata.resourceVersion) || 0;
}

export class OwnerIndex implements SharedCache {
  private mode: Mode = 'fresh';
  private readonly views = new Map<string, View>();
  /** Owner uid → `resource\0namespace/name` → the dependent. */
  private readonly byOwner = new Map<string, Map<string, Dependent>>();
  /** Resource → namespace → name → objects without a controller reference. */
  private readonly orphans = new Map<string, Map<string, Map<string, KObject>>>();
  private readonly loading = new Map<string, Promise<void>>();
  private indexed: { revision: number; resources: readonly string[] } | undefined;

  constructor(
    private readonly client: KubeClient,
    /** The kinds served: the index covers their dependent resources, those registered later (custom resources) included. */
    private readonly kinds: ResourceRegistry,
  ) {}

  /** Store keys (storeResource) of the indexed resources, as the registry has them now: the change feed names resources by them. */
  get resources(): readonly string[] {
    if (this.indexed?.revision !== this.kinds.revision) this.indexed = { revision: this.kinds.revision, resources: dependentResources(this.kinds) };
    return this.indexed.resources;
  }

  async prime(): Promise<void> {
    this.mode = 'follow';
    await Promise.all(this.resources.map((r) => this.load(r)));
  }

  invalidate(): void {
    if (this.mode === 'follow') return;
    this.mode = 'batch';
    for (const r of [...this.views.keys()]) this.drop(r);
  }

  /** Marks one resource's view as stale (e.g. after a conflict showed it was): the next read reloads it unless the feed is followed. */
  stale(resource: string): void {
    if (this.mode === 'batch') this.drop(resource);
  }

  observe(e: ChangeEvent): void {
    const view = this.views.get(e.resource);
    if (!view) return;
    const rev = revisionOf(e.object);
    if (rev <= view.revision) return;
    view.revision = rev;
    const key = keyOf(e.object);
    const old = view.objects.get(key);
    if (old) this.unindex(e.resource, old);
    if (e.type === 'DELETED') {
      view.objects.delete(key);
      return;
    }
    view.objects.set(key, e.object);
    this.index(e.resource, e.object);
  }

  /** Makes the view of `resource` reflect at least `minRevision` (and, in fresh mode, the store as of now). */
  async ensure(resource: string, minRevision = 0): Promise<void> {
    if (!this.resources.includes(resource)) throw new Error(`owner index: ${resource} is not indexed`);
    const view = this.views.get(resource);
    if (this.mode !== 'fresh' && view && view.revision >= minRevision) return;
    await this.load(resource);
  }

  /** The revision the view of `resource` reflects (0 when not loaded). */
  revision(resource: string): number {
    return this.views.get(resource)?.revision ?? 0;
  }

  /** Objects of `resource` in `namespace` that reference `uid` in any ownerReference, plus those with no controller (adoption candidates). */
  candidates(resource: string, namespace: string, uid: string): KObject[] {
    const out: KObject[] = [];
    for (const d of this.byOwner.get(uid)?.values() ?? []) {
      if (d.resource === resource && (d.obj.metadata.namespace ?? '') === namespace) out.push(d.obj);
    }
    for (const obj of this.orphans.get(resource)?.get(namespace)?.values() ?? []) {
      // An orphan may reference `uid` without controller=true: it is in byOwner already.
      if (!(obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push(obj);
    }
    return out;
  }

  /** Every indexed object that references `uid`: in `namespace` for a namespaced owner, anywhere for a cluster-scoped one (''). */
  dependents(namespace: string, uid: string): Dependent[] {
    const out: Dependent[] = [];
    for (const d of this.byOwner.get(uid)?.values() ?? []) {
      if (!namespace || (d.obj.metadata.namespace ?? '') === namespace) out.push(d);
    }
    return out;
  }

  get(resource: string, namespace: string, name: string): KObject | undefined {
    return this.views.get(resource)?.objects.get(`${namespace}/${name}`);
  }

  /** Every object of a loaded view. */
  objects(resource: string): Iterable<KObject> {
    return this.views.get(resource)?.objects.values() ?? [];
  }

  /** Whether an owner with this uid is in a loaded view (false when its resource is not indexed or not loaded). */
  hasUid(resource: string, namespace: string, name: string, uid: string): boolean {
    return this.get(resource, namespace, name)?.metadata.uid === uid;
  }

  /** Whether every indexed resource is loaded and follows the feed: then the view may stand in for lists. */
  get following(): boolean {
    return this.mode === 'follow' && this.resources.every((r) => this.views.has(r));
  }

  private load(resource: string): Promise<void> {
    const inFlight = this.loading.get(resource);
    if (inFlight) return inFlight;
    const run = (async () => {
      const rt = this.kinds.byStoreKey(resource);
      if (!rt) throw new Error(`owner index: unknown resource ${resource}`);
      const list = await this.client.listAll(rt, undefined);
      this.drop(resource);
      const view: View = { revision: Number(list.metadata.resourceVersion) || 0, objects: new Map() };
      this.views.set(resource, view);
      for (const obj of list.items) {
        view.objects.set(keyOf(obj), obj);
        this.index(resource, obj);
      }
    })().finally(() => this.loading.delete(resource));
    this.loading.set(resource, run);
    return run;
  }

  private drop(resource: string): void {
    const view = this.views.get(resource);
    if (!view) return;
    for (const obj of view.objects.values()) this.unindex(resource, obj);
    this.views.delete(resource);
  }

  private index(resource: string, obj: KObject): void {
    const id = `${resource}\0${keyOf(obj)}`;
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let deps = this.byOwner.get(ref.uid);
      if (!deps) this.byOwner.set(ref.uid, (deps = new Map()));
      deps.set(id, { resource, obj });
    }
    if (!controllerRef(obj)) {
      let byNs = this.orphans.get(resource);
      if (!byNs) this.orphans.set(resource, (byNs = new Map()));
      const ns = obj.metadata.namespace ?? '';
      let names = byNs.get(ns);
      if (!names) byNs.set(ns, (names = new Map()));
      names.set(obj.metadata.name!, obj);
    }
  }

  private unindex(resource: string, obj: KObject): void {
    const id = `${resource}\0${keyOf(obj)}`;
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const deps = this.byOwner.get(ref.uid);
      if (!deps) continue;
      deps.delete(id);
      if (deps.size === 0) this.byOwner.delete(ref.uid);
    }
    const names = this.orphans.get(resource)?.get(obj.metadata.namespace ?? '');
    if (names?.get(obj.metadata.name!) === obj) names.delete(obj.metadata.name!);
  }
}
