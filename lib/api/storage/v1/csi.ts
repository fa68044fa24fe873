/** storage.k8s.io/v1 CSIDriver and VolumeAttachment, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
export { CSIDriverSchema, type CSIDriver, VolumeAttachmentSchema, type VolumeAttachment } from './shapes.generated.js';
