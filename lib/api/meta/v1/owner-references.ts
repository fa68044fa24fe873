/** ownerReference helpers (metav1.GetControllerOf, NewControllerRef): the controllers, the garbage collector, the scheduler and the drain read owners with them. */
import type { KObject, OwnerReference } from '../../object.js';

export function controllerRef(obj: KObject | undefined): OwnerReference | undefined {
  return obj?.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The reference a controller puts on what it creates: controller and blockOwnerDeletion set. */
export function newControllerRef(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
