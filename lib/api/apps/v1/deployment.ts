import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { Int32, IntOrStringSchema, opt } from '../../meta/v1/common.js';
import { LabelSelectorSchema } from '../../meta/v1/label-selector.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { PodTemplateSpecSchema } from '../../core/v1/pod.js';

export const DeploymentStrategySchema = z.looseObject({
  type: opt(z.string()),
  rollingUpdate: opt(z.looseObject({ maxUnavailable: opt(IntOrStringSchema), maxSurge: opt(IntOrStringSchema) })),
});

export const DeploymentSpecSchema = z.looseObject({
  replicas: opt(Int32),
  selector: opt(LabelSelectorSchema),
  template: opt(PodTemplateSpecSchema),
  strategy: opt(DeploymentStrategySchema),
  minReadySeconds: opt(Int32),
  revisionHistoryLimit: opt(Int32),
  paused: opt(z.boolean()),
  progressDeadlineSeconds: opt(Int32),
});

export const DeploymentStatusSchema = z.looseObject({
  observedGeneration: opt(z.number().int()),
  replicas: opt(Int32),
  updatedReplicas: opt(Int32),
  readyReplicas: opt(Int32),
  availableReplicas: opt(Int32),
  unavailableReplicas: opt(Int32),
  terminatingReplicas: opt(Int32),
  conditions: opt(z.array(ConditionSchema)),
  collisionCount: opt(Int32),
});

export const DeploymentSchema = TypeMetaSchema.extend({
  spec: DeploymentSpecSchema.optional(),
  status: DeploymentStatusSchema.optional(),
});

export type Deployment = z.infer<typeof DeploymentSchema>;
export type DeploymentSpec = z.infer<typeof DeploymentSpecSchema>;
export type DeploymentStatus = z.infer<typeof DeploymentStatusSchema>;
