import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { Int32, Int64, opt } from '../../meta/v1/common.js';
import { LabelSelectorSchema } from '../../meta/v1/label-selector.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { PodTemplateSpecSchema } from '../../core/v1/pod.js';

export const JobSpecSchema = z.looseObject({
  parallelism: opt(Int32),
  completions: opt(Int32),
  activeDeadlineSeconds: opt(Int64),
  backoffLimit: opt(Int32),
  selector: opt(LabelSelectorSchema),
  manualSelector: opt(z.boolean()),
  template: PodTemplateSpecSchema.nullable().optional(),
  ttlSecondsAfterFinished: opt(Int32),
  completionMode: opt(z.string()),
  suspend: opt(z.boolean()),
  podReplacementPolicy: opt(z.string()),
});

export const JobStatusSchema = z.looseObject({
  conditions: opt(z.array(ConditionSchema)),
  startTime: opt(z.string()),
  completionTime: opt(z.string()),
  active: opt(Int32),
  succeeded: opt(Int32),
  failed: opt(Int32),
  terminating: opt(Int32),
  ready: opt(Int32),
  completedIndexes: opt(z.string()),
  uncountedTerminatedPods: opt(z.looseObject({})),
});

export const JobSchema = TypeMetaSchema.extend({
  spec: JobSpecSchema.optional(),
  status: JobStatusSchema.optional(),
});

export type Job = z.infer<typeof JobSchema>;
