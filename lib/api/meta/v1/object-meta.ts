import { z } from 'zod';

export const OwnerReferenceSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

export const ManagedFieldsEntrySchema = z.looseObject({
  manager: z.string().optional(),
  operation: z.string().optional(),
  apiVersion: z.string().optional(),
  time: z.string().optional(),
  fieldsType: z.string().optional(),
  fieldsV1: z.record(z.string(), z.unknown()).optional(),
  subresource: z.string().optional(),
});

const StringMap = z.record(z.string(), z.string());

export const ObjectMetaSchema = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  selfLink: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullable().optional(),
  deletionTimestamp: z.string().nullable().optional(),
  deletionGracePeriodSeconds: z.number().int().nullable().optional(),
  labels: StringMap.nullable().optional(),
  annotations: StringMap.nullable().optional(),
  ownerReferences: z.array(OwnerReferenceSchema).nullable().optional(),
  finalizers: z.array(z.string()).nullable().optional(),
  managedFields: z.array(ManagedFieldsEntrySchema).nullable().optional(),
});

export type ObjectMetaShape = z.infer<typeof ObjectMetaSchema>;

/** The envelope every kind shares; kinds extend it with spec/status/data. */
export const TypeMetaSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: ObjectMetaSchema,
});
