export { PersistentVolumeSchema, PersistentVolumeSpecSchema, type PersistentVolume } from './shapes.generated.js';

/** Annotations the binder and provisioners use, as Kubernetes' PV controller does. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** Added on create (StorageObjectInUseProtection); the volume controller removes it once no claim is bound to the volume. */
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
