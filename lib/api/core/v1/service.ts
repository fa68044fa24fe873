import { z } from 'zod';
import { ConditionSchema } from '../../meta/v1/condition.js';
import { Int32, IntOrStringSchema, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const ServicePortSchema = z.looseObject({
  name: opt(z.string()),
  protocol: opt(z.string()),
  appProtocol: opt(z.string()),
  port: Int32,
  targetPort: opt(IntOrStringSchema),
  nodePort: opt(Int32),
});

export const ServiceSpecSchema = z.looseObject({
  ports: opt(z.array(ServicePortSchema)),
  selector: opt(z.record(z.string(), z.string())),
  clusterIP: opt(z.string()),
  clusterIPs: opt(z.array(z.string())),
  type: opt(z.string()),
  externalIPs: opt(z.array(z.string())),
  sessionAffinity: opt(z.string()),
  sessionAffinityConfig: opt(z.looseObject({})),
  loadBalancerIP: opt(z.string()),
  externalName: opt(z.string()),
  externalTrafficPolicy: opt(z.string()),
  internalTrafficPolicy: opt(z.string()),
  ipFamilies: opt(z.array(z.string())),
  ipFamilyPolicy: opt(z.string()),
  publishNotReadyAddresses: opt(z.boolean()),
});

export const ServiceSchema = TypeMetaSchema.extend({
  spec: ServiceSpecSchema.optional(),
  status: z
    .looseObject({
      loadBalancer: opt(z.looseObject({ ingress: opt(z.array(z.looseObject({}))) })),
      conditions: opt(z.array(ConditionSchema)),
    })
    .optional(),
});

export type Service = z.infer<typeof ServiceSchema>;
export type ServicePort = z.infer<typeof ServicePortSchema>;
