import { z } from 'zod';
import { ObjectMetaSchema } from './shapes.generated.js';

export { ManagedFieldsEntrySchema, ObjectMetaSchema, OwnerReferenceSchema } from './shapes.generated.js';
export type ObjectMetaShape = z.infer<typeof ObjectMetaSchema>;

/** The envelope of objects without Go types (custom resources): TypeMeta's fields (the generated kinds have them too) and metadata. */
export const TypeMetaSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: ObjectMetaSchema,
});
