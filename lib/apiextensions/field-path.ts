/**
 * The JSON paths a CRD names inside its own schema (a rule's `fieldPath`, a
 * selectable field's `jsonPath`): `.spec.replicas`, `.spec['a.b']`, and
 * `.spec.list[0]` where array notation is allowed. Resolved against the
 * structural schema as apiextensions' cel.ValidFieldPath does, with its
 * error texts.
 */
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps } from './types.js';

export interface ResolvedFieldPath {
  /** The schema the path points at. */
  schema?: JSONSchemaProps;
  /** The path's first field (`spec`, `metadata`...). */
  root?: string;
  error?: string;
}

export function resolveFieldPath(path: string, schema: JSONSchemaProps, allowArrayNotation: boolean): ResolvedFieldPath {
  let cur: JSONSchemaProps | undefined = schema;
  let root: string | undefined;
  let i = 0;
  const step = (name: string): string | undefined => {
    root ??= name;
    const next: JSONSchemaProps | undefined = cur?.properties?.[name] ?? (cur ? additionalPropertiesOf(cur) : undefined);
    if (!next) return 'does not refer to a valid field';
    cur = next;
    return undefined;
  };
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      const m = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!m) return { error: 'unexpected end of JSON path' };
      const err = step(m[0]);
      if (err) return { error: err };
      i += 1 + m[0].length;
    } else if (c === '[') {
      const rest = path.slice(i + 1);
      if (rest.startsWith("'")) {
        const m = /^'((?:[^'\\]|\\.)*)'\]/.exec(rest);
        if (!m) return { error: rest.includes(']') ? `expected ] but got ${rest}` : 'unexpected end of JSON path' };
        const err = step(m[1]!.replace(/\\(.)/g, '$1'));
        if (err) return { error: err };
        i += 1 + m[0].length;
      } else if (/^\d+\]/.test(rest)) {
        if (!allowArrayNotation) return { error: 'array notation is not allowed' };
        const items: JSONSchemaProps | undefined = cur ? itemsOf(cur) : undefined;
        if (!items) return { error: 'does not refer to a valid field' };
        cur = items;
        i += 1 + rest.indexOf(']') + 1;
      } else {
        return { error: `expected single quoted string but got ${rest}` };
      }
    } else {
      return { error: `expected [ or . but got: ${path.slice(i)}` };
    }
  }
  if (root === undefined) return { error: 'unexpected end of JSON path' };
  return { schema: cur, root };
}
