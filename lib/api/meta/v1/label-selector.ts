import { z } from 'zod';

export const LabelSelectorRequirementSchema = z.looseObject({
  key: z.string(),
  operator: z.string(),
  values: z.array(z.string()).nullable().optional(),
});

export const LabelSelectorSchema = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).nullable().optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).nullable().optional(),
});

export type LabelSelector = z.infer<typeof LabelSelectorSchema>;
export type LabelSelectorRequirement = z.infer<typeof LabelSelectorRequirementSchema>;
