/**
 * Finds and drops fields a schema does not declare (the API server warns
 * about them, or refuses them under `fieldValidation=Strict`).
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

/** Removes the fields the schema does not declare from `value` (in place); returns their dotted paths (`spec.containers[0].foo`). */
export function unknownFields(schema: z.ZodType, value: unknown, path = ''): string[] {
  const out: string[] = [];
  walk(schema, value, path, out);
  return out;
}

function walk(schema: z.ZodType, value: unknown, path: string, out: string[]): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      if (def.innerType) walk(def.innerType, value, path, out);
      return;
    case 'pipe':
      if (def.in) walk(def.in, value, path, out);
      return;
    case 'lazy':
      if (def.getter) walk(def.getter(), value, path, out);
      return;
    case 'object': {
      if (!isPlainObject(value) || !def.shape) return;
      for (const [key, v] of Object.entries(value)) {
        const child = def.shape[key];
        const childPath = path ? `${path}.${key}` : key;
        if (child) walk(child, v, childPath, out);
        else {
          out.push(childPath);
          delete value[key];
        }
      }
      return;
    }
    case 'array':
      if (Array.isArray(value) && def.element) value.forEach((item, i) => walk(def.element!, item, `${path}[${i}]`, out));
      return;
    case 'union': {
      const match = def.options?.find((o) => o.safeParse(value).success);
      if (match) walk(match, value, path, out);
      return;
    }
    default:
      return;
  }
}
