import { z } from 'zod';
import { opt } from '../../meta/v1/common.js';

/** core/v1 ObjectReference: an event's involved object, an endpoint's target, a volume's claim. */
export const ObjectReferenceSchema = z.looseObject({
  kind: opt(z.string()),
  namespace: opt(z.string()),
  name: opt(z.string()),
  uid: opt(z.string()),
  apiVersion: opt(z.string()),
  resourceVersion: opt(z.string()),
  fieldPath: opt(z.string()),
});

export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;
