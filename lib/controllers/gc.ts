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
 * owners may be gone. A resync checks every dependent's owners, so a missed
 * deletion event only delays collection.
 */
import type { KObject, OwnerReference } from '../api/object.js';
import { lookupKind, resourceByName, resourceTypes, type ResourceType } from '../api/registry.js';
import { StatusError } from '../apiserver/errors.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../apiserver/rest.js';
import type { KubeClient } from '../client/client.js';
import { deepEqual } from '../util/json.js';
import type { ChangeEvent, Reconciler, ReconcileResult, Watch } from './runtime.js';

/** Kinds whose objects are owned by others and so are scanned for dependents. */
const DEPENDENT_RESOURCES = ['pods', 'replicasets', 'jobs', 'deployments', 'services', 'configmaps', 'secrets'];

function dependentTypes(): ResourceType[] {
  return DEPENDENT_RESOURCES.map((r) => resourceByName(r)).filter((t): t is ResourceType => !!t);
}

function hasGcFinalizer(obj: KObject): boolean {
  const f = obj.metadata.finalizers ?? [];
  return f.includes(FINALIZER_FOREGROUND) || f.includes(FINALIZER_ORPHAN);
}

function keyOf(prefix: string, resource: string, obj: KObject): string {
  return `${prefix}/${resource}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function ignoreGone(err: unknown): void {
  if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) throw err;
}

export class GarbageCollector implements Reconciler {
  readonly name = 'garbagecollector';
  readonly watches: Watch[];

  constructor(private readonly client: KubeClient) {
    const watched = new Set([...DEPENDENT_RESOURCES, ...resourceTypes.filter((t) => t.resource !== 'events' && t.resource !== 'leases').map((t) => t.resource)]);
    this.watches = [...watched].map((resource) => ({ resource, keys: (e: ChangeEvent) => this.keysFor(resource, e) }));
  }

  private keysFor(resource: string, e: ChangeEvent): string[] {
    const keys: string[] = [];
    if (e.type === 'DELETED') {
      keys.push(`gone/${e.object.metadata.namespace ?? ''}/${e.object.metadata.uid}`);
      // An owner waiting in foreground deletion may be free to go now.
      for (const ref of e.object.metadata.ownerReferences ?? []) {
        const ort = lookupKind(ref.apiVersion, ref.kind);
        if (ort) keys.push(`owner/${ort.resource}/${ort.namespaced ? (e.object.metadata.namespace ?? '') : ''}/${ref.name}`);
      }
    }
    else if (e.object.metadata.deletionTimestamp && hasGcFinalizer(e.object)) keys.push(keyOf('owner', resource, e.object));
    const refs = e.object.metadata.ownerReferences ?? [];
    if (e.type !== 'DELETED' && refs.length > 0 && (e.type === 'ADDED' || !deepEqual(refs, e.prev?.metadata.ownerReferences ?? []))) {
      keys.push(keyOf('dep', resource, e.object));
    }
    return keys;
  }

  async listKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (const rt of dependentTypes()) {
      for (const obj of (await this.client.listAll(rt, undefined)).items) {
        if ((obj.metadata.ownerReferences ?? []).length > 0) keys.push(keyOf('dep', rt.resource, obj));
        if (obj.metadata.deletionTimestamp && hasGcFinalizer(obj)) keys.push(keyOf('owner', rt.resource, obj));
      }
    }
    return keys;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const [kind, ...rest] = key.split('/');
    if (kind === 'gone') {
      const [namespace, uid] = rest as [string, string];
      for (const { rt, obj } of await this.dependentsOf(namespace, uid)) await this.attemptToDelete(rt, obj);
      return;
    }
    const [resource, namespace, name] = rest as [string, string, string];
    const rt = resourceByName(resource);
    if (!rt) return;
    const obj = await this.client.find(rt, namespace || undefined, name);
    if (!obj) return;
    if (kind === 'dep') return this.attemptToDelete(rt, obj);
    if (kind === 'owner') return this.processOwner(rt, obj);
  }

  /** Objects in `namespace` (or anywhere, for a cluster-scoped owner) that reference `uid`. */
  private async dependentsOf(namespace: string, uid: string): Promise<{ rt: ResourceType; obj: KObject }[]> {
    const out: { rt: ResourceType; obj: KObject }[] = [];
    for (const rt of dependentTypes()) {
      const list = await this.client.listAll(rt, rt.namespaced && namespace ? namespace : undefined);
      for (const obj of list.items) if ((obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ rt, obj });
    }
    return out;
  }

  private async ownerState(dep: KObject, ref: OwnerReference): Promise<'absent' | 'present' | 'foreground'> {
    const rt = lookupKind(ref.apiVersion, ref.kind);
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
          await this.client.delete(drt, drt.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: obj.metadata.uid! } }).catch(ignoreGone);
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
      if (err instanceof StatusError && err.code === 409) return { requeueAfterMs: 10 };
      ignoreGone(err);
    }
  }
}
