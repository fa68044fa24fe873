export { PersistentVolumeClaimSchema, PersistentVolumeClaimSpecSchema, type PersistentVolumeClaim } from './shapes.generated.js';

/** Added on create (Kubernetes' StorageObjectInUseProtection admission); the volume controller removes it once no pod uses the claim. */
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
