/** What the describers share: a fetch whose failure leaves its part of the description empty. */
import { describeGeneric } from '../printers/describe/generic.js';
import type { DescribeContext, Kind } from './kind.js';
import type { KObject } from '../api/object.js';

export async function tolerate<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch {
    return fallback;
  }
}

/** Describes an object with its kind's describer (kubectl's generic describer where the kind says 'generic'). */
export async function describeWith(kind: Kind, obj: KObject, ctx: DescribeContext): Promise<string> {
  if (kind.describer === 'generic') return describeGeneric(obj, await ctx.events(), ctx.now);
  return kind.describer(obj, ctx);
}
