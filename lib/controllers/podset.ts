/**
 * Creating and deleting the pods of one owner (a ReplicaSet or a Job) toward
 * a wanted count, with the decision recorded first as expectations on the
 * owner (see expectations.ts). Shared by the ReplicaSet and Job controllers.
 */
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { resourceByName, type ResourceType } from '../api/registry.js';
import { StatusError } from '../apiserver/errors.js';
import { randomSuffix } from '../apiserver/rest.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from './events.js';
import { type Expectations, readExpectations, sameExpectations, withExpectations } from './expectations.js';
import { newControllerRef } from './owner.js';
import { deletionOrder, isActive } from './pod-util.js';

export const PODS = resourceByName('pods')!;

export interface PodSet {
  client: KubeClient;
  recorder: Recorder;
  owner: KObject;
  ownerType: ResourceType;
  template: PodTemplateSpec;
  /** Every pod the owner controls, as just read (consistently). */
  pods: Pod[];
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
async function slowStart<T>(items: T[], fn: (item: T) => Promise<void>): Promise<unknown> {
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
    const victims = active.filter((p) => !pendingDel.has(p.metadata.name!)).sort(deletionOrder).slice(0, -diff);
    next.del.push(...victims.map((p) => p.metadata.name!));
  }

  let stored = owner;
  if (!sameExpectations(exp, next)) {
    try {
      stored = await client.update(ownerType, withExpectations(owner, next));
    } catch (err) {
      if (err instanceof StatusError && (err.code === 409 || err.code === 404)) return 'conflict';
      throw err;
    }
  }

  const ns = owner.metadata.namespace;
  const createdNames: string[] = [];
  let createError: StatusError | undefined;
  const failure = await slowStart(next.add, async (name) => {
    try {
      await client.create(PODS, ns, podFromTemplate(owner, set.template, name));
      createdNames.push(name);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'AlreadyExists') return;
      throw err;
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
        if (err instanceof StatusError && (err.code === 404 || err.code === 409)) return;
        throw err;
      }
    }),
  );
  return { owner: stored, created: createdNames.length, deleted, ...(createError ? { createError } : {}) };
}
