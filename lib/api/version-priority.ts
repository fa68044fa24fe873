/**
 * Kubernetes' order of API versions (apimachinery's
 * CompareKubeAwareVersionStrings): GA before beta before alpha, then the
 * higher major, then the higher minor (v2, v1, v1beta2, v1beta1, v1alpha1);
 * versions of another form come after all of those, alphabetically. A group's
 * preferred version is the first in this order.
 */

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** alpha < beta < GA, as apimachinery's versionType. */
const STABILITY = { alpha: 0, beta: 1, ga: 2 } as const;

function parse(v: string): { major: number; stability: number; minor: number } | undefined {
  const m = KUBE_VERSION.exec(v);
  if (!m) return undefined;
  const stability = m[2] === 'alpha' ? STABILITY.alpha : m[2] === 'beta' ? STABILITY.beta : STABILITY.ga;
  return { major: Number(m[1]), stability, minor: m[3] === undefined ? 0 : Number(m[3]) };
}

/** Positive when `a` comes first (has the higher priority), negative when `b` does, 0 when equal. */
export function compareKubeAwareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parse(a);
  const pb = parse(b);
  if (!pa && !pb) return b < a ? -1 : 1;
  if (!pa) return -1;
  if (!pb) return 1;
  if (pa.stability !== pb.stability) return pa.stability - pb.stability;
  if (pa.major !== pb.major) return pa.major - pb.major;
  return pa.minor - pb.minor;
}

/** `versions` in priority order (a copy): the preferred one first. */
export function byVersionPriority<T>(items: readonly T[], versionOf: (item: T) => string): T[] {
  return [...items].sort((x, y) => compareKubeAwareVersions(versionOf(y), versionOf(x)));
}
