/**
 * Structural defaulting (apiextensions-apiserver's defaulting.Default): a
 * property absent from an object, or null where the schema is not nullable,
 * takes the schema's `default`; the same holds for null items of a list and
 * null values of a map (additionalProperties). Defaults apply top-down, so a
 * defaulted object is itself defaulted inside. It runs on decoding (requests
 * and reads from storage) after pruning; a default is a deep copy, never
 * shared between objects.
 */
import { clone, isPlainObject } from '../util/json.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

const isNonNullableNull = (x: unknown, s: JSONSchemaProps | undefined): boolean => x === null && s !== undefined && !s.nullable;

/** Applies the schema's defaults to `x` in place. */
export function applyDefaults(x: unknown, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (isPlainObject(x)) {
    for (const [k, prop] of Object.entries(s.properties ?? {})) {
      if (prop.default === undefined || prop.default === null) continue;
      if (!(k in x) || isNonNullableNull(x[k], prop)) x[k] = clone(prop.default);
    }
    const ap = additionalPropertiesOf(s);
    for (const k of Object.keys(x)) {
      const prop = s.properties?.[k];
      if (prop) applyDefaults(x[k], prop);
      else if (ap) {
        if (isNonNullableNull(x[k], ap) && ap.default !== undefined) x[k] = clone(ap.default);
        applyDefaults(x[k], ap);
      }
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    x.forEach((v, i) => {
      if (isNonNullableNull(v, items) && items?.default !== undefined) x[i] = clone(items.default);
      applyDefaults(x[i], items);
    });
  }
}

/**
 * Drops null values the schema neither allows (nullable) nor defaults
 * (defaulting.PruneNonNullableNullsWithoutDefaults): kube runs it after
 * defaulting, so `field: null` means "unset" for a non-nullable field.
 */
export function pruneNonNullableNulls(x: unknown, s: JSONSchemaProps | undefined): void {
  if (isPlainObject(x)) {
    for (const [k, v] of Object.entries(x)) {
      const sub = s?.properties?.[k] ?? (s ? additionalPropertiesOf(s) : undefined);
      if (v === null && sub && !sub.nullable && sub.default === undefined) delete x[k];
      else pruneNonNullableNulls(v, sub);
    }
  } else if (Array.isArray(x)) {
    x.forEach((v) => pruneNonNullableNulls(v, s ? itemsOf(s) : undefined));
  }
}
