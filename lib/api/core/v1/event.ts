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

export const EventSchema = TypeMetaSchema.extend({
  involvedObject: ObjectReferenceSchema,
  reason: opt(z.string()),
  message: opt(z.string()),
  source: opt(z.looseObject({ component: opt(z.string()), host: opt(z.string()) })),
  firstTimestamp: opt(z.string()),
  lastTimestamp: opt(z.string()),
  count: opt(Int32),
  type: opt(z.string()),
  eventTime: opt(z.string()),
  series: opt(z.looseObject({})),
  action: opt(z.string()),
  related: opt(ObjectReferenceSchema),
  reportingComponent: opt(z.string()),
  reportingInstance: opt(z.string()),
});

export type Event = z.infer<typeof EventSchema>;
export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;
