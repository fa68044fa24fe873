/**
 * Where the REST path meets field ownership: recording a write's manager
 * in managedFields, and computing a server-side apply's result object.
 */
import type { KObject } from '../../api/object.js';
import { apiVersionOf, type ResourceType } from '../../api/registry.js';
import { rfc3339 } from '../../util/clock.js';
import { clone, deepEqual, isPlainObject } from '../../util/json.js';
import { StatusError, isConflict } from '../../api/errors.js';
import { rootShape } from '../schema/shape.js';
import { type FieldSet, pathString } from './fieldpath.js';
import {
  apply,
  decodeManagedFields,
  encodeManagedFields,
  type FieldManagerContext,
  ignoredFields,
  managerId,
  managersFor,
  recordUpdate,
  withoutManagedFields,
} from './managed-fields.js';
import { SchemaError, toFieldSet } from './typed.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Kubernetes' manager name for fields set before the first apply of an object without managedFields. */
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** Subresources whose writes are recorded; those that own one spec field name it (the rest of a write is not theirs). */
const TRACKED_SUBRESOURCES: ReadonlyMap<string, string | undefined> = new Map([
  ['status', undefined],
  ['scale', 'f:replicas'],
  ['ephemeralcontainers', 'f:ephemeralContainers'],
]);

export function tracksSubresource(subresource: string | undefined): boolean {
  return subresource === undefined || TRACKED_SUBRESOURCES.has(subresource);
}

function context(rt: ResourceType, subresource: string | undefined, now: number): FieldManagerContext {
  const owned = subresource ? TRACKED_SUBRESOURCES.get(subresource) : undefined;
  const base = ignoredFields(owned ? undefined : subresource, rt.subresources.includes('status'));
  const ignore = owned
    ? (set: FieldSet) => {
        // A scale write owns spec.replicas, an ephemeralcontainers write spec.ephemeralContainers, and nothing else.
        const s = base(set);
        for (const pe of [...s.children.keys()]) if (pe !== 'f:spec') s.children.delete(pe);
        const spec = s.get('f:spec');
        if (spec) for (const pe of [...spec.children.keys()]) if (pe !== owned) spec.children.delete(pe);
        return s;
      }
    : base;
  return {
    shape: rootShape(apiVersionOf(rt), rt.kind),
    apiVersion: apiVersionOf(rt),
    ...(subresource ? { subresource } : {}),
    ignore,
    now: rfc3339(now),
  };
}

function asStatus(err: unknown): never {
  if (err instanceof SchemaError) throw StatusError.badRequest(err.message);
  throw err;
}

/**
 * Sets `next.metadata.managedFields` for a non-apply write by `manager`
 * (`old` undefined for a create). Mutates `next`. Never fails the write: an
 * object the schema cannot place (a keyed list item without its key, which
 * validation then refuses with its own message) loses its managedFields,
 * as Kubernetes' UpdateNoErrors does.
 */
export function recordWrite(rt: ResourceType, old: KObject | undefined, next: KObject, manager: string, subresource: string | undefined, now: number): void {
  try {
    const ctx = context(rt, subresource, now);
    const managers = managersFor(old, next, subresource);
    const updated = recordUpdate(old ? withoutManagedFields(old) : {}, withoutManagedFields(next), managers, manager, ctx);
    const entries = encodeManagedFields(updated);
    if (entries.length > 0) next.metadata.managedFields = entries;
    else delete next.metadata.managedFields;
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    delete next.metadata.managedFields;
  }
}

/**
 * The object a server-side apply of `config` by `manager` produces over
 * `live` (undefined: the apply creates it), with its managedFields. Throws
 * a 409 listing conflicts unless `force`. As Kubernetes does for the
 * `kubectl` manager, conflicts with fields the last-applied annotation
 * names are taken over (upgrading client-side apply), and that annotation
 * follows the applied configuration.
 */
export function applyObject(
  rt: ResourceType,
  live: KObject | undefined,
  config: Record<string, unknown>,
  manager: string,
  force: boolean,
  subresource: string | undefined,
  now: number,
): KObject {
  try {
    const ctx = context(rt, subresource, now);
    const liveValue = live ? withoutManagedFields(live) : undefined;
    const managers = decodeManagedFields(live?.metadata.managedFields);
    if (live && managers.size === 0) {
      const set = ctx.ignore(toFieldSet(liveValue, ctx.shape));
      if (!set.empty()) {
        managers.set(managerId({ manager: BEFORE_FIRST_APPLY, operation: 'Update' }), {
          manager: BEFORE_FIRST_APPLY,
          operation: 'Update',
          apiVersion: ctx.apiVersion,
          set,
        });
      }
    }
    let result: ReturnType<typeof apply>;
    try {
      result = apply(liveValue, config, managers, manager, force, ctx);
    } catch (err) {
      if (!isConflict(err) || manager !== 'kubectl' || !live) throw err;
      const allowed = lastAppliedSet(live, ctx);
      const contested = ((err.details?.causes ?? []) as { field?: string }[]).map((c) => c.field ?? '');
      if (!allowed || contested.length === 0) throw err;
      const allowedPaths = new Set(allowed.paths().map((p) => pathString(p)));
      if (!contested.every((f) => allowedPaths.has(f))) throw err;
      result = apply(liveValue, config, managers, manager, true, ctx);
    }
    const obj = result.object as KObject;
    if (!isPlainObject(obj) || !isPlainObject(obj.metadata)) throw StatusError.badRequest('the applied configuration must be an object with metadata');
    const annotations = live?.metadata.annotations;
    if (manager === 'kubectl' && annotations?.[LAST_APPLIED] !== undefined) {
      const applied = clone(config) as KObject;
      if (applied.metadata?.annotations) {
        delete applied.metadata.annotations[LAST_APPLIED];
        if (Object.keys(applied.metadata.annotations).length === 0) delete applied.metadata.annotations;
      }
      obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(applied) };
    }
    const entries = encodeManagedFields(result.managers);
    if (entries.length > 0) obj.metadata.managedFields = entries;
    else delete obj.metadata.managedFields;
    // An apply that changes nothing keeps the live managers' times.
    if (live && deepEqual(withoutManagedFields(obj), liveValue) && sameOwnership(live, obj)) return live;
    return obj;
  } catch (err) {
    return asStatus(err);
  }
}

/** The fields the client-side apply annotation names, as a field set. */
function lastAppliedSet(live: KObject, ctx: FieldManagerContext): FieldSet | undefined {
  const raw = live.metadata.annotations?.[LAST_APPLIED];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!isPlainObject(parsed)) return undefined;
    return ctx.ignore(toFieldSet(parsed, ctx.shape));
  } catch {
    return undefined;
  }
}

function sameOwnership(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => (o.metadata.managedFields ?? []).map(({ time: _t, ...rest }) => rest);
  return deepEqual(strip(a), strip(b));
}
