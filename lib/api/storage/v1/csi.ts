/**
 * storage.k8s.io/v1 CSIDriver and VolumeAttachment, written by hand: their
 * Go types are not among the generator's roots yet (docs/adding-a-kind.md),
 * so they are served as JSON (no protobuf, strategic merge or explain).
 * Field names and JSON types are k8s.io/api's; unknown fields pass through.
 */
import { z } from 'zod';
import { opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const CSIDriverSchema = TypeMetaSchema.extend({
  spec: opt(
    z.looseObject({
      attachRequired: opt(z.boolean()),
      podInfoOnMount: opt(z.boolean()),
      volumeLifecycleModes: opt(z.array(z.string())),
      storageCapacity: opt(z.boolean()),
      fsGroupPolicy: opt(z.string()),
      tokenRequests: opt(z.array(z.looseObject({ audience: z.string(), expirationSeconds: opt(z.number().int()) }))),
      requiresRepublish: opt(z.boolean()),
      seLinuxMount: opt(z.boolean()),
      nodeAllocatableUpdatePeriodSeconds: opt(z.number().int()),
    }),
  ),
});
export type CSIDriver = z.infer<typeof CSIDriverSchema>;

const VolumeErrorSchema = z.looseObject({ time: opt(z.string()), message: opt(z.string()), errorCode: opt(z.number().int()) });

export const VolumeAttachmentSchema = TypeMetaSchema.extend({
  // Required by kube, optional here so that validation names what is missing in kube's words.
  spec: opt(
    z.looseObject({
      attacher: opt(z.string()),
      source: opt(z.looseObject({ persistentVolumeName: opt(z.string()), inlineVolumeSpec: opt(z.looseObject({})) })),
      nodeName: opt(z.string()),
    }),
  ),
  status: opt(
    z.looseObject({
      attached: z.boolean(),
      attachmentMetadata: opt(z.record(z.string(), z.string())),
      attachError: opt(VolumeErrorSchema),
      detachError: opt(VolumeErrorSchema),
    }),
  ),
});
export type VolumeAttachment = z.infer<typeof VolumeAttachmentSchema>;
