/**
 * Structural schemas, as k8s.io/apiextensions-apiserver/pkg/apiserver/schema
 * defines them: every field's type is specified at the node that declares the
 * field (properties, items, additionalProperties), never only inside
 * allOf/anyOf/oneOf/not, which may carry value validations alone. Pruning,
 * defaulting and CEL all rely on that; a CRD whose schema is not structural is
 * refused with kube's messages.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { child, index, key } from './paths.js';
import type { JSONSchemaProps } from './types.js';

type Level = 'root' | 'item' | 'field';

/** The node's single items schema (an array of schemas is not structural). */
export function itemsOf(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return Array.isArray(s.items) ? undefined : s.items;
}

/** The schema of additionalProperties, or undefined for `true`, `false` or absent. */
export function additionalPropertiesOf(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/**
 * NewStructural's refusals: the OpenAPI fields kube does not support at all.
 * Returns kube's error text, or undefined when the schema can be read.
 */
export function unsupportedFieldsError(s: JSONSchemaProps | undefined): string | undefined {
  if (!s) return undefined;
  if (s.id) return "OpenAPIV3Schema 'id' is not supported";
  if (s.$schema) return "OpenAPIV3Schema 'schema' is not supported";
  if (s.$ref) return "OpenAPIV3Schema '$ref' is not supported";
  if (s.patternProperties && Object.keys(s.patternProperties).length > 0) return "OpenAPIV3Schema 'patternProperties' is not supported";
  if (s.dependencies && Object.keys(s.dependencies).length > 0) return "OpenAPIV3Schema 'dependencies' is not supported";
  if (s.additionalItems !== undefined) return "OpenAPIV3Schema 'additionalItems' is not supported";
  if (s.definitions && Object.keys(s.definitions).length > 0) return "OpenAPIV3Schema 'definitions' is not supported";
  if (s['x-kubernetes-preserve-unknown-fields'] === false) return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined";
  if (Array.isArray(s.items) && s.items.length > 0) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
  const children: (JSONSchemaProps | undefined)[] = [
    itemsOf(s),
    additionalPropertiesOf(s),
    s.not,
    ...Object.values(s.properties ?? {}),
    ...(s.allOf ?? []),
    ...(s.anyOf ?? []),
    ...(s.oneOf ?? []),
  ];
  for (const c of children) {
    const err = unsupportedFieldsError(c);
    if (err) return err;
  }
  return undefined;
}

/**
 * ValidateStructural: the invariants of a structural schema and the
 * completeness of its value validations, sorted by message as kube sorts them.
 * The schema must have passed unsupportedFieldsError.
 */
export function validateStructural(path: string, s: JSONSchemaProps): FieldError[] {
  const errs = [...invariants(s, 'root', path), ...completeness(s, path)];
  const text = (e: FieldError) => `${e.field}: ${e.message}`;
  return errs.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

function isIntOrStringAnyOf(anyOf: JSONSchemaProps[] | undefined): boolean {
  return (
    anyOf?.length === 2 &&
    Object.keys(anyOf[0]!).length === 1 &&
    anyOf[0]!.type === 'integer' &&
    Object.keys(anyOf[1]!).length === 1 &&
    anyOf[1]!.type === 'string'
  );
}

function invariants(s: JSONSchemaProps, lvl: Level, path: string): FieldError[] {
  const out: FieldError[] = [];
  const items = itemsOf(s);
  if (s.type === 'array' && !items) out.push(fieldErrors.required(child(path, 'items'), 'must be specified'));
  if (items) out.push(...invariants(items, 'item', child(path, 'items')));
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...invariants(v, 'field', key(child(path, 'properties'), k)));
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root') out.push(fieldErrors.forbidden(child(path, 'additionalProperties'), 'must not be used at the root'));
    const ap = additionalPropertiesOf(s);
    if (ap) out.push(...invariants(ap, 'field', child(path, 'additionalProperties')));
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) {
    out.push(fieldErrors.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  if (intOrString && embedded) {
    out.push(fieldErrors.invalid(child(path, 'x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  out.push(...valueValidation(s, isIntOrStringAnyOf(s.anyOf), isIntOrStringAnyOf(s.allOf?.[0]?.anyOf), path));

  const type = s.type ?? '';
  if (embedded && type !== 'object') {
    out.push(
      type
        ? fieldErrors.invalid(child(path, 'type'), type, 'must be object if x-kubernetes-embedded-resource is true')
        : fieldErrors.required(child(path, 'type'), 'must be object if x-kubernetes-embedded-resource is true'),
    );
  } else if (!type && !intOrString && !preserve) {
    const where = { root: 'at the root', item: 'for specified array items', field: 'for specified object fields' }[lvl];
    out.push(fieldErrors.required(child(path, 'type'), `must not be empty ${where}`));
  }
  if (embedded && s.additionalProperties !== undefined) {
    out.push(fieldErrors.forbidden(child(path, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (lvl === 'root' && type && type !== 'object') out.push(fieldErrors.invalid(child(path, 'type'), type, 'must be object at the root'));

  const checkMetadata = lvl === 'root' || embedded;
  const props = s.properties ?? {};
  for (const name of ['kind', 'apiVersion'] as const) {
    const p = props[name];
    if (p && checkMetadata && p.type !== 'string') {
      out.push(fieldErrors.invalid(child(key(child(path, 'properties'), name), 'type'), p.type ?? '', 'must be string'));
    }
  }
  if (props.metadata) out.push(...metadataInvariants(props.metadata, checkMetadata, lvl, key(child(path, 'properties'), 'metadata')));
  if (embedded && !preserve && Object.keys(props).length === 0) {
    out.push(
      fieldErrors.required(
        child(path, 'properties'),
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
  return out;
}

/** Keys of a root metadata schema that kube ignores when it checks that nothing else is specified. */
const IGNORED_ROOT_METADATA_KEYS = new Set(['type', 'default']);

function metadataInvariants(s: JSONSchemaProps, checkMetadata: boolean, lvl: Level, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (checkMetadata && s.type !== 'object') out.push(fieldErrors.invalid(child(path, 'type'), s.type ?? '', 'must be object'));
  if (lvl === 'root') {
    // Only name and generateName may be constrained at the root: the rest of
    // ObjectMeta is the API server's to validate.
    const propNames = Object.keys(s.properties ?? {});
    const onlyNames = propNames.length > 0 && propNames.every((p) => p === 'name' || p === 'generateName');
    const rest = Object.entries(s).filter(
      ([k, v]) => !isZero(v) && !IGNORED_ROOT_METADATA_KEYS.has(k) && !(k === 'properties' && (onlyNames || propNames.length === 0)),
    );
    if (rest.length > 0)
      out.push(fieldErrors.forbidden(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  return out;
}

/** Go's zero values, which kube's struct comparison cannot tell from absent. */
function isZero(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);
}

/** The value validations of a structural node: its allOf/anyOf/oneOf/not and its pattern. */
function valueValidation(s: JSONSchemaProps, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (!skipAnyOf) (s.anyOf ?? []).forEach((v, i) => out.push(...nested(v, false, index(child(path, 'anyOf'), i))));
  (s.allOf ?? []).forEach((v, i) => out.push(...nested(v, skipFirstAllOfAnyOf && i === 0, index(child(path, 'allOf'), i))));
  (s.oneOf ?? []).forEach((v, i) => out.push(...nested(v, false, index(child(path, 'oneOf'), i))));
  if (s.not) out.push(...nested(s.not, false, child(path, 'not')));
  if (s.pattern) {
    const err = patternError(s.pattern);
    if (err) out.push(fieldErrors.invalid(child(path, 'pattern'), s.pattern, `must be a valid regular expression, but isn't: ${err}`));
  }
  return out;
}

/** Why a pattern does not compile, or undefined. (JavaScript's regular expressions stand in for Go's RE2.) */
export function patternError(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Inside allOf/anyOf/oneOf/not only value validations may appear. */
function nested(v: JSONSchemaProps, skipAnyOf: boolean, path: string): FieldError[] {
  const out = valueValidation(v, skipAnyOf, false, path);
  const items = itemsOf(v);
  if (items) out.push(...nested(items, false, child(path, 'items')));
  for (const [k, p] of Object.entries(v.properties ?? {})) out.push(...nested(p, false, key(child(path, 'properties'), k)));
  const forbid = (name: string, detail: string) => out.push(fieldErrors.forbidden(child(path, name), detail));
  if (v.type) forbid('type', 'must be empty to be structural');
  if (v.additionalProperties !== undefined && v.additionalProperties !== false) forbid('additionalProperties', 'must be undefined to be structural');
  if (v.default !== undefined && v.default !== null) forbid('default', 'must be undefined to be structural');
  if (v.title) forbid('title', 'must be empty to be structural');
  if (v.description) forbid('description', 'must be empty to be structural');
  if (v.nullable) forbid('nullable', 'must be false to be structural');
  if (v['x-kubernetes-preserve-unknown-fields']) forbid('x-kubernetes-preserve-unknown-fields', 'must be false to be structural');
  if (v['x-kubernetes-embedded-resource']) forbid('x-kubernetes-embedded-resource', 'must be false to be structural');
  if (v['x-kubernetes-int-or-string']) forbid('x-kubernetes-int-or-string', 'must be false to be structural');
  if ((v['x-kubernetes-list-map-keys'] ?? []).length > 0) forbid('x-kubernetes-list-map-keys', 'must be empty to be structural');
  if (v['x-kubernetes-list-type'] != null) forbid('x-kubernetes-list-type', 'must be undefined to be structural');
  if (v['x-kubernetes-map-type'] != null) forbid('x-kubernetes-map-type', 'must be undefined to be structural');
  if ((v['x-kubernetes-validations'] ?? []).length > 0) forbid('x-kubernetes-validations', 'must be empty to be structural');
  if (v.properties?.metadata) out.push(fieldErrors.forbidden(key(child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
  return out;
}

/** Every field a value validation names must be declared by the structural node at the same place. */
function completeness(s: JSONSchemaProps, path: string): FieldError[] {
  return valueCompleteness(s, s, path, path);
}

function valueCompleteness(v: JSONSchemaProps, s: JSONSchemaProps | undefined, sPath: string, vPath: string): FieldError[] {
  const out: FieldError[] = [];
  if (v.not) out.push(...nestedCompleteness(v.not, s, sPath, child(vPath, 'not')));
  (v.allOf ?? []).forEach((x, i) => out.push(...nestedCompleteness(x, s, sPath, index(child(vPath, 'allOf'), i))));
  (v.anyOf ?? []).forEach((x, i) => out.push(...nestedCompleteness(x, s, sPath, index(child(vPath, 'anyOf'), i))));
  (v.oneOf ?? []).forEach((x, i) => out.push(...nestedCompleteness(x, s, sPath, index(child(vPath, 'oneOf'), i))));
  return out;
}

function nestedCompleteness(v: JSONSchemaProps, s: JSONSchemaProps | undefined, sPath: string, vPath: string): FieldError[] {
  if (!s) return [fieldErrors.required(sPath, `because it is defined in ${vPath}`)];
  const out = valueCompleteness(v, s, sPath, vPath);
  const vItems = itemsOf(v);
  if (vItems) out.push(...nestedCompleteness(vItems, itemsOf(s), child(sPath, 'items'), child(vPath, 'items')));
  for (const [k, vf] of Object.entries(v.properties ?? {})) {
    const sf = s.properties?.[k];
    if (!sf) out.push(fieldErrors.required(key(child(sPath, 'properties'), k), `because it is defined in ${key(child(vPath, 'properties'), k)}`));
    else out.push(...nestedCompleteness(vf, sf, key(child(sPath, 'properties'), k), key(child(vPath, 'properties'), k)));
  }
  return out;
}
