/**
 * The checks kube-apiserver makes on a CRD's openAPIV3Schema
 * (pkg/apis/apiextensions/validation: validateCustomResourceDefinitionValidation
 * and ValidateCustomResourceDefinitionOpenAPISchema): the OpenAPI features
 * kube does not support, structural invariants, the x-kubernetes-*
 * extensions, defaults (valid, pruned, passing the rules) and the CEL rules,
 * which must compile.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { clone, deepEqual } from '../util/json.js';
import { compileRules, newCelValidator } from './cel.js';
import { resolveFieldPath } from './field-path.js';
import { newSchemaValidator } from './object-validation.js';
import { child, index, key } from './paths.js';
import { prune } from './pruning.js';
import { additionalPropertiesOf, itemsOf, unsupportedFieldsError, validateStructural } from './structural.js';
import type { JSONSchemaProps } from './types.js';

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const SUPPORTED_RULE_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);

/** Schema keys allowed at the root when the status subresource is on, with kube's Go field names (it prints those). */
const ROOT_FIELDS_WITH_STATUS: [string, string][] = [
  ['description', 'Description'],
  ['type', 'Type'],
  ['format', 'Format'],
  ['title', 'Title'],
  ['maximum', 'Maximum'],
  ['exclusiveMaximum', 'ExclusiveMaximum'],
  ['minimum', 'Minimum'],
  ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'],
  ['minLength', 'MinLength'],
  ['pattern', 'Pattern'],
  ['maxItems', 'MaxItems'],
  ['minItems', 'MinItems'],
  ['uniqueItems', 'UniqueItems'],
  ['multipleOf', 'MultipleOf'],
  ['required', 'Required'],
  ['items', 'Items'],
  ['properties', 'Properties'],
  ['externalDocs', 'ExternalDocs'],
  ['example', 'Example'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'],
  ['x-kubernetes-validations', 'XValidations'],
];

/** Go's zero values (false, "", empty) count as unset in kube's struct walks. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** The per-call state kube threads through its schema walk (specStandardValidatorV3). */
interface Walk {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
  /** The highest path under which oldSelf cannot be correlated with a previous value. */
  uncorrelatable?: string;
  /** CEL rules are compiled only when the schema is structural. */
  celEnabled: boolean;
}

/** Validates one openAPIV3Schema (`path` ends in `.validation` or `.schema`). */
export function validateCRDSchema(schema: JSONSchemaProps | undefined | null, statusEnabled: boolean, path: string): FieldError[] {
  if (!schema) return [];
  const root = child(path, 'openAPIV3Schema');
  const errs: FieldError[] = [];
  if (statusEnabled) errs.push(...rootWithStatus(schema, root));
  if (schema.nullable) errs.push(fieldErrors.forbidden(child(root, 'nullable'), 'nullable cannot be true at the root'));

  const initError = unsupportedFieldsError(schema);
  let celEnabled = false;
  if (!initError) {
    const structural = validateStructural(root, schema);
    if (structural.length > 0) errs.push(...structural);
    else {
      const defaults = validateDefaults(root, schema, schema, false);
      if (defaults.length > 0) errs.push(...defaults);
      else celEnabled = true;
    }
  }
  const walk: Walk = { allowDefaults: true, disallowDefaultsReason: '', insideResourceMeta: false, celEnabled };
  const openapi = openAPISchema(schema, root, walk, true);
  errs.push(...openapi.schema, ...openapi.cel);
  if (errs.length === 0 && initError) errs.push(fieldErrors.invalid(root, '', initError));
  return errs;
}

function rootWithStatus(schema: JSONSchemaProps, root: string): FieldError[] {
  for (const [k, v] of Object.entries(schema)) {
    if (!isSet(v)) continue;
    if (k === 'type') {
      if (v !== 'object')
        return [
          fieldErrors.invalid(child(root, 'type'), v, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled'),
        ];
      continue;
    }
    if (!ROOT_FIELDS_WITH_STATUS.some(([json]) => json === k)) {
      const allowed = `[${ROOT_FIELDS_WITH_STATUS.map(([, go]) => go).join(' ')}]`;
      return [fieldErrors.invalid(root, schema, `only ${allowed} fields are allowed at the root of the schema if the status subresource is enabled`)];
    }
  }
  return [];
}

/** specStandardValidatorV3.validate: what kube does not support anywhere in a schema. */
function standardChecks(s: JSONSchemaProps, path: string, w: Walk): FieldError[] {
  const out: FieldError[] = [];
  if (s.type && !OPENAPI_V3_TYPES.includes(s.type)) out.push(fieldErrors.notSupported(child(path, 'type'), s.type, OPENAPI_V3_TYPES));
  if (s.default !== undefined && s.default !== null && !w.allowDefaults) {
    out.push(fieldErrors.forbidden(child(path, 'default'), `must not be set${w.disallowDefaultsReason ? ` ${w.disallowDefaultsReason}` : ''}`));
  }
  if (s.id) out.push(fieldErrors.forbidden(child(path, 'id'), 'id is not supported'));
  if (s.additionalItems !== undefined) out.push(fieldErrors.forbidden(child(path, 'additionalItems'), 'additionalItems is not supported'));
  if (isSet(s.patternProperties)) out.push(fieldErrors.forbidden(child(path, 'patternProperties'), 'patternProperties is not supported'));
  if (isSet(s.definitions)) out.push(fieldErrors.forbidden(child(path, 'definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined) out.push(fieldErrors.forbidden(child(path, 'dependencies'), 'dependencies is not supported'));
  if (s.$ref !== undefined) out.push(fieldErrors.forbidden(child(path, '$ref'), '$ref is not supported'));
  if (s.type === 'null') out.push(fieldErrors.forbidden(child(path, 'type'), 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length > 0) out.push(fieldErrors.forbidden(child(path, 'items'), 'items must be a schema object and not an array'));
  if (w.insideResourceMeta && s['x-kubernetes-embedded-resource']) {
    out.push(fieldErrors.forbidden(child(path, 'x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
  }
  return out;
}

interface SchemaErrors {
  schema: FieldError[];
  cel: FieldError[];
}

function merge(into: SchemaErrors, from: SchemaErrors): void {
  into.schema.push(...from.schema);
  into.cel.push(...from.cel);
}

const forbidDefaults = (w: Walk, reason: string): Walk => ({ ...w, allowDefaults: false, disallowDefaultsReason: reason });
const forbidOldSelf = (w: Walk, path: string): Walk => (w.uncorrelatable !== undefined ? w : { ...w, uncorrelatable: path });

function openAPISchema(s: JSONSchemaProps | undefined, path: string, w: Walk, isRoot: boolean): SchemaErrors {
  const errs: SchemaErrors = { schema: [], cel: [] };
  if (!s) return errs;
  errs.schema.push(...standardChecks(s, path, w));
  if (s.uniqueItems)
    errs.schema.push(fieldErrors.forbidden(child(path, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  const props = s.properties ?? {};
  if (s.additionalProperties !== undefined) {
    if (Object.keys(props).length > 0 && (s.additionalProperties === false || typeof s.additionalProperties === 'object')) {
      errs.schema.push(fieldErrors.forbidden(child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    }
    const sub = w.insideResourceMeta ? forbidDefaults(w, 'inside additionalProperties applying to object metadata') : w;
    merge(errs, openAPISchema(additionalPropertiesOf(s), child(path, 'additionalProperties'), sub, false));
  }
  for (const [name, p] of Object.entries(props)) {
    let sub = s['x-kubernetes-map-type'] === 'atomic' ? forbidOldSelf(w, path) : w;
    if ((isRoot || s['x-kubernetes-embedded-resource']) && META_FIELDS.has(name)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = forbidDefaults(sub, `in top-level ${name}`);
    }
    merge(errs, openAPISchema(p, key(child(path, 'properties'), name), sub, false));
  }
  const noCel = { ...w, celEnabled: false };
  merge(errs, openAPISchema(s.not, child(path, 'not'), noCel, false));
  for (const k of ['allOf', 'oneOf', 'anyOf'] as const) (s[k] ?? []).forEach((x, i) => merge(errs, openAPISchema(x, index(child(path, k), i), noCel, false)));
  const items = itemsOf(s);
  if (s.items !== undefined) {
    const sub = s['x-kubernetes-list-type'] !== 'map' ? forbidOldSelf(w, path) : w;
    merge(errs, openAPISchema(items, child(path, 'items'), sub, false));
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errs.schema.push(fieldErrors.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  }
  errs.schema.push(...extensionChecks(s, path));
  errs.cel.push(...ruleChecks(s, path, w, errs.schema.length > 0));
  return errs;
}

/** x-kubernetes-map-type, list-type and list-map-keys. */
function extensionChecks(s: JSONSchemaProps, path: string): FieldError[] {
  const out: FieldError[] = [];
  const mapType = s['x-kubernetes-map-type'];
  const listType = s['x-kubernetes-list-type'];
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  const typePath = child(path, 'type');
  if (mapType != null && s.type !== 'object') {
    out.push(
      s.type
        ? fieldErrors.invalid(typePath, s.type, 'must be object if x-kubernetes-map-type is specified')
        : fieldErrors.required(typePath, 'must be object if x-kubernetes-map-type is specified'),
    );
  }
  if (mapType != null && mapType !== 'atomic' && mapType !== 'granular')
    out.push(fieldErrors.notSupported(child(path, 'x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  const items = itemsOf(s);
  if (listType != null && s.type !== 'array') {
    out.push(
      s.type
        ? fieldErrors.invalid(typePath, s.type, 'must be array if x-kubernetes-list-type is specified')
        : fieldErrors.required(typePath, 'must be array if x-kubernetes-list-type is specified'),
    );
  } else if (listType === 'set' && items) {
    if (items.type === 'array' && items['x-kubernetes-list-type'] != null && items['x-kubernetes-list-type'] !== 'atomic') {
      out.push(
        fieldErrors.invalid(
          child(path, 'items', 'x-kubernetes-list-type'),
          items['x-kubernetes-list-type'],
          'must be atomic as item of a list with x-kubernetes-list-type=set',
        ),
      );
    }
    if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      out.push(
        fieldErrors.invalid(
          child(path, 'items', 'x-kubernetes-map-type'),
          items['x-kubernetes-list-type'] ?? null,
          'must be atomic as item of a list with x-kubernetes-list-type=set',
        ),
      );
    }
  }
  if (listType != null && !['atomic', 'set', 'map'].includes(listType))
    out.push(fieldErrors.notSupported(child(path, 'x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  if (mapKeys.length > 0) {
    if (listType == null) out.push(fieldErrors.required(child(path, 'x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map')
      out.push(fieldErrors.invalid(child(path, 'x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (mapKeys.length === 0) out.push(fieldErrors.required(child(path, 'x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    if (s.items === undefined) out.push(fieldErrors.required(child(path, 'items'), 'must have a schema if x-kubernetes-list-type is map'));
    else if (!items) out.push(fieldErrors.invalid(child(path, 'items'), s.items, 'must only have a single schema if x-kubernetes-list-type is map'));
    else if (items.type !== 'object')
      out.push(fieldErrors.invalid(child(path, 'items', 'type'), items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    else {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const p = items.properties?.[k];
        if (!p) out.push(fieldErrors.invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'entries must all be names of item properties'));
        else if (p.type === 'array' || p.type === 'object') {
          out.push(
            fieldErrors.invalid(
              child(key(child(path, 'items', 'properties'), k), 'type'),
              items.type,
              "must be a scalar type if parent array's x-kubernetes-list-type is map",
            ),
          );
        }
        if (seen.has(k)) out.push(fieldErrors.invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  // validateMapListKeysMapSet: set and map items, and map keys, are never null.
  if (items && (listType === 'set' || listType === 'map')) {
    if (items.nullable) out.push(fieldErrors.forbidden(child(path, 'items', 'nullable'), `cannot be nullable when x-kubernetes-list-type is ${listType}`));
    if (listType === 'map') {
      for (const k of mapKeys) {
        const p = items.properties?.[k];
        if (!p) continue;
        const keyPath = key(child(path, 'items', 'properties'), k);
        if (!(items.required ?? []).includes(k) && (p.default === undefined || p.default === null)) {
          out.push(
            fieldErrors.required(
              child(keyPath, 'default'),
              'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
            ),
          );
        }
        if (p.nullable) out.push(fieldErrors.forbidden(child(keyPath, 'nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
    }
  }
  return out;
}

const hasNewlines = (s: string) => /[\n\r]/.test(s);

/** x-kubernetes-validations: each rule's fields, then (on a schema valid so far) its compilation. */
function ruleChecks(s: JSONSchemaProps, path: string, w: Walk, schemaErrorsBelow: boolean): FieldError[] {
  const rules = s['x-kubernetes-validations'] ?? [];
  if (rules.length === 0) return [];
  const out: FieldError[] = [];
  const base = child(path, 'x-kubernetes-validations');
  const fieldErrs: FieldError[] = [];
  rules.forEach((r, i) => {
    const at = (f: string) => child(index(base, i), f);
    const rule = (r.rule ?? '').trim();
    const msg = (r.message ?? '').trim();
    if (!rule) fieldErrs.push(fieldErrors.required(at('rule'), 'rule is not specified'));
    else if (r.message && !msg) fieldErrs.push(fieldErrors.invalid(at('message'), r.message, 'must be non-empty if specified'));
    else if (hasNewlines(msg)) fieldErrs.push(fieldErrors.invalid(at('message'), r.message, 'must not contain line breaks'));
    else if (hasNewlines(rule) && !msg) fieldErrs.push(fieldErrors.required(at('message'), 'message must be specified if rule contains line breaks'));
    if (r.messageExpression && !r.messageExpression.trim())
      fieldErrs.push(fieldErrors.required(at('messageExpression'), 'messageExpression must be non-empty if specified'));
    if (r.reason != null && !SUPPORTED_RULE_REASONS.includes(r.reason))
      fieldErrs.push(fieldErrors.notSupported(at('reason'), r.reason, SUPPORTED_RULE_REASONS));
    if (r.fieldPath !== undefined && r.fieldPath.length > 0) {
      if (!r.fieldPath.trim()) fieldErrs.push(fieldErrors.invalid(at('fieldPath'), r.fieldPath, 'must be non-empty if specified'));
      if (hasNewlines(r.fieldPath)) fieldErrs.push(fieldErrors.invalid(at('fieldPath'), r.fieldPath, 'must not contain line breaks'));
      if (!unsupportedFieldsError(s) && resolveFieldPath(r.fieldPath, s, true).error) {
        fieldErrs.push(fieldErrors.invalid(at('fieldPath'), r.fieldPath, 'must be a valid path'));
      }
    }
  });
  out.push(...fieldErrs);
  if (schemaErrorsBelow || fieldErrs.length > 0 || !w.celEnabled) return out;
  compileRules(rules).forEach((c, i) => {
    const at = (f: string) => child(index(base, i), f);
    if (c.ruleError) out.push(fieldErrors.invalid(at('rule'), rules[i], c.ruleError));
    if (c.messageExpressionError) out.push(fieldErrors.invalid(at('messageExpression'), rules[i], c.messageExpressionError));
    if (c.usesOldSelf) {
      if (w.uncorrelatable !== undefined) {
        out.push(
          fieldErrors.invalid(at('rule'), rules[i]!.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${w.uncorrelatable}`),
        );
      }
    } else if (rules[i]!.optionalOldSelf != null) {
      out.push(fieldErrors.invalid(at('optionalOldSelf'), rules[i]!.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
    }
  });
  return out;
}

/**
 * defaulting.ValidateDefaults: every default must be pruned already, valid
 * against its own schema and pass its rules. Defaults inside metadata are
 * refused earlier (they are forbidden in top-level metadata).
 */
function validateDefaults(path: string, s: JSONSchemaProps, resourceRoot: JSONSchemaProps, insideMeta: boolean): FieldError[] {
  const out: FieldError[] = [];
  // The resource root counts as embedded: its apiVersion, kind and metadata are metadata.
  const embedded = s['x-kubernetes-embedded-resource'] === true || s === resourceRoot;
  const root = embedded ? s : resourceRoot;
  const meta = embedded ? false : insideMeta;
  if (s.default !== undefined && s.default !== null && !meta) {
    const defPath = child(path, 'default');
    const pruned = clone(s.default);
    prune(pruned, s, embedded);
    if (!deepEqual(pruned, s.default)) out.push(fieldErrors.invalid(defPath, s.default, 'must not have unknown fields'));
    const errs = newSchemaValidator(s).validate(s.default, defPath);
    if (errs.length > 0) out.push(...errs);
    else out.push(...(newCelValidator(s, s === root)?.validate(s.default, s.default, defPath) ?? []));
  }
  const items = itemsOf(s);
  if (items) out.push(...validateDefaults(child(path, 'items'), items, root, meta));
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const subMeta = meta || (embedded && META_FIELDS.has(k));
    out.push(...validateDefaults(key(child(path, 'properties'), k), p, root, subMeta));
  }
  return out;
}
