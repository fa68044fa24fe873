/**
 * Validation of a custom object against its version's OpenAPI schema, with
 * the field paths and messages kube-apiserver gives
 * (`spec.replicas: Invalid value: "string": spec.replicas in body must be of
 * type integer: "string"`).
 *
 * ajv checks the JSON-schema keywords (type, required, enum, pattern, bounds,
 * lengths, counts, multipleOf, items, properties, additionalProperties,
 * allOf/anyOf/oneOf/not); each ajv error is then worded as kube-openapi's
 * validator and apiextensions' kubeOpenAPIResultToFieldErrors word it. What
 * ajv has no keyword for is translated first: `nullable` becomes a "null"
 * type, `x-kubernetes-int-or-string` the type list integer,string, OpenAPI
 * 3.0's boolean exclusive bounds draft-07's numeric ones, and kube's string
 * formats a `kubeFormat` keyword (formats.ts). The `x-kubernetes-*` list,
 * embedded-resource and CEL rules are checked by their own modules.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { isPlainObject } from '../util/json.js';
import { formatChecker } from './formats.js';
import { child } from './paths.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

type AjvSchema = Record<string, unknown>;

const KUBE_FORMAT = 'kubeFormat';

/** One ajv instance for every schema: it holds no per-schema state once compiled (addUsedSchema: false). */
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false, addUsedSchema: false, unicodeRegExp: true });
ajv.addKeyword({
  keyword: KUBE_FORMAT,
  type: 'string',
  schemaType: 'string',
  errors: true,
  validate: (format: string, data: string) => formatChecker(format)?.(data) ?? true,
});

/** The JSON type name kube-openapi reports for a value (`integer` for whole numbers, as Go decodes them to int64). */
export function jsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** The ajv (draft-07) form of one JSONSchemaProps node. Only validation keywords are kept. */
export function toAjvSchema(s: JSONSchemaProps): AjvSchema {
  const out: AjvSchema = {};
  const types = s['x-kubernetes-int-or-string'] ? ['integer', 'string'] : s.type ? [s.type] : [];
  if (types.length > 0) out.type = s.nullable ? [...types, 'null'] : types;
  if (s.format && (s.type === 'string' || !s.type) && formatChecker(s.format)) out[KUBE_FORMAT] = s.format;
  if (s.enum) out.enum = s.enum;
  if (s.pattern) out.pattern = s.pattern;
  for (const k of ['maxLength', 'minLength', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'maxProperties', 'minProperties', 'required'] as const) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  if (s.maximum !== undefined) out[s.exclusiveMaximum ? 'exclusiveMaximum' : 'maximum'] = s.maximum;
  if (s.minimum !== undefined) out[s.exclusiveMinimum ? 'exclusiveMinimum' : 'minimum'] = s.minimum;
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toAjvSchema(v)]));
  const ap = additionalPropertiesOf(s);
  if (ap) out.additionalProperties = toAjvSchema(ap);
  else if (s.additionalProperties === false) out.additionalProperties = false;
  const items = itemsOf(s);
  if (items) out.items = toAjvSchema(items);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) if (s[k]) out[k] = s[k].map(toAjvSchema);
  if (s.not) out.not = toAjvSchema(s.not);
  return out;
}

/** A compiled schema: validates a value, naming fields under `path` (`status` for the status subresource). */
export interface SchemaValidator {
  validate(value: unknown, path?: string): FieldError[];
}

/** Compiles a version's schema once; the API server keeps the result for as long as the CRD is unchanged. */
export function newSchemaValidator(schema: JSONSchemaProps): SchemaValidator {
  const compiled = toAjvSchema(schema);
  const fn = ajv.compile(compiled);
  return { validate: (value, path = '') => runValidator(fn, compiled, value, path) };
}

function runValidator(fn: ValidateFunction, schema: AjvSchema, value: unknown, path: string): FieldError[] {
  if (fn(value)) return [];
  return combinatorErrors(firstStringFailure(fn.errors ?? []), schema).flatMap((e) => toFieldErrors(e, value, path));
}

/** kube-openapi's string validator stops at its first failure, checked in the order maxLength, minLength, pattern. */
const STRING_KEYWORDS = ['maxLength', 'minLength', 'pattern'];

function firstStringFailure(errors: ErrorObject[]): ErrorObject[] {
  const first = new Map<string, number>();
  for (const e of errors) {
    const rank = STRING_KEYWORDS.indexOf(e.keyword);
    const where = `${e.instancePath}|${e.schemaPath.slice(0, e.schemaPath.lastIndexOf('/'))}`;
    if (rank >= 0 && rank < (first.get(where) ?? Infinity)) first.set(where, rank);
  }
  return errors.filter((e) => {
    const rank = STRING_KEYWORDS.indexOf(e.keyword);
    return rank < 0 || first.get(`${e.instancePath}|${e.schemaPath.slice(0, e.schemaPath.lastIndexOf('/'))}`) === rank;
  });
}

/** The schema node at an ajv schemaPath (`#/properties/spec/allOf`). */
function schemaAt(schema: AjvSchema, schemaPath: string): unknown {
  return schemaPath
    .split('/')
    .slice(1)
    .reduce<unknown>((s, k) => (isPlainObject(s) ? s[k.replaceAll('~1', '/').replaceAll('~0', '~')] : Array.isArray(s) ? s[Number(k)] : undefined), schema);
}

/**
 * kube-openapi keeps, for a failed anyOf/oneOf, only the errors of the branch
 * that came closest to matching; ajv reports every branch. Here the closest
 * branch is the one with the fewest errors, and the others are dropped. A
 * failed allOf gets kube's summary error after its branches' errors.
 */
function combinatorErrors(errors: ErrorObject[], schema: AjvSchema): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const extra: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const branches = new Map<string, ErrorObject[]>();
    for (const x of errors) {
      const m = x.schemaPath.startsWith(`${e.schemaPath}/`) ? /^\/(\d+)\//.exec(x.schemaPath.slice(e.schemaPath.length)) : null;
      if (!m) continue;
      branches.set(m[1]!, [...(branches.get(m[1]!) ?? []), x]);
    }
    const best = [...branches.values()].sort((a, b) => a.length - b.length)[0] ?? [];
    for (const list of branches.values()) if (list !== best) list.forEach((x) => dropped.add(x));
  }
  const allOfs = new Map<string, { instancePath: string; schemaPath: string; failed: Set<string> }>();
  for (const e of errors) {
    const m = /^(.*\/allOf)\/(\d+)\//.exec(e.schemaPath);
    if (!m) continue;
    const groupKey = `${e.instancePath}|${m[1]}`;
    const g = allOfs.get(groupKey) ?? { instancePath: e.instancePath, schemaPath: m[1]!, failed: new Set<string>() };
    g.failed.add(m[2]!);
    allOfs.set(groupKey, g);
  }
  for (const g of allOfs.values()) {
    const branches = schemaAt(schema, g.schemaPath);
    const none = Array.isArray(branches) && g.failed.size >= branches.length;
    extra.push({ keyword: 'allOf', instancePath: g.instancePath, schemaPath: g.schemaPath, params: { none } });
  }
  return [...errors.filter((e) => !dropped.has(e)), ...extra];
}

/** The value at a JSON pointer and the kube-style name of that place (`spec.ports[0].name`). */
function locate(root: unknown, pointer: string): { name: string; value: unknown } {
  let name = '';
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur)) {
      name = `${name}[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      name = name ? `${name}.${seg}` : seg;
      cur = isPlainObject(cur) ? cur[seg] : undefined;
    }
  }
  return { name, value: cur };
}

function enumValues(values: unknown[]): string[] {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
}

function toFieldErrors(e: ErrorObject, root: unknown, base: string): FieldError[] {
  const { name, value } = locate(root, e.instancePath);
  const at = (n: string) => (n ? child(base, n) : base);
  const errPath = at(name);
  const p = e.params as Record<string, unknown>;
  const body = `${name} in body`;
  switch (e.keyword) {
    case 'type': {
      const declared = (Array.isArray(p.type) ? p.type : String(p.type).split(',')).filter((t) => t !== 'null');
      const actual = jsonTypeName(value);
      return [fieldErrors.typeInvalid(errPath, actual, `${body} must be of type ${declared.join(',')}: "${actual}"`)];
    }
    case 'required':
      return [fieldErrors.required(at(name ? `${name}.${String(p.missingProperty)}` : String(p.missingProperty)))];
    case 'enum':
      return [fieldErrors.notSupported(errPath, value, enumValues(p.allowedValues as unknown[]))];
    case 'maxLength':
      return [fieldErrors.tooLong(errPath, Number(p.limit))];
    case 'minLength':
      return [fieldErrors.invalid(errPath, value, `${body} should be at least ${String(p.limit)} chars long`)];
    case 'pattern':
      return [fieldErrors.invalid(errPath, value, `${body} should match '${String(p.pattern)}'`)];
    case KUBE_FORMAT:
      return [fieldErrors.typeInvalid(errPath, value, `${body} must be of type ${String(e.schema)}: ${JSON.stringify(value)}`)];
    case 'minimum':
      return [fieldErrors.invalid(errPath, value, `${body} should be greater than or equal to ${String(p.limit)}`)];
    case 'exclusiveMinimum':
      return [fieldErrors.invalid(errPath, value, `${body} should be greater than ${String(p.limit)}`)];
    case 'maximum':
      return [fieldErrors.invalid(errPath, value, `${body} should be less than or equal to ${String(p.limit)}`)];
    case 'exclusiveMaximum':
      return [fieldErrors.invalid(errPath, value, `${body} should be less than ${String(p.limit)}`)];
    case 'multipleOf':
      return [fieldErrors.invalid(errPath, value, `${body} should be a multiple of ${String(p.multipleOf)}`)];
    case 'minItems':
      return [fieldErrors.invalid(errPath, (value as unknown[]).length, `${body} should have at least ${String(p.limit)} items`)];
    case 'maxItems':
      return [fieldErrors.tooMany(errPath, (value as unknown[]).length, Number(p.limit))];
    case 'uniqueItems':
      return [fieldErrors.invalid(errPath, '', `${body} shouldn't contain duplicates`)];
    case 'minProperties':
      return [fieldErrors.invalid(errPath, Object.keys(value as object).length, `${body} should have at least ${String(p.limit)} properties`)];
    case 'maxProperties':
      return [fieldErrors.tooMany(errPath, Object.keys(value as object).length, Number(p.limit))];
    case 'additionalProperties':
      return [fieldErrors.invalid(errPath, String(p.additionalProperty), `${name}.${String(p.additionalProperty)} in body is a forbidden property`)];
    // The combinators' errors are not kube-openapi Validation errors: kube reports them without a field.
    case 'anyOf':
      return [fieldErrors.invalid(base, '', `"${name}" must validate at least one schema (anyOf)`)];
    case 'oneOf': {
      const passing = p.passingSchemas;
      const found = Array.isArray(passing) ? `Found ${passing.length} valid alternatives` : 'Found none valid';
      return [fieldErrors.invalid(base, '', `"${name}" must validate one and only one schema (oneOf). ${found}`)];
    }
    case 'allOf':
      return [fieldErrors.invalid(base, '', `"${name}" must validate all the schemas (allOf)${p.none ? '. None validated' : ''}`)];
    case 'not':
      return [fieldErrors.invalid(base, '', `"${name}" must not validate the schema (not)`)];
    default:
      return [fieldErrors.invalid(errPath, value ?? '', `${body} ${e.message ?? 'is invalid'}`)];
  }
}
