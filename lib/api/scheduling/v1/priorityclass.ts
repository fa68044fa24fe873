import { z } from 'zod';
import { Int32 } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

/** scheduling.k8s.io/v1 PriorityClass: a name for a pod priority (k8s.io/api/scheduling/v1). */
export const PriorityClassSchema = TypeMetaSchema.extend({
  value: Int32.nullable().optional(),
  globalDefault: z.boolean().nullable().optional(),
  description: z.string().nullable().optional(),
  preemptionPolicy: z.string().nullable().optional(),
});

export type PriorityClass = z.infer<typeof PriorityClassSchema>;
