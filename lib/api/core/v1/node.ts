import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { Int32, ResourceListSchema, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const TaintSchema = z.looseObject({
  key: z.string(),
  value: opt(z.string()),
  effect: z.string(),
  timeAdded: opt(z.string()),
});

export const NodeSpecSchema = z.looseObject({
  podCIDR: opt(z.string()),
  podCIDRs: opt(z.array(z.string())),
  providerID: opt(z.string()),
  unschedulable: opt(z.boolean()),
  taints: opt(z.array(TaintSchema)),
});

export const NodeAddressSchema = z.looseObject({ type: z.string(), address: z.string() });

export const NodeStatusSchema = z.looseObject({
  capacity: opt(ResourceListSchema),
  allocatable: opt(ResourceListSchema),
  phase: opt(z.string()),
  conditions: opt(z.array(ConditionSchema)),
  addresses: opt(z.array(NodeAddressSchema)),
  daemonEndpoints: opt(z.looseObject({ kubeletEndpoint: opt(z.looseObject({ Port: Int32 })) })),
  nodeInfo: opt(z.looseObject({})),
  images: opt(z.array(z.looseObject({}))),
});

export const NodeSchema = TypeMetaSchema.extend({
  spec: NodeSpecSchema.optional(),
  status: NodeStatusSchema.optional(),
});

export type Node = z.infer<typeof NodeSchema>;
export type Taint = z.infer<typeof TaintSchema>;
