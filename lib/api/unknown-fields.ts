/**
 * Finds fields a schema does not declare, for `fieldValidation=Strict|Warn`.
 * Objects modelled as records (free-form maps) are opaque: their keys are
 * data, not fields.
 */
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns dotted paths (`spec.containers[0].foo`) of fields not in the schema; with `drop`, also removes them from `value`. */
export function unknownFields(schema: z.ZodType, value: unknown, path = '', drop = false): string[] {
  const out: string[] = [];
  walk(schema, value, path, out, drop);
  return out;
}

function walk(schema: z.ZodType, value: unknown, path: string, out: string[], drop: boolean): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      if (def.innerType) walk(def.innerType, value, path, out, drop);
      return;
    case 'pipe':
      if (def.in) walk(def.in, value, path, out, drop);
      return;
    case 'lazy':
      if (def.getter) walk(def.getter(), value, path, out, drop);
      return;
    case 'object': {
      if (!isPlainObject(value) || !def.shape) return;
      for (const [key, v] of Object.entries(value)) {
        const child = def.shape[key];
        const childPath = path ? `${path}.${key}` : key;
        if (child) walk(child, v, childPath, out, drop);
        else {
          out.push(childPath);
          if (drop) delete value[key];
        }
      }
      return;
    }
    case 'array':
      if (Array.isArray(value) && def.element) value.forEach((item, i) => walk(def.element!, item, `${path}[${i}]`, out, drop));
      return;
    case 'union': {
      const match = def.options?.find((o) => o.safeParse(value).success);
      if (match) walk(match, value, path, out, drop);
      return;
    }
    default:
      return;
  }
}
