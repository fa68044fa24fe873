/**
 * Creating and deleting the pods of one owner (a ReplicaSet or a Job) toward
 * a wanted count, with the decision recorded first as expectations on the
 * owner (see expectations.ts). Shared by the ReplicaSet and Job controllers.
 */
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { type ResourceType } from '../api/registry.js';
import { PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { StatusError, isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { randomSuffix } from '../api/names.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { type Expectations, observedPodsRevision, readExpectations, sameExpectations, withExpectations } from './expectations.js';
import type { OwnerIndex } from './owner-index.js';
import { newControllerRef } from '../api/meta/v1/owner-references.js';
import { deletionOrder, isActive } from './pod-util.js';

export interface PodSet {
  client: KubeClient;
  recorder: Recorder;
  owner: KObject;
  ownerType: ResourceType;
  template: PodTemplateSpec;
  /** Every pod the owner controls, from a view at least as new as the owner's observed pods revision (podsOf). */
  pods: Pod[];
  /** The revision of the pod view `pods` come from. */
  podsRevision?: number;
  /** Creates this process has made under reserved names, so a reconcile on a view that lags them does not send them again. */
  creates?: CreatesInFlight;
}

/**
 * The pods a controller process has created (or is creating) under reserved
 * names, with the revision each create returned. A reconcile whose pod view
 * is older than that revision cannot have seen the pod yet, so it leaves the
 * reservation to the create that is already done instead of sending it again
 * (which would only end in AlreadyExists). A reservation this process did not
 * create, or whose pod the view should show but does not (created, then
 * deleted), is created as before: that is how a reservation left by a crashed
 * reconciler is completed.
 */
export class CreatesInFlight {
  /** `namespace/name` → revision of the created pod, 0 while the create is in flight. */
  private readonly entries = new Map<string, number>();

  /** Whether creating `name` now would repeat a create this process made that a view at `viewRevision` cannot show yet. */
  covers(namespace: string, name: string, viewRevision: number | undefined): boolean {
    const rev = this.entries.get(`${namespace}/${name}`);
    if (rev === undefined || viewRevision === undefined) return false;
    return rev === 0 || viewRevision < rev;
  }

  begin(namespace: string, name: string): void {
    if (this.entries.size > 100_000) this.entries.clear();
    this.entries.set(`${namespace}/${name}`, 0);
  }

  done(namespace: string, name: string, revision: number | undefined): void {
    if (revision) this.entries.set(`${namespace}/${name}`, revision);
    else this.entries.delete(`${namespace}/${name}`);
  }

  forget(namespace: string, name: string): void {
    this.entries.delete(`${namespace}/${name}`);
  }
}

/**
 * The pods that may belong to `owner` (its own and orphans in its namespace),
 * read from a view at least as new as the one its expectations were last
 * written from: from the owner index when the controller has one, else by a
 * consistent list of the namespace (made after the owner was read, so it is
 * newer than anything the owner records).
 */
export async function podsOf(client: KubeClient, index: OwnerIndex | undefined, owner: KObject): Promise<{ pods: (Pod & KObject)[]; revision: number }> {
  const namespace = owner.metadata.namespace ?? '';
  if (index) {
    await index.ensure(storeResource(PODS), observedPodsRevision(owner));
    return {
      pods: index.candidates(storeResource(PODS), namespace, owner.metadata.uid ?? '') as (Pod & KObject)[],
      revision: index.revision(storeResource(PODS)),
    };
  }
  const list = await client.listAll<Pod & KObject>(PODS, namespace);
  return { pods: list.items, revision: Number(list.metadata.resourceVersion) || 0 };
}

export interface ScaleOutcome {
  /** The owner as stored after recording expectations. */
  owner: KObject;
  created: number;
  deleted: number;
  /** Set when a create failed (the error is also recorded as a FailedCreate Event). */
  createError?: StatusError;
}

/** The pod an owner's template describes, under a reserved name. */
export function podFromTemplate(owner: KObject, template: PodTemplateSpec, name: string): KObject {
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: owner.metadata.namespace ?? 'default',
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** Runs `fn` over items in batches of 1, 2, 4, ... (Kubernetes' slow start), stopping after a batch with a failure. */
export async function slowStart<T>(items: T[], fn: (item: T) => Promise<void>): Promise<unknown> {
  let i = 0;
  let batch = 1;
  while (i < items.length) {
    const chunk = items.slice(i, i + batch);
    const results = await Promise.allSettled(chunk.map(fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) return failed.reason;
    i += chunk.length;
    batch = Math.min(batch * 2, 500);
  }
  return undefined;
}

/**
 * Moves the number of active pods toward `want`. Returns 'conflict' when the
 * owner changed underneath (the caller re-reads and tries again).
 */
export async function scalePodSet(set: PodSet, want: number, onlyCreateWhen = true): Promise<ScaleOutcome | 'conflict'> {
  const { client, owner, ownerType } = set;
  const exp = readExpectations(owner);
  const existing = new Set(set.pods.map((p) => p.metadata.name!));
  const active = set.pods.filter(isActive);
  const activeNames = new Set(active.map((p) => p.metadata.name!));
  // A reserved name that now exists is observed; a pod chosen for deletion that is no longer active is done.
  const next: Expectations = {
    add: exp.add.filter((n) => !existing.has(n)),
    del: exp.del.filter((n) => activeNames.has(n)),
  };
  const count = active.length - next.del.length + next.add.length;
  const diff = want - count;
  if (diff > 0 && onlyCreateWhen) {
    for (let i = 0; i < diff; i++) {
      let name: string;
      do name = `${owner.metadata.name}-${randomSuffix()}`;
      while (existing.has(name) || next.add.includes(name));
      next.add.push(name);
    }
  } else if (diff < 0) {
    const pendingDel = new Set(next.del);
    const victims = active
      .filter((p) => !pendingDel.has(p.metadata.name!))
      .sort(deletionOrder)
      .slice(0, -diff);
    next.del.push(...victims.map((p) => p.metadata.name!));
  }

  let stored = owner;
  if (!sameExpectations(exp, next)) {
    try {
      stored = await client.update(ownerType, withExpectations(owner, next, set.podsRevision));
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return 'conflict';
      throw err;
    }
  }

  const ns = owner.metadata.namespace;
  const creates = set.creates;
  const nsKey = ns ?? '';
  if (creates) for (const name of exp.add) if (existing.has(name)) creates.forget(nsKey, name);
  const toCreate = creates ? next.add.filter((name) => !creates.covers(nsKey, name, set.podsRevision)) : next.add;
  const createdNames: string[] = [];
  let createError: StatusError | undefined;
  const failure = await slowStart(toCreate, async (name) => {
    creates?.begin(nsKey, name);
    let revision: number | undefined;
    try {
      const created = await client.create(PODS, ns, podFromTemplate(owner, set.template, name));
      revision = Number(created.metadata.resourceVersion) || undefined;
      createdNames.push(name);
    } catch (err) {
      if (isAlreadyExists(err)) return;
      throw err;
    } finally {
      creates?.done(nsKey, name, revision);
    }
  });
  if (failure) {
    createError = failure instanceof StatusError ? failure : StatusError.internal(String((failure as Error).message ?? failure));
    await set.recorder.record(owner, 'Warning', 'FailedCreate', `Error creating: ${createError.message}`);
  }
  for (const name of createdNames) await set.recorder.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);

  let deleted = 0;
  await Promise.all(
    next.del.map(async (name) => {
      try {
        const uid = set.pods.find((p) => p.metadata.name === name)?.metadata.uid;
        await client.delete(PODS, ns, name, uid ? { preconditions: { uid } } : {});
        deleted++;
        await set.recorder.record(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return;
        throw err;
      }
    }),
  );
  return { owner: stored, created: createdNames.length, deleted, ...(createError ? { createError } : {}) };
}
