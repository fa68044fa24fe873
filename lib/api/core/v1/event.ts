import { z } from 'zod';
import { Int32, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';
import { ObjectReferenceSchema } from './object-reference.js';

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
