import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { Int32, opt } from '../../meta/v1/common.js';
import { LabelSelectorSchema } from '../../meta/v1/label-selector.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { PodTemplateSpecSchema } from '../../core/v1/pod.js';

export const ReplicaSetSpecSchema = z.looseObject({
  replicas: opt(Int32),
  minReadySeconds: opt(Int32),
  selector: opt(LabelSelectorSchema),
  template: opt(PodTemplateSpecSchema),
});

export const ReplicaSetStatusSchema = z.looseObject({
  replicas: opt(Int32),
  fullyLabeledReplicas: opt(Int32),
  readyReplicas: opt(Int32),
  availableReplicas: opt(Int32),
  terminatingReplicas: opt(Int32),
  observedGeneration: opt(z.number().int()),
  conditions: opt(z.array(ConditionSchema)),
});

export const ReplicaSetSchema = TypeMetaSchema.extend({
  spec: ReplicaSetSpecSchema.optional(),
  status: ReplicaSetStatusSchema.optional(),
});

export type ReplicaSet = z.infer<typeof ReplicaSetSchema>;
