import { z } from 'zod';

/** metav1.Condition and the per-kind condition shapes share these fields. */
export const ConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  observedGeneration: z.number().int().optional(),
  lastProbeTime: z.string().nullable().optional(),
  lastHeartbeatTime: z.string().nullable().optional(),
  lastUpdateTime: z.string().nullable().optional(),
  lastTransitionTime: z.string().nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export type Condition = z.infer<typeof ConditionSchema>;
