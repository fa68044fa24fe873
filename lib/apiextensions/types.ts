/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition and its JSONSchemaProps,
 * shaped like k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1.
 *
 * The zod schema checks JSON types only: fields kube reports as "Required
 * value" are optional here so that validateCustomResourceDefinition can
 * report them with kube's paths and words.
 */
import { z } from 'zod';
import { TypeMetaSchema } from '../api/meta/v1/object-meta.js';

/** One node of an OpenAPI v3 schema as a CRD declares it (JSONSchemaProps). */
export interface JSONSchemaProps {
  id?: string;
  $schema?: string;
  $ref?: string;
  description?: string;
  type?: string;
  format?: string;
  title?: string;
  default?: unknown;
  maximum?: number;
  exclusiveMaximum?: boolean;
  minimum?: number;
  exclusiveMinimum?: boolean;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  maxItems?: number;
  minItems?: number;
  uniqueItems?: boolean;
  multipleOf?: number;
  enum?: unknown[];
  maxProperties?: number;
  minProperties?: number;
  required?: string[];
  items?: JSONSchemaProps | JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  patternProperties?: Record<string, JSONSchemaProps>;
  dependencies?: Record<string, JSONSchemaProps | string[]>;
  additionalItems?: JSONSchemaProps | boolean;
  definitions?: Record<string, JSONSchemaProps>;
  externalDocs?: { description?: string; url?: string };
  example?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: ValidationRule[];
}

/** One `x-kubernetes-validations` entry. */
export interface ValidationRule {
  rule?: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

const ValidationRuleSchema = z.looseObject({
  rule: z.string().optional(),
  message: z.string().optional(),
  messageExpression: z.string().optional(),
  reason: z.string().nullable().optional(),
  fieldPath: z.string().optional(),
  optionalOldSelf: z.boolean().nullable().optional(),
});

const count = z.number().int().min(0);

export const JSONSchemaPropsSchema: z.ZodType<JSONSchemaProps> = z.lazy(() =>
  z.looseObject({
    id: z.string().optional(),
    $schema: z.string().optional(),
    $ref: z.string().optional(),
    description: z.string().optional(),
    type: z.string().optional(),
    format: z.string().optional(),
    title: z.string().optional(),
    default: z.unknown().optional(),
    maximum: z.number().optional(),
    exclusiveMaximum: z.boolean().optional(),
    minimum: z.number().optional(),
    exclusiveMinimum: z.boolean().optional(),
    maxLength: count.optional(),
    minLength: count.optional(),
    pattern: z.string().optional(),
    maxItems: count.optional(),
    minItems: count.optional(),
    uniqueItems: z.boolean().optional(),
    multipleOf: z.number().optional(),
    enum: z.array(z.unknown()).optional(),
    maxProperties: count.optional(),
    minProperties: count.optional(),
    required: z.array(z.string()).optional(),
    items: z.union([JSONSchemaPropsSchema, z.array(JSONSchemaPropsSchema)]).optional(),
    allOf: z.array(JSONSchemaPropsSchema).optional(),
    oneOf: z.array(JSONSchemaPropsSchema).optional(),
    anyOf: z.array(JSONSchemaPropsSchema).optional(),
    not: JSONSchemaPropsSchema.optional(),
    properties: z.record(z.string(), JSONSchemaPropsSchema).optional(),
    additionalProperties: z.union([z.boolean(), JSONSchemaPropsSchema]).optional(),
    patternProperties: z.record(z.string(), JSONSchemaPropsSchema).optional(),
    dependencies: z.record(z.string(), z.union([z.array(z.string()), JSONSchemaPropsSchema])).optional(),
    additionalItems: z.union([z.boolean(), JSONSchemaPropsSchema]).optional(),
    definitions: z.record(z.string(), JSONSchemaPropsSchema).optional(),
    externalDocs: z.looseObject({ description: z.string().optional(), url: z.string().optional() }).optional(),
    example: z.unknown().optional(),
    nullable: z.boolean().optional(),
    'x-kubernetes-preserve-unknown-fields': z.boolean().nullable().optional(),
    'x-kubernetes-embedded-resource': z.boolean().optional(),
    'x-kubernetes-int-or-string': z.boolean().optional(),
    'x-kubernetes-list-map-keys': z.array(z.string()).optional(),
    'x-kubernetes-list-type': z.string().nullable().optional(),
    'x-kubernetes-map-type': z.string().nullable().optional(),
    'x-kubernetes-validations': z.array(ValidationRuleSchema).optional(),
  }),
) as z.ZodType<JSONSchemaProps>;

const NamesSchema = z.looseObject({
  plural: z.string().optional(),
  singular: z.string().optional(),
  shortNames: z.array(z.string()).nullable().optional(),
  kind: z.string().optional(),
  listKind: z.string().optional(),
  categories: z.array(z.string()).nullable().optional(),
});

const ScaleSchema = z.looseObject({
  specReplicasPath: z.string().optional(),
  statusReplicasPath: z.string().optional(),
  labelSelectorPath: z.string().nullable().optional(),
});

const SubresourcesSchema = z.looseObject({
  status: z.looseObject({}).nullable().optional(),
  scale: ScaleSchema.nullable().optional(),
});

const PrinterColumnSchema = z.looseObject({
  name: z.string().optional(),
  type: z.string().optional(),
  format: z.string().optional(),
  description: z.string().optional(),
  priority: z.number().int().optional(),
  jsonPath: z.string().optional(),
});

const SelectableFieldSchema = z.looseObject({ jsonPath: z.string().optional() });

const VersionSchema = z.looseObject({
  name: z.string().optional(),
  served: z.boolean().optional(),
  storage: z.boolean().optional(),
  deprecated: z.boolean().optional(),
  deprecationWarning: z.string().nullable().optional(),
  schema: z.looseObject({ openAPIV3Schema: JSONSchemaPropsSchema.nullable().optional() }).nullable().optional(),
  subresources: SubresourcesSchema.nullable().optional(),
  additionalPrinterColumns: z.array(PrinterColumnSchema).nullable().optional(),
  selectableFields: z.array(SelectableFieldSchema).nullable().optional(),
});

const ServiceReferenceSchema = z.looseObject({
  namespace: z.string().optional(),
  name: z.string().optional(),
  path: z.string().nullable().optional(),
  port: z.number().int().nullable().optional(),
});

const ConversionSchema = z.looseObject({
  strategy: z.string().optional(),
  webhook: z
    .looseObject({
      clientConfig: z
        .looseObject({ url: z.string().nullable().optional(), service: ServiceReferenceSchema.nullable().optional(), caBundle: z.string().optional() })
        .nullable()
        .optional(),
      conversionReviewVersions: z.array(z.string()).nullable().optional(),
    })
    .nullable()
    .optional(),
});

const ConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  lastTransitionTime: z.string().nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export const CustomResourceDefinitionSchema = TypeMetaSchema.extend({
  spec: z.looseObject({
    group: z.string().optional(),
    names: NamesSchema.optional(),
    scope: z.string().optional(),
    versions: z.array(VersionSchema).nullable().optional(),
    conversion: ConversionSchema.nullable().optional(),
    preserveUnknownFields: z.boolean().optional(),
  }),
  status: z
    .looseObject({
      conditions: z.array(ConditionSchema).nullable().optional(),
      acceptedNames: NamesSchema.optional(),
      storedVersions: z.array(z.string()).nullable().optional(),
    })
    .optional(),
});

export type CustomResourceDefinition = z.infer<typeof CustomResourceDefinitionSchema>;
export type CustomResourceDefinitionSpec = CustomResourceDefinition['spec'];
export type CustomResourceDefinitionNames = z.infer<typeof NamesSchema>;
export type CustomResourceDefinitionVersion = z.infer<typeof VersionSchema>;
export type CustomResourceSubresources = z.infer<typeof SubresourcesSchema>;
export type CustomResourceSubresourceScale = z.infer<typeof ScaleSchema>;
export type CustomResourceColumnDefinition = z.infer<typeof PrinterColumnSchema>;
export type SelectableField = z.infer<typeof SelectableFieldSchema>;
export type CustomResourceConversion = z.infer<typeof ConversionSchema>;

/** The annotation kube requires on CRDs in its own groups (`*.k8s.io`, `*.kubernetes.io`). */
export const KUBE_API_APPROVED_ANNOTATION = 'api-approved.kubernetes.io';
