/**
 * Persisted expectations: the names of pods a controller has decided to
 * create or delete but has not yet seen created or deleted, kept in an
 * annotation on the controller's own object.
 *
 * Kubernetes keeps these in memory, which is safe with one leader. kumo's
 * controllers may run in several processes at once (parallel Lambda
 * invocations), so the decision is recorded with a compare-and-swap on the
 * owner before acting: a second reconciler either fails the CAS and re-reads,
 * or reads the first one's reservations and counts them. Reserved names are
 * then created idempotently (AlreadyExists is success), so whoever runs next
 * can finish a reservation a crashed reconciler left behind. This is what
 * keeps a ReplicaSet from overshooting when one change reaches two
 * invocations at once.
 */
import type { KObject } from '../api/object.js';

export const EXPECTATIONS_ANNOTATION = 'kumo.io/expectations';

/**
 * The revision of the pod view the expectations were last written from.
 * Clearing a reservation means "this pod was seen"; a later reconcile reading
 * pods older than that revision could miss the pod and count it as neither
 * present nor reserved, so it must read a view at least this new
 * (OwnerIndex.ensure). Kept when the expectations empty, for the same reason.
 */
export const OBSERVED_PODS_ANNOTATION = 'kumo.io/observed-pods-revision';

/** The pod revision a reconcile of `obj` must read at least (0 when none was recorded). */
export function observedPodsRevision(obj: KObject): number {
  const v = Number(obj.metadata.annotations?.[OBSERVED_PODS_ANNOTATION]);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

export interface Expectations {
  /** Pod names reserved for creation, not yet observed. */
  add: string[];
  /** Pod names chosen for deletion, still observed active. */
  del: string[];
}

export function readExpectations(obj: KObject): Expectations {
  const raw = obj.metadata.annotations?.[EXPECTATIONS_ANNOTATION];
  if (!raw) return { add: [], del: [] };
  try {
    const parsed = JSON.parse(raw) as Partial<Expectations>;
    return { add: Array.isArray(parsed.add) ? parsed.add : [], del: Array.isArray(parsed.del) ? parsed.del : [] };
  } catch {
    return { add: [], del: [] };
  }
}

export function sameExpectations(a: Expectations, b: Expectations): boolean {
  const eq = (x: string[], y: string[]) => x.length === y.length && [...x].sort().every((v, i) => v === [...y].sort()[i]);
  return eq(a.add, b.add) && eq(a.del, b.del);
}

/**
 * A copy of `obj` carrying `exp` (the annotation is removed when there is
 * nothing pending) and, when given, the revision of the pod view `exp` was
 * decided from (it never moves back).
 */
export function withExpectations(obj: KObject, exp: Expectations, podsRevision?: number): KObject {
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  if (podsRevision !== undefined && podsRevision > observedPodsRevision(obj)) annotations[OBSERVED_PODS_ANNOTATION] = String(podsRevision);
  if (exp.add.length === 0 && exp.del.length === 0) delete annotations[EXPECTATIONS_ANNOTATION];
  else annotations[EXPECTATIONS_ANNOTATION] = JSON.stringify({ add: [...exp.add].sort(), del: [...exp.del].sort() });
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}
