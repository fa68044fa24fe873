/**
 * resource.Quantity: "100m", "0.5", "1Gi", "2e3", 3. Parsed to a number in
 * base units (cores, bytes). Precision beyond a double is not needed for
 * scheduling decisions at kumo's scale.
 */

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** Returns the value in base units, or undefined if the text is not a quantity. */
export function parseQuantity(q: string | number | null | undefined): number | undefined {
  if (q === null || q === undefined) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = q.trim().match(QUANTITY);
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[3] !== undefined) return base * 10 ** Number(m[3]);
  return base * SUFFIX[m[2] ?? '']!;
}

/** CPU in millicores, rounded up as Kubernetes does. */
export function milliCpu(q: string | number | null | undefined): number {
  const v = parseQuantity(q);
  return v === undefined ? 0 : Math.ceil(Math.round(v * 1e6) / 1e3);
}

/** Formats bytes the way `kubectl describe` shows allocatable memory (Ki). */
export function formatBytes(bytes: number): string {
  if (bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}Gi`;
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}Mi`;
  if (bytes % 2 ** 10 === 0) return `${bytes / 2 ** 10}Ki`;
  return String(bytes);
}

export function formatMilliCpu(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}
