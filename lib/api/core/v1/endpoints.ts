import { z } from 'zod';
import { Int32, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { ObjectReferenceSchema } from './object-reference.js';

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

// Endpoints' targetRef was the first home of ObjectReference; its importers keep importing it from here.
export { ObjectReferenceSchema, type ObjectReference } from './object-reference.js';
