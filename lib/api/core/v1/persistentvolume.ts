import { z } from 'zod';
import { ResourceListSchema, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { ObjectReferenceSchema } from './object-reference.js';

const NodeSelectorSchema = z.looseObject({
  nodeSelectorTerms: z.array(
    z.looseObject({
      matchExpressions: opt(z.array(z.looseObject({ key: z.string(), operator: z.string(), values: opt(z.array(z.string())) }))),
      matchFields: opt(z.array(z.looseObject({ key: z.string(), operator: z.string(), values: opt(z.array(z.string())) }))),
    }),
  ),
});

export const PersistentVolumeSpecSchema = z.looseObject({
  capacity: opt(ResourceListSchema),
  accessModes: opt(z.array(z.string())),
  claimRef: opt(ObjectReferenceSchema),
  persistentVolumeReclaimPolicy: opt(z.string()),
  storageClassName: opt(z.string()),
  mountOptions: opt(z.array(z.string())),
  volumeMode: opt(z.string()),
  nodeAffinity: opt(z.looseObject({ required: opt(NodeSelectorSchema) })),
  volumeAttributesClassName: opt(z.string()),
  hostPath: opt(z.looseObject({ path: z.string(), type: opt(z.string()) })),
  local: opt(z.looseObject({ path: z.string(), fsType: opt(z.string()) })),
  awsElasticBlockStore: opt(z.looseObject({ volumeID: z.string(), fsType: opt(z.string()), partition: opt(z.number()), readOnly: opt(z.boolean()) })),
  csi: opt(z.looseObject({ driver: z.string(), volumeHandle: z.string() })),
});

/** core/v1 PersistentVolume: a piece of storage, bound to at most one claim. */
export const PersistentVolumeSchema = TypeMetaSchema.extend({
  spec: PersistentVolumeSpecSchema.optional(),
  status: z
    .looseObject({
      phase: opt(z.string()),
      message: opt(z.string()),
      reason: opt(z.string()),
      lastPhaseTransitionTime: opt(z.string()),
    })
    .optional(),
});

export type PersistentVolume = z.infer<typeof PersistentVolumeSchema>;

/** Annotations the binder and provisioners use, as Kubernetes' PV controller does. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** Added on create (StorageObjectInUseProtection); the volume controller removes it once no claim is bound to the volume. */
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
