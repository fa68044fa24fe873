/**
 * The garbage collector: cascading deletion through ownerReferences, with
 * the three propagation policies (after Kubernetes' pkg/controller/garbagecollector):
 * - Background: the owner is gone; its dependents are deleted after it.
 * - Foreground: the owner waits (finalizer `foregroundDeletion`) until its
 *   dependents with blockOwnerDeletion are gone; they are deleted first.
 * - Orphan: the owner waits (finalizer `orphan`) until its dependents no
 *   longer reference it; they are kept.
 *
 * Keys: `owner/<resource>/<namespace>/<name>` for an owner being deleted with
 * one of the GC finalizers, `gone/<namespace>/<uid>` for an owner that no
 * longer exists, `dep/<resource>/<namespace>/<name>` for an object whose
 * owners may be gone (`<resource>` is the store key, which may hold a `/`).
 * A resync checks every dependent's owners, so a missed deletion event only
 * delays collection.
 */
import type { KObject, OwnerReference } from '../api/object.js';
import type { ResourceRegistry, ResourceType } from '../api/registry.js';
import { storeResource } from '../api/store-key.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../api/meta/v1/delete-options.js';
import type { KubeClient } from '../client/client.js';
import { deepEqual } from '../util/json.js';
import { dependentResources, type OwnerIndex } from './owner-index.js';
import type { ChangeEvent, Reconciler, ReconcileResult, Watch, SharedCache } from '../controller-runtime/reconciler.js';

function hasGcFinalizer(obj: KObject): boolean {
  const f = obj.metadata.finalizers ?? [];
  return f.includes(FINALIZER_FOREGROUND) || f.includes(FINALIZER_ORPHAN);
}

function keyOf(prefix: string, resource: string, obj: KObject): string {
  return `${prefix}/${resource}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * The parts of an `owner/` or `dep/` key. A store key may hold a `/`
 * (`<group>/<plural>`), a namespace or name never does: they are read from
 * the right.
 */
function splitKey(rest: string[]): [resource: string, namespace: string, name: string] {
  return [rest.slice(0, -2).join('/'), rest.at(-2) ?? '', rest.at(-1) ?? ''];
}

function ignoreGone(err: unknown): void {
  if (!(isNotFound(err) || isConflict(err))) throw err;
}

export class GarbageCollector implements Reconciler {
  readonly name = 'garbagecollector';
  readonly caches: SharedCache[];
  private watched: { revision: number; watches: Watch[] } | undefined;

  /**
   * With an owner index (over the dependent kinds), dependents of a deleted
   * owner are found in it rather than by listing seven kinds, and dependents
   * whose owners the index holds are not looked up one GET per owner. Where an
   * owner's finalizer is released (Orphan, Foreground), fresh lists decide.
   */
  constructor(
    private readonly client: KubeClient,
    /** The kinds served: which are dependents and which owners (each kind's garbageCollection), and owner references' kinds. */
    private readonly kinds: ResourceRegistry,
    private readonly index?: OwnerIndex,
  ) {
    this.caches = index ? [index] : [];
  }

  /**
   * Every resource whose objects may own or be owned, as the registry has
   * them now: a kind registered later (a custom resource) is watched from
   * then on (drivers re-read the list as it grows).
   */
  get watches(): readonly Watch[] {
    if (this.watched?.revision !== this.kinds.revision) {
      const resources = new Set(
        this.kinds
          .all()
          .filter((t) => t.garbageCollection.dependent || t.garbageCollection.owner)
          .map(storeResource),
      );
      const watches = [...resources].map((resource) => ({ resource, keys: (e: ChangeEvent) => this.keysFor(resource, e) }));
      this.watched = { revision: this.kinds.revision, watches };
    }
    return this.watched.watches;
  }

  /** One kind per dependent resource (its storage version's, for a resource served in several versions). */
  private dependentTypes(): ResourceType[] {
    return dependentResources(this.kinds).flatMap((key) => this.kinds.byStoreKey(key) ?? []);
  }

  private keysFor(resource: string, e: ChangeEvent): string[] {
    const keys: string[] = [];
    if (e.type === 'DELETED') {
      keys.push(`gone/${e.object.metadata.namespace ?? ''}/${e.object.metadata.uid}`);
      // An owner waiting in foreground deletion may be free to go now.
      for (const ref of e.object.metadata.ownerReferences ?? []) {
        const ort = this.kinds.lookupKind(ref.apiVersion, ref.kind);
        if (ort) keys.push(`owner/${storeResource(ort)}/${ort.namespaced ? (e.object.metadata.namespace ?? '') : ''}/${ref.name}`);
      }
    } else if (e.object.metadata.deletionTimestamp && hasGcFinalizer(e.object)) keys.push(keyOf('owner', resource, e.object));
    const refs = e.object.metadata.ownerReferences ?? [];
    if (e.type !== 'DELETED' && refs.length > 0 && (e.type === 'ADDED' || !deepEqual(refs, e.prev?.metadata.ownerReferences ?? []))) {
      keys.push(keyOf('dep', resource, e.object));
    }
    return keys;
  }

  async listKeys(): Promise<string[]> {
    const keys: string[] = [];
    if (this.index?.following) {
      // Only dependents the index cannot vouch for: an owner missing from it, or of a kind it does not hold.
      for (const rt of this.dependentTypes()) {
        const resource = storeResource(rt);
        for (const obj of this.index.objects(resource)) {
          if ((obj.metadata.ownerReferences ?? []).length > 0 && !this.ownersPresent(obj)) keys.push(keyOf('dep', resource, obj));
          if (obj.metadata.deletionTimestamp && hasGcFinalizer(obj)) keys.push(keyOf('owner', resource, obj));
        }
      }
      return keys;
    }
    for (const rt of this.dependentTypes()) {
      for (const obj of (await this.client.listAll(rt, undefined)).items) {
        if ((obj.metadata.ownerReferences ?? []).length > 0) keys.push(keyOf('dep', storeResource(rt), obj));
        if (obj.metadata.deletionTimestamp && hasGcFinalizer(obj)) keys.push(keyOf('owner', storeResource(rt), obj));
      }
    }
    return keys;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const [kind, ...rest] = key.split('/');
    if (kind === 'gone') {
      const [namespace, uid] = rest as [string, string];
      for (const { rt, obj } of await this.dependentsOfGone(namespace, uid)) await this.attemptToDelete(rt, obj);
      return;
    }
    const [resource, namespace, name] = splitKey(rest);
    const rt = this.kinds.byStoreKey(resource);
    if (!rt) return;
    if (kind === 'owner' && this.index?.following && this.index.resources.includes(resource)) {
      // The owner as the followed index has it: nothing to do unless it is being deleted with a GC finalizer (its own change queues it again when it is).
      const cached = this.index.get(resource, namespace, name);
      if (!cached || !cached.metadata.deletionTimestamp || !hasGcFinalizer(cached)) return;
    }
    // A dependent the followed index holds with every owner present needs no read at all.
    if (kind === 'dep' && this.index?.following && this.index.resources.includes(resource)) {
      const cached = this.index.get(resource, namespace, name);
      if (!cached || this.ownersPresent(cached)) return;
    }
    const obj = await this.client.find(rt, namespace || undefined, name);
    if (!obj) return;
    if (kind === 'dep') return this.ownersPresent(obj) ? undefined : this.attemptToDelete(rt, obj);
    if (kind === 'owner') return this.processOwner(rt, obj);
  }

  /**
   * Whether the followed index holds every owner `obj` references, none of them
   * waiting in foreground deletion: then there is nothing to collect and no
   * owner needs a GET. Anything else (an owner absent from the index, of a kind
   * it does not hold, or going away) is left to the GET-based check.
   */
  private ownersPresent(obj: KObject): boolean {
    const index = this.index;
    if (!index?.following) return false;
    return (obj.metadata.ownerReferences ?? []).every((ref) => {
      const rt = this.kinds.lookupKind(ref.apiVersion, ref.kind);
      if (!rt || !index.resources.includes(storeResource(rt))) return false;
      const owner = index.get(storeResource(rt), rt.namespaced ? (obj.metadata.namespace ?? '') : '', ref.name);
      return !!owner && owner.metadata.uid === ref.uid && !owner.metadata.deletionTimestamp;
    });
  }

  /** Dependents of an owner that is gone: from the index when there is one (a missed one is found by the resync), else listed. */
  private async dependentsOfGone(namespace: string, uid: string): Promise<{ rt: ResourceType; obj: KObject }[]> {
    if (!this.index) return this.dependentsOf(namespace, uid);
    for (const r of dependentResources(this.kinds)) await this.index.ensure(r);
    return this.index.dependents(namespace, uid).flatMap((d) => {
      const rt = this.kinds.byStoreKey(d.resource);
      return rt ? [{ rt, obj: d.obj }] : [];
    });
  }

  /** Objects in `namespace` (or anywhere, for a cluster-scoped owner) that reference `uid`, read fresh. */
  private async dependentsOf(namespace: string, uid: string): Promise<{ rt: ResourceType; obj: KObject }[]> {
    const out: { rt: ResourceType; obj: KObject }[] = [];
    for (const rt of this.dependentTypes()) {
      const list = await this.client.listAll(rt, rt.namespaced && namespace ? namespace : undefined);
      for (const obj of list.items) if ((obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ rt, obj });
    }
    return out;
  }

  private async ownerState(dep: KObject, ref: OwnerReference): Promise<'absent' | 'present' | 'foreground'> {
    const rt = this.kinds.lookupKind(ref.apiVersion, ref.kind);
    if (!rt) return 'present'; // an owner kind we do not serve: leave the reference alone
    const owner = await this.client.find(rt, rt.namespaced ? dep.metadata.namespace : undefined, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return 'absent';
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND)) return 'foreground';
    return 'present';
  }

  /** Deletes a dependent whose owners are all gone; drops references to owners that are gone while others remain. */
  private async attemptToDelete(rt: ResourceType, dep: KObject): Promise<void> {
    const refs = dep.metadata.ownerReferences ?? [];
    if (refs.length === 0 || dep.metadata.deletionTimestamp) return;
    const states = await Promise.all(refs.map((r) => this.ownerState(dep, r)));
    const ns = rt.namespaced ? dep.metadata.namespace : undefined;
    if (states.every((s) => s === 'absent')) {
      await this.client.delete(rt, ns, dep.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: dep.metadata.uid! } }).catch(ignoreGone);
      return;
    }
    if (states.some((s) => s === 'absent')) {
      const kept = refs.filter((_, i) => states[i] !== 'absent');
      await this.client.update(rt, { ...dep, metadata: { ...dep.metadata, ownerReferences: kept } }).catch(ignoreGone);
      return;
    }
    const blocking = refs.some((r, i) => states[i] === 'foreground' && r.blockOwnerDeletion);
    if (blocking) {
      await this.client.delete(rt, ns, dep.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: dep.metadata.uid! } }).catch(ignoreGone);
    }
  }

  /** An owner being deleted with a GC finalizer: orphan or delete its dependents, then release the finalizer. */
  private async processOwner(rt: ResourceType, owner: KObject): Promise<ReconcileResult | void> {
    const finalizers = owner.metadata.finalizers ?? [];
    // Every dependent's deletion queues its owners: most have no GC finalizer and need nothing.
    if (!owner.metadata.deletionTimestamp || !hasGcFinalizer(owner)) return;
    const uid = owner.metadata.uid!;
    const dependents = await this.dependentsOf(owner.metadata.namespace ?? '', uid);
    if (finalizers.includes(FINALIZER_ORPHAN)) {
      for (const { rt: drt, obj } of dependents) {
        const kept = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        await this.client.update(drt, { ...obj, metadata: { ...obj.metadata, ownerReferences: kept } }).catch(ignoreGone);
      }
      return this.removeFinalizer(rt, owner, FINALIZER_ORPHAN);
    }
    if (finalizers.includes(FINALIZER_FOREGROUND)) {
      let waiting = false;
      for (const { rt: drt, obj } of dependents) {
        const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.uid === uid);
        if (ref?.blockOwnerDeletion) waiting = true;
        if (!obj.metadata.deletionTimestamp) {
          await this.client
            .delete(drt, drt.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!, {
              propagationPolicy: 'Foreground',
              preconditions: { uid: obj.metadata.uid! },
            })
            .catch(ignoreGone);
        }
      }
      // Dependents going away re-queue this owner through their deletion events; the resync backs that up.
      if (waiting) return { requeueAfterMs: 2_000 };
      return this.removeFinalizer(rt, owner, FINALIZER_FOREGROUND);
    }
  }

  private async removeFinalizer(rt: ResourceType, owner: KObject, finalizer: string): Promise<ReconcileResult | void> {
    try {
      await this.client.update(rt, { ...owner, metadata: { ...owner.metadata, finalizers: (owner.metadata.finalizers ?? []).filter((f) => f !== finalizer) } });
    } catch (err) {
      if (isConflict(err)) return { requeueAfterMs: 10 };
      ignoreGone(err);
    }
  }
}
