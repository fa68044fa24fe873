/**
 * Validation of a custom object against its version's OpenAPI schema, with
 * the field paths and messages kube-apiserver gives
 * (`spec.replicas: Invalid value: "string": spec.replicas in body must be of
 * type integer: "string"`).
 *
 * This walks the schema as kube-openapi's validate.SchemaValidator does (its
 * validators in its order: type, allOf/anyOf/oneOf/not, string, format,
 * number, array, enum, object) and words each failure as apiextensions'
 * kubeOpenAPIResultToFieldErrors does. It is written by hand rather than on
 * ajv: ajv compiles a schema to code, and for real CRDs that is slow and
 * large (the Prometheus operator's Alertmanager schema: 0.4-1.5 s to compile
 * and 1.7 MB of generated code, paid again on every cold start and every CRD
 * change), while this walk needs no compilation and follows kube's order and
 * short-circuits (first string failure only, the closest anyOf branch) that
 * ajv's error list would have to be rearranged into. docs/crds.md has the
 * measurements.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { deepEqual, isPlainObject } from '../util/json.js';
import { formatChecker } from './formats.js';
import { child } from './paths.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

/** The JSON type name kube-openapi reports for a value (`integer` for whole numbers, as Go decodes them to int64). */
export function jsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** A schema ready to validate values, naming fields under `path` (`status` for the status subresource). */
export interface SchemaValidator {
  validate(value: unknown, path?: string): FieldError[];
}

/** Compiled regular expressions by pattern, shared by every schema (patterns come from stored CRDs). */
const patterns = new Map<string, RegExp>();

function patternOf(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) patterns.set(p, (re = new RegExp(p, 'u')));
  return re;
}

export function newSchemaValidator(schema: JSONSchemaProps): SchemaValidator {
  return {
    validate(value, path = '') {
      const errs: FieldError[] = [];
      walk(schema, value, '', path, errs);
      return errs;
    },
  };
}

/** The declared type list: int-or-string is integer,string. */
function typesOf(s: JSONSchemaProps): string[] {
  if (s['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return s.type ? [s.type] : [];
}

function typeMatches(types: string[], v: unknown): boolean {
  const t = jsonTypeName(v);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/**
 * Validates `v` at `name` (kube-openapi's path: `spec.ports[0].name`),
 * reporting under `base` + name.
 */
function walk(s: JSONSchemaProps, v: unknown, name: string, base: string, errs: FieldError[]): void {
  const errPath = name ? child(base, name) : base;
  const body = `${name} in body`;
  const types = typesOf(s);
  if (v === null || v === undefined) {
    if (types.length > 0 && !s.nullable) errs.push(fieldErrors.typeInvalid(errPath, 'null', `${body} must be of type ${types.join(',')}: "null"`));
    checkEnum(s, null, errPath, errs);
    return;
  }
  const actual = jsonTypeName(v);
  if (types.length > 0 && !typeMatches(types, v)) {
    errs.push(fieldErrors.typeInvalid(errPath, actual, `${body} must be of type ${types.join(',')}: "${actual}"`));
  }
  combinators(s, v, name, base, errs);
  if (typeof v === 'string') {
    checkString(s, v, errPath, body, errs);
    const check = s.format && (s.type === 'string' || !s.type) ? formatChecker(s.format) : undefined;
    if (check && !check(v)) errs.push(fieldErrors.typeInvalid(errPath, v, `${body} must be of type ${s.format}: ${JSON.stringify(v)}`));
  }
  if (typeof v === 'number') checkNumber(s, v, errPath, body, errs);
  if (Array.isArray(v)) {
    const items = itemsOf(s);
    if (items) v.forEach((x, i) => walk(items, x, `${name}[${i}]`, base, errs));
    if (s.minItems !== undefined && v.length < s.minItems)
      errs.push(fieldErrors.invalid(errPath, v.length, `${body} should have at least ${s.minItems} items`));
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(fieldErrors.tooMany(errPath, v.length, s.maxItems));
    if (s.uniqueItems && v.some((x, i) => v.findIndex((y) => deepEqual(x, y)) !== i))
      errs.push(fieldErrors.invalid(errPath, '', `${body} shouldn't contain duplicates`));
  }
  checkEnum(s, v, errPath, errs);
  if (isPlainObject(v)) checkObject(s, v, name, base, errPath, body, errs);
}

function checkEnum(s: JSONSchemaProps, v: unknown, errPath: string, errs: FieldError[]): void {
  if (!s.enum || s.enum.length === 0 || s.enum.some((e) => deepEqual(e, v))) return;
  errs.push(
    fieldErrors.notSupported(
      errPath,
      v,
      s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
    ),
  );
}

/** kube-openapi's string validator stops at its first failure: maxLength, then minLength, then pattern. Lengths count code points. */
function checkString(s: JSONSchemaProps, v: string, errPath: string, body: string, errs: FieldError[]): void {
  const len = [...v].length;
  if (s.maxLength !== undefined && len > s.maxLength) errs.push(fieldErrors.tooLong(errPath, s.maxLength));
  else if (s.minLength !== undefined && len < s.minLength) errs.push(fieldErrors.invalid(errPath, v, `${body} should be at least ${s.minLength} chars long`));
  else if (s.pattern && !patternOf(s.pattern).test(v)) errs.push(fieldErrors.invalid(errPath, v, `${body} should match '${s.pattern}'`));
}

function checkNumber(s: JSONSchemaProps, v: number, errPath: string, body: string, errs: FieldError[]): void {
  if (s.multipleOf !== undefined && s.multipleOf > 0) {
    const q = s.multipleOf < 1 ? (1 / s.multipleOf) * v : v / s.multipleOf;
    if (!Number.isInteger(q)) errs.push(fieldErrors.invalid(errPath, v, `${body} should be a multiple of ${s.multipleOf}`));
  }
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
    errs.push(fieldErrors.invalid(errPath, v, `${body} should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
    errs.push(fieldErrors.invalid(errPath, v, `${body} should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
}

function checkObject(s: JSONSchemaProps, v: Record<string, unknown>, name: string, base: string, errPath: string, body: string, errs: FieldError[]): void {
  const n = Object.keys(v).length;
  if (s.minProperties !== undefined && n < s.minProperties)
    errs.push(fieldErrors.invalid(errPath, n, `${body} should have at least ${s.minProperties} properties`));
  if (s.maxProperties !== undefined && n > s.maxProperties) errs.push(fieldErrors.tooMany(errPath, n, s.maxProperties));
  const props = s.properties ?? {};
  const ap = additionalPropertiesOf(s);
  for (const k of Object.keys(v)) {
    if (k in props) continue;
    if (s.additionalProperties === false) errs.push(fieldErrors.invalid(errPath, k, `${name}.${k} in body is a forbidden property`));
    else if (ap) walk(ap, v[k], `${name}.${k}`, base, errs);
  }
  for (const [k, p] of Object.entries(props)) if (k in v) walk(p, v[k], name ? `${name}.${k}` : k, base, errs);
  for (const k of s.required ?? []) if (!(k in v)) errs.push(fieldErrors.required(child(base, name ? `${name}.${k}` : k)));
}

/**
 * allOf/anyOf/oneOf/not. For a failed anyOf or oneOf kube keeps the errors of
 * the closest branch only (here: the one with the fewest errors). The
 * summary errors are not kube-openapi Validation errors, so kube reports them
 * without a field.
 */
function combinators(s: JSONSchemaProps, v: unknown, name: string, base: string, errs: FieldError[]): void {
  const run = (b: JSONSchemaProps) => {
    const out: FieldError[] = [];
    walk(b, v, name, base, out);
    return out;
  };
  const closest = (results: FieldError[][]) => results.reduce((a, b) => (b.length < a.length ? b : a));
  if (s.anyOf?.length) {
    const results = s.anyOf.map(run);
    if (!results.some((r) => r.length === 0))
      errs.push(fieldErrors.invalid(base, '', `"${name}" must validate at least one schema (anyOf)`), ...closest(results));
  }
  if (s.oneOf?.length) {
    const results = s.oneOf.map(run);
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== 1) {
      const found = valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`;
      errs.push(fieldErrors.invalid(base, '', `"${name}" must validate one and only one schema (oneOf). ${found}`));
      if (valid === 0) errs.push(...closest(results));
    }
  }
  if (s.allOf?.length) {
    const results = s.allOf.map(run);
    results.forEach((r) => errs.push(...r));
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== results.length)
      errs.push(fieldErrors.invalid(base, '', `"${name}" must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`));
  }
  if (s.not && run(s.not).length === 0) errs.push(fieldErrors.invalid(base, '', `"${name}" must not validate the schema (not)`));
}
