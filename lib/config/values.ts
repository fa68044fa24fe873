/**
 * The kinds of value a setting takes, as zod schemas from the text of an
 * environment variable or a flag to the value the code uses. Every time is
 * read into milliseconds, whatever unit its variable's name states, so no
 * code past the schema converts units. Each kind says what a good value is
 * (`expected`); a bad one is refused with that phrase (read.ts words it for
 * a variable or a flag).
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

export interface ValueType<T> {
  /** What a good value is, for errors and the docs' table: "a non-negative number of seconds". */
  readonly expected: string;
  /** The unit the text is in, for the docs' table. */
  readonly unit?: string;
  /** Text → value; a failed check's message is what was wrong (usually `expected`). */
  readonly schema: z.ZodType<T>;
}

export const text: ValueType<string> = { expected: 'text', schema: z.string({ error: 'text' }) };

function nonNegative(unit: string, scale: number): ValueType<number> {
  const expected = `a non-negative number of ${unit}`;
  return {
    expected,
    unit,
    schema: z.coerce
      .number({ error: expected })
      .min(0, { error: expected })
      .transform((v) => v * scale),
  };
}

/** Seconds in the text, milliseconds in the code. */
export const seconds = nonNegative('seconds', 1000);

export const milliseconds = nonNegative('milliseconds', 1);

/** Seconds in the text, more than zero; milliseconds in the code. */
export const positiveSeconds: ValueType<number> = {
  expected: 'a positive number of seconds',
  unit: 'seconds',
  schema: z.coerce
    .number({ error: 'a positive number of seconds' })
    .gt(0, { error: 'a positive number of seconds' })
    .transform((v) => v * 1000),
};

const DURATION = 'a duration such as 10s or 5m';

/**
 * A Go duration (`10s`, `5m`, `1h30m`), as kubectl's flags take one, of at
 * least `minMs`; with `zero`, `0` too (it means "off" to the setting).
 */
export function duration(opts: { minMs: number; zero?: boolean }): ValueType<number> {
  return {
    expected: DURATION,
    unit: 'duration',
    schema: z
      .string()
      .transform((s, ctx) => {
        try {
          return parseDuration(s);
        } catch {
          ctx.addIssue({ code: 'custom', message: DURATION });
          return z.NEVER;
        }
      })
      .refine((ms) => (opts.zero && ms === 0) || ms >= opts.minMs, { error: `at least ${opts.minMs / 1000}s` }),
  };
}

/** A TCP port; 0 asks the system for a free one. */
export const port: ValueType<number> = {
  expected: 'a port from 0 to 65535',
  schema: z.coerce.number({ error: 'a port from 0 to 65535' }).int({ error: 'a port from 0 to 65535' }).min(0).max(65535, { error: 'a port from 0 to 65535' }),
};

/** An IPv4 address, or `none` (read as false: the thing at that address is off). */
export const ipv4OrNone: ValueType<string | false> = {
  expected: 'an IPv4 address or none',
  schema: z
    .string()
    .refine((s) => s === 'none' || isIPv4(s), { error: 'an IPv4 address or none' })
    .transform((s) => (s === 'none' ? false : s)),
};

/** An IPv4 prefix between /8 and /30 (a Service range: its network and broadcast addresses are never handed out). */
export const ipv4Cidr: ValueType<string> = {
  expected: 'an IPv4 CIDR from /8 to /30',
  schema: z.string().refine(
    (s) => {
      const [addr, bits] = s.split('/');
      return isIPv4(addr ?? '') && /^\d+$/.test(bits ?? '') && Number(bits) >= 8 && Number(bits) <= 30;
    },
    { error: 'an IPv4 CIDR from /8 to /30' },
  ),
};

export const positiveInteger: ValueType<number> = {
  expected: 'a positive integer',
  schema: z.coerce.number({ error: 'a positive integer' }).int({ error: 'a positive integer' }).min(1, { error: 'a positive integer' }),
};

/** "a, b or c" */
function alternatives(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values.at(-1)!}`;
}

/** One of these words, exactly. */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V): ValueType<V[number]> {
  const expected = alternatives(values);
  return { expected, schema: z.enum(values, { error: expected }) };
}

/** One of these words in any case, read in upper case (log levels). */
export function oneOfUpper<const V extends readonly [string, ...string[]]>(values: V): ValueType<V[number]> {
  const expected = alternatives(values);
  return {
    expected,
    schema: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(values, { error: expected })),
  };
}

export const boolean: ValueType<boolean> = {
  expected: 'true or false',
  schema: z.enum(['true', 'false'], { error: 'true or false' }).transform((v) => v === 'true'),
};

/** JSON text, parsed (the reader checks its shape). */
export function json(expected: string): ValueType<unknown> {
  return {
    expected,
    schema: z.string().transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${expected} (${(err as Error).message})` });
        return z.NEVER;
      }
    }),
  };
}
