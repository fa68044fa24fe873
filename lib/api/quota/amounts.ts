/**
 * Exact resource.Quantity arithmetic for quota and limit ranges, where sums
 * of "100m" must not drift as doubles do and kube's messages print each
 * value in its canonical form ("1500m", "2Gi", "1k"). An amount is an integer
 * number of thousandths (kube's MilliValue: a finer value rounds up) and the
 * format it prints in; a sum keeps its first operand's format (the second's
 * when the first is 0), as Quantity.Add does.
 */

export interface Amount {
  milli: bigint;
  /** BinarySI (a Ki/Mi/Gi… suffix) prints powers of 1024; DecimalSI powers of 1000. */
  binary: boolean;
}

/** A ResourceList read as amounts. */
export type Amounts = Record<string, Amount>;

/** What a ResourceList holds on the wire. */
export type ResourceList = Record<string, string | number>;

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The exact amount of a quantity, or undefined if the text is not one. */
export function parseAmount(q: string | number | null | undefined): Amount | undefined {
  if (q === null || q === undefined) return undefined;
  const text = typeof q === 'number' ? String(q) : q.trim();
  const m = QUANTITY.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  // value = digits / 10^frac.length, times the suffix; thousandths rounded up (toward +infinity), as MilliValue.
  let num = BigInt(`${m[2] || '0'}${frac}`) * 1000n;
  let den = 10n ** BigInt(frac.length);
  const suffix = m[4];
  const binary = suffix !== undefined && suffix in BINARY;
  if (binary) num *= 2n ** BigInt(BINARY[suffix]!);
  else {
    const exp = suffix !== undefined ? DECIMAL[suffix]! : Number(m[5] ?? 0);
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  }
  const negative = m[1] === '-';
  const whole = num / den;
  const milli = negative ? -whole : num % den === 0n ? whole : whole + 1n;
  return { milli, binary };
}

export function amount(milli: bigint, binary = false): Amount {
  return { milli, binary };
}

const DECIMAL_UP = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const BINARY_UP = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Quantity.String(): the canonical form. */
export function formatAmount(a: Amount): string {
  const sign = a.milli < 0n ? '-' : '';
  const milli = a.milli < 0n ? -a.milli : a.milli;
  if (milli % 1000n !== 0n) return `${sign}${milli}m`;
  let v = milli / 1000n;
  // BinarySI below 1024 prints as DecimalSI (CanonicalizeBytes).
  if (a.binary && v >= 1024n) {
    let i = 0;
    while (i < BINARY_UP.length - 1 && v % 1024n === 0n) {
      v /= 1024n;
      i++;
    }
    return `${sign}${v}${BINARY_UP[i]}`;
  }
  let i = 0;
  while (v !== 0n && i < DECIMAL_UP.length - 1 && v % 1000n === 0n) {
    v /= 1000n;
    i++;
  }
  return `${sign}${v}${DECIMAL_UP[i]}`;
}

/** A ResourceList's amounts; entries that do not parse are left out (validation refuses them first). */
export function amountsOf(list: ResourceList | null | undefined): Amounts {
  const out: Amounts = {};
  for (const [k, v] of Object.entries(list ?? {})) {
    const a = parseAmount(v);
    if (a) out[k] = a;
  }
  return out;
}

/** The wire form, keys sorted. */
export function toResourceList(a: Amounts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(a).sort()) out[k] = formatAmount(a[k]!);
  return out;
}

/** quota.Add: every key of either; a key in both keeps `a`'s format unless `a` is 0 (Quantity.Add takes the other's then). */
export function add(a: Amounts, b: Amounts): Amounts {
  const out: Amounts = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const x = out[k];
    out[k] = x ? { milli: x.milli + v.milli, binary: x.milli === 0n ? v.binary : x.binary } : v;
  }
  return out;
}

/** quota.Subtract: every key of either (a key only in `b` negated). */
export function subtract(a: Amounts, b: Amounts): Amounts {
  return add(a, Object.fromEntries(Object.entries(b).map(([k, v]) => [k, { milli: -v.milli, binary: v.binary }])));
}

/** Each key of `b` raised to at least its value there (kube's maxResourceList, in place on a copy). */
export function max(a: Amounts, b: Amounts): Amounts {
  const out: Amounts = { ...a };
  for (const [k, v] of Object.entries(b)) if (!out[k] || v.milli > out[k].milli) out[k] = v;
  return out;
}

/** quota.Mask: only the keys named. */
export function mask(a: Amounts, names: Iterable<string>): Amounts {
  const out: Amounts = {};
  for (const k of names) if (a[k]) out[k] = a[k];
  return out;
}

/** quota.IsZero: no key, or every value 0. */
export function isZero(a: Amounts): boolean {
  return Object.values(a).every((v) => v.milli === 0n);
}

/** quota.Equals by value. */
export function equal(a: Amounts, b: Amounts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k]?.milli !== b[k]?.milli) return false;
  return true;
}

/**
 * quota.LessThanOrEqual: whether every key of `a` that `b` limits is within
 * it, and the keys that are not.
 */
export function lessThanOrEqual(a: Amounts, b: Amounts): { ok: boolean; exceeded: string[] } {
  const exceeded = Object.keys(a).filter((k) => b[k] && a[k]!.milli > b[k].milli);
  return { ok: exceeded.length === 0, exceeded };
}

/** The quota admission's prettyPrint: `k=v` sorted by key, joined with ",". */
export function prettyPrint(a: Amounts): string {
  return Object.keys(a)
    .sort()
    .map((k) => `${k}=${formatAmount(a[k]!)}`)
    .join(',');
}
