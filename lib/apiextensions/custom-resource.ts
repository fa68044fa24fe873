/**
 * What the API server does to a custom object of one CRD version, in kube's
 * order (apiextensions-apiserver's customresource strategy and codec):
 * on decode prune unknown fields, apply defaults and drop non-nullable nulls;
 * then validate the type meta, the schema, embedded resources, set/map
 * lists, the scale subresource's paths, and last the CEL rules, which are
 * skipped (with kube's note) when an earlier error makes the object unfit for
 * them. Compile once per CRD version and keep the result.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { isPlainObject } from '../util/json.js';
import { newCelValidator, type CelValidatorOptions } from './cel.js';
import { applyDefaults, pruneNonNullableNulls } from './defaulting.js';
import { validateEmbeddedResources } from './embedded.js';
import { validateListSetsAndMaps } from './list-type.js';
import { newSchemaValidator } from './object-validation.js';
import { prune } from './pruning.js';
import type { CustomResourceSubresourceScale, JSONSchemaProps } from './types.js';

export interface CustomResourceVersion {
  group: string;
  version: string;
  kind: string;
  schema: JSONSchemaProps;
  /** The version's scale subresource, when it has one. */
  scale?: CustomResourceSubresourceScale | null;
}

export interface CustomResourceHandler {
  /** Removes undeclared fields in place; returns their paths for fieldValidation Warn/Strict. */
  prune(obj: Record<string, unknown>): string[];
  /** Applies schema defaults in place (run after prune, on requests and on reads from storage). */
  applyDefaults(obj: Record<string, unknown>): void;
  /** Errors for a create (old undefined) or an update; transition rules see `old`. */
  validate(obj: Record<string, unknown>, old?: Record<string, unknown>): FieldError[];
  /** Errors for an update through the status subresource: only status is checked against the schema. */
  validateStatus(obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[];
}

/** kube's blocking error types: after one of these, CEL rules are not run. */
const BLOCKING = new Set<FieldError['type']>([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

export function newCustomResourceHandler(v: CustomResourceVersion, opts: CelValidatorOptions = {}): CustomResourceHandler {
  const schemaValidator = newSchemaValidator(v.schema);
  const statusSchema = v.schema.properties?.status;
  const statusValidator = statusSchema ? newSchemaValidator(statusSchema) : undefined;
  const cel = newCelValidator(v.schema, true, opts);
  const apiVersion = `${v.group}/${v.version}`;

  const typeMeta = (obj: Record<string, unknown>): FieldError[] => {
    const errs: FieldError[] = [];
    if (obj.kind !== v.kind) errs.push(fieldErrors.invalid('kind', obj.kind ?? '', `must be ${v.kind}`));
    if (obj.apiVersion !== apiVersion) errs.push(fieldErrors.invalid('apiVersion', obj.apiVersion ?? '', `must be ${apiVersion}`));
    return errs;
  };

  const withRules = (errs: FieldError[], run: () => FieldError[]): FieldError[] => {
    if (!cel) return errs;
    if (errs.some((e) => BLOCKING.has(e.type))) {
      return [
        ...errs,
        fieldErrors.invalid(
          '<nil>',
          null,
          'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
        ),
      ];
    }
    return [...errs, ...run()];
  };

  return {
    prune: (obj) => prune(obj, v.schema, true),
    applyDefaults(obj) {
      applyDefaults(obj, v.schema);
      pruneNonNullableNulls(obj, v.schema);
    },
    validate(obj, old) {
      const meta = typeMeta(obj);
      if (meta.length > 0) return meta;
      const errs = [
        ...schemaValidator.validate(obj),
        ...(v.scale ? [...scaleErrors(obj, v.scale.specReplicasPath), ...scaleErrors(obj, v.scale.statusReplicasPath)] : []),
        ...validateEmbeddedResources('', v.schema, obj),
        ...validateListSetsAndMaps('', v.schema, obj),
      ];
      return withRules(errs, () => cel!.validate(obj, old));
    },
    validateStatus(obj, old) {
      const meta = typeMeta(obj);
      if (meta.length > 0) return meta;
      const errs = [
        ...(statusValidator && 'status' in obj ? statusValidator.validate(obj.status, 'status') : []),
        ...(v.scale ? scaleErrors(obj, v.scale.statusReplicasPath) : []),
        ...validateEmbeddedResources('', v.schema, obj),
        ...validateListSetsAndMaps('', v.schema, obj),
      ];
      return withRules(errs, () => cel!.validate(obj, old));
    },
  };
}

/** The scale subresource's replicas paths must hold an int32 when present (customResourceValidator.ValidateScaleSpec/Status). */
function scaleErrors(obj: Record<string, unknown>, jsonPath: string | undefined): FieldError[] {
  if (!jsonPath) return [];
  let cur: unknown = obj;
  const parts = jsonPath.replace(/^\./, '').split('.');
  for (const [i, p] of parts.entries()) {
    // A missing field is no error (unstructured.NestedInt64 reports it as not found); a non-object on the way is.
    if (cur === undefined) return [];
    if (!isPlainObject(cur)) {
      return [
        fieldErrors.invalid(
          jsonPath,
          0,
          `${parts.slice(0, i).join('.')} accessor error: ${JSON.stringify(cur)} is of the type ${typeof cur}, expected map[string]interface{}`,
        ),
      ];
    }
    cur = cur[p];
  }
  if (cur === undefined) return [];
  if (typeof cur !== 'number' || !Number.isInteger(cur)) {
    return [fieldErrors.invalid(jsonPath, 0, `${parts.join('.')} accessor error: ${JSON.stringify(cur)} is of the type ${typeof cur}, expected int64`)];
  }
  if (cur < 0) return [fieldErrors.invalid(jsonPath, cur, 'should be a non-negative integer')];
  if (cur > 2147483647) return [fieldErrors.invalid(jsonPath, cur, 'should be less than or equal to 2147483647')];
  return [];
}
