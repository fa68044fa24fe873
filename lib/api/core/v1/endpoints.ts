import { z } from 'zod';
import { Int32 } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();

export const ObjectReferenceSchema = z.looseObject({
  kind: opt(z.string()),
  namespace: opt(z.string()),
  name: opt(z.string()),
  uid: opt(z.string()),
  apiVersion: opt(z.string()),
  resourceVersion: opt(z.string()),
  fieldPath: opt(z.string()),
});

export const EndpointAddressSchema = z.looseObject({
  ip: z.string(),
  hostname: opt(z.string()),
  nodeName: opt(z.string()),
  targetRef: opt(ObjectReferenceSchema),
});

export const EndpointPortSchema = z.looseObject({
  name: opt(z.string()),
  port: Int32,
  protocol: opt(z.string()),
  appProtocol: opt(z.string()),
});

export const EndpointSubsetSchema = z.looseObject({
  addresses: opt(z.array(EndpointAddressSchema)),
  notReadyAddresses: opt(z.array(EndpointAddressSchema)),
  ports: opt(z.array(EndpointPortSchema)),
});

/** core/v1 Endpoints: the legacy, one-object-per-Service list of a Service's addresses (deprecated in v1.33 for EndpointSlices). */
export const EndpointsSchema = TypeMetaSchema.extend({
  subsets: opt(z.array(EndpointSubsetSchema)),
});

export type Endpoints = z.infer<typeof EndpointsSchema>;
export type EndpointSubset = z.infer<typeof EndpointSubsetSchema>;
export type EndpointAddress = z.infer<typeof EndpointAddressSchema>;
export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;
