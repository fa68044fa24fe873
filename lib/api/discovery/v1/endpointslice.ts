import { z } from 'zod';
import { Int32, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { ObjectReferenceSchema } from '../../core/v1/object-reference.js';

/** Unset (null) conditions mean "unknown", which consumers read as true for ready and serving. */
export const EndpointConditionsSchema = z.looseObject({
  ready: opt(z.boolean()),
  serving: opt(z.boolean()),
  terminating: opt(z.boolean()),
});

export const EndpointSchema = z.looseObject({
  addresses: z.array(z.string()),
  conditions: opt(EndpointConditionsSchema),
  hostname: opt(z.string()),
  targetRef: opt(ObjectReferenceSchema),
  deprecatedTopology: opt(z.record(z.string(), z.string())),
  nodeName: opt(z.string()),
  zone: opt(z.string()),
  hints: opt(z.looseObject({})),
});

export const EndpointSlicePortSchema = z.looseObject({
  name: opt(z.string()),
  protocol: opt(z.string()),
  port: opt(Int32),
  appProtocol: opt(z.string()),
});

/** discovery.k8s.io/v1 EndpointSlice: a chunk of a Service's endpoints with their conditions. */
export const EndpointSliceSchema = TypeMetaSchema.extend({
  addressType: z.string(),
  endpoints: opt(z.array(EndpointSchema)),
  ports: opt(z.array(EndpointSlicePortSchema)),
});

export type EndpointSlice = z.infer<typeof EndpointSliceSchema>;
export type Endpoint = z.infer<typeof EndpointSchema>;
export type EndpointSlicePort = z.infer<typeof EndpointSlicePortSchema>;

/** The label naming a slice's Service, and the one naming the controller that manages it. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
