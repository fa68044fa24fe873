/**
 * Which pods an owner (a ReplicaSet or a Job) controls: Kubernetes'
 * PodControllerRefManager, adopting matching orphans and releasing owned
 * pods that no longer match. Shared by the ReplicaSet and Job controllers;
 * claimObjects is the same for any kind (ControllerRevisions: kube's
 * ControllerRevisionControllerRefManager).
 */
import type { Pod } from '../api/core/v1/pod.js';
import { matches, type Selector } from '../api/labels.js';
import type { KObject } from '../api/object.js';
import { type ResourceType } from '../api/registry.js';
import { PODS } from '../kinds/resources.js';
import { isConflict, isInvalid, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { controllerRef, newControllerRef } from '../api/meta/v1/owner-references.js';

export interface ClaimOptions {
  client: KubeClient;
  owner: KObject;
  ownerType: ResourceType;
  selector: Selector;
  /** Every pod in the owner's namespace. */
  pods: Pod[];
  /** Whether pods that match but have no controller may be adopted. @default true */
  adopt?: boolean;
}

/**
 * Kubernetes' ClaimPods: returns the pods the owner controls after adopting
 * matching orphans and releasing owned pods that no longer match. Adoption
 * and release are conditional updates; losing one just leaves that pod out.
 */
export async function claimPods(opts: ClaimOptions): Promise<Pod[]> {
  const finished = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  return claimObjects({ ...opts, rt: PODS, objects: opts.pods, noAdopt: finished });
}

/** ClaimOptions for any kind: `objects` of kind `rt` in the owner's namespace; `noAdopt` excludes orphans from adoption. */
export interface ClaimObjectsOptions<T extends KObject | Pod> extends Omit<ClaimOptions, 'pods' | 'ownerType'> {
  rt: ResourceType;
  objects: T[];
  noAdopt?(obj: T): boolean;
}

/** ClaimPods for any kind (kube's BaseControllerRefManager.ClaimObject over a list). */
export async function claimObjects<T extends KObject | Pod>(opts: ClaimObjectsOptions<T>): Promise<T[]> {
  const { client, owner, selector, rt } = opts;
  const uid = owner.metadata.uid;
  const owned: T[] = [];
  for (const pod of opts.objects) {
    const ref = controllerRef(pod as KObject);
    const match = matches(selector, pod.metadata.labels);
    if (ref?.uid === uid) {
      if (match || pod.metadata.deletionTimestamp) {
        owned.push(pod);
        continue;
      }
      // Release: drop our reference from a pod whose labels no longer match.
      try {
        const refs = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        await client.update(rt, { ...pod, metadata: { ...pod.metadata, ownerReferences: refs } } as KObject);
      } catch (err) {
        if (!(isConflict(err) || isNotFound(err))) throw err;
      }
      continue;
    }
    if (ref || !match || pod.metadata.deletionTimestamp || owner.metadata.deletionTimestamp || opts.adopt === false) continue;
    if (opts.noAdopt?.(pod)) continue;
    try {
      const adopted = await client.update<T & KObject>(rt, {
        ...pod,
        metadata: { ...pod.metadata, ownerReferences: [...(pod.metadata.ownerReferences ?? []), newControllerRef(owner)] },
      } as KObject);
      owned.push(adopted);
    } catch (err) {
      if (!(isConflict(err) || isNotFound(err) || isInvalid(err))) throw err;
    }
  }
  return owned;
}
