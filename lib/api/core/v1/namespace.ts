import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const NamespaceSchema = TypeMetaSchema.extend({
  spec: z.looseObject({ finalizers: z.array(z.string()).nullable().optional() }).optional(),
  status: z.looseObject({ phase: z.string().nullable().optional(), conditions: z.array(ConditionSchema).nullable().optional() }).optional(),
});

export type Namespace = z.infer<typeof NamespaceSchema>;

/** The finalizer the API server puts on every namespace and the namespace controller removes once it is empty (corev1.FinalizerKubernetes). */
export const NAMESPACE_FINALIZER = 'kubernetes';
