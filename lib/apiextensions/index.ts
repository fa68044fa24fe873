/**
 * CustomResourceDefinitions, the pure part: what the API server calls to
 * accept a CRD and to serve its objects. See docs/crds.md.
 */
export { CustomResourceDefinitionSchema, JSONSchemaPropsSchema, KUBE_API_APPROVED_ANNOTATION } from './types.js';
export type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps, ValidationRule } from './types.js';
export { defaultCustomResourceDefinition } from './crd-defaults.js';
export { validateCustomResourceDefinition, isEstablished, isProtectedCommunityGroup, type ValidateOptions } from './crd-validation.js';
export { unsupportedFieldsError, validateStructural } from './structural.js';
export { newSchemaValidator, type SchemaValidator } from './object-validation.js';
export { newCelValidator, compileRules, DEFAULT_CEL_TIME_LIMIT_MS, type CelValidator, type CelValidatorOptions } from './cel.js';
export { prune } from './pruning.js';
export { applyDefaults, pruneNonNullableNulls } from './defaulting.js';
export { newCustomResourceHandler, type CustomResourceHandler, type CustomResourceVersion } from './custom-resource.js';
export { acceptNames, emptyGroupNames, holdNames, type GroupNames, type NamesCondition } from './naming.js';
