import { z } from 'zod';
import { QuantitySchema, ResourceListSchema, opt } from '../../meta/v1/common.js';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const PersistentVolumeClaimSpecSchema = z.looseObject({
  accessModes: opt(z.array(z.string())),
  selector: opt(z.looseObject({})),
  resources: opt(z.looseObject({ requests: opt(ResourceListSchema), limits: opt(ResourceListSchema) })),
  volumeName: opt(z.string()),
  storageClassName: opt(z.string()),
  volumeMode: opt(z.string()),
  dataSource: opt(z.looseObject({ kind: z.string(), name: z.string(), apiGroup: opt(z.string()) })),
  volumeAttributesClassName: opt(z.string()),
});

/** core/v1 PersistentVolumeClaim: a request for storage, bound to one PersistentVolume. */
export const PersistentVolumeClaimSchema = TypeMetaSchema.extend({
  spec: PersistentVolumeClaimSpecSchema.optional(),
  status: z
    .looseObject({
      phase: opt(z.string()),
      accessModes: opt(z.array(z.string())),
      capacity: opt(z.record(z.string(), QuantitySchema)),
      conditions: opt(z.array(ConditionSchema)),
    })
    .optional(),
});

export type PersistentVolumeClaim = z.infer<typeof PersistentVolumeClaimSchema>;

/** Added on create (Kubernetes' StorageObjectInUseProtection admission); the volume controller removes it once no pod uses the claim. */
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
