import { z } from 'zod';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const ConfigMapSchema = TypeMetaSchema.extend({
  data: z.record(z.string(), z.string()).nullable().optional(),
  binaryData: z.record(z.string(), z.string()).nullable().optional(),
  immutable: z.boolean().nullable().optional(),
});

export type ConfigMap = z.infer<typeof ConfigMapSchema>;
