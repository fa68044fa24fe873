/**
 * Field ownership (metadata.managedFields) as Kubernetes' field manager
 * keeps it: every write records what its manager set (operation Update),
 * server-side apply records what the configuration names (operation Apply),
 * removes what the same manager applied before and no longer names (unless
 * someone else owns it), and refuses to change fields other managers own
 * (409 Conflict) unless forced, in which case they lose them. Ported from
 * structured-merge-diff's merge/update.go and the apiserver's fieldmanager.
 */
import type { KObject, ManagedFieldsEntry } from '../../api/object.js';
import { StatusError } from '../../api/errors.js';
import type { Shape } from '../schema/shape.js';
import { clone, deepEqual, isPlainObject } from '../../util/json.js';
import { FieldSet, pathString } from './fieldpath.js';
import { compare, merge, namedFieldsAsMembers, removeItems, toFieldSet } from './typed.js';

export type Operation = 'Apply' | 'Update';

export interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** Managers by identity: name, operation and subresource (the API version is not part of it: one version per kind here). */
export type Managers = Map<string, Manager>;

export function managerId(m: Pick<Manager, 'manager' | 'operation' | 'subresource'>): string {
  return JSON.stringify([m.manager, m.operation, m.subresource ?? '']);
}

export function decodeManagedFields(entries: readonly ManagedFieldsEntry[] | null | undefined): Managers {
  const out: Managers = new Map();
  for (const e of entries ?? []) {
    if (!e.manager || (e.operation !== 'Apply' && e.operation !== 'Update')) continue;
    const m: Manager = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion ?? '',
      ...(e.subresource ? { subresource: e.subresource } : {}),
      ...(e.time ? { time: e.time } : {}),
      set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}),
    };
    const id = managerId(m);
    const prev = out.get(id);
    out.set(id, prev ? { ...m, set: prev.set.union(m.set) } : m);
  }
  return out;
}

/** managedFields entries in Kubernetes' order: Apply before Update, then by time, manager, subresource. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => !m.set.empty());
  list.sort((a, b) => {
    if (a.operation !== b.operation) return a.operation < b.operation ? -1 : 1;
    const ta = a.time ? Date.parse(a.time) : 0;
    const tb = b.time ? Date.parse(b.time) : 0;
    if (ta !== tb) return ta - tb;
    if (a.manager !== b.manager) return a.manager < b.manager ? -1 : 1;
    return (a.subresource ?? '') < (b.subresource ?? '') ? -1 : (a.subresource ?? '') > (b.subresource ?? '') ? 1 : 0;
  });
  return list.map((m) => ({
    manager: m.manager,
    operation: m.operation,
    apiVersion: m.apiVersion,
    ...(m.time ? { time: m.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: m.set.toFieldsV1(),
    ...(m.subresource ? { subresource: m.subresource } : {}),
  }));
}

/** Paths no manager owns: the server keeps them (Kubernetes' stripMeta and reset fields). */
export function ignoredFields(subresource: string | undefined, hasStatus: boolean): (set: FieldSet) => FieldSet {
  return (set) => {
    const out = set.clone();
    for (const pe of ['f:apiVersion', 'f:kind']) out.children.delete(pe);
    const meta = out.get('f:metadata');
    if (meta) {
      meta.member = false;
      for (const f of [
        'name',
        'namespace',
        'creationTimestamp',
        'selfLink',
        'uid',
        'generation',
        'managedFields',
        'resourceVersion',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
      ]) {
        meta.children.delete(`f:${f}`);
      }
    }
    if (subresource === 'status') {
      for (const pe of [...out.children.keys()]) if (pe !== 'f:status') out.children.delete(pe);
    } else if (hasStatus) out.children.delete('f:status');
    return out;
  };
}

export interface FieldManagerContext {
  shape: Shape;
  apiVersion: string;
  subresource?: string;
  /** Applied to every field set recorded (stripped metadata, reset fields). */
  ignore: (set: FieldSet) => FieldSet;
  now: string;
}

interface Conflict {
  manager: Manager;
  path: string[];
}

function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

/** Kubernetes' apply conflict: 409 Conflict listing each contested field and its manager. */
export function conflictError(conflicts: Conflict[]): StatusError {
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.manager)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, { m: Manager; paths: string[][] }>();
    for (const c of conflicts) {
      const id = managerId(c.manager);
      const e = byManager.get(id) ?? { m: c.manager, paths: [] };
      e.paths.push(c.path);
      byManager.set(id, e);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      const e = byManager.get(id)!;
      lines.push(`conflicts with ${printManager(e.m)}:`);
      for (const p of e.paths) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) })),
  });
}

/**
 * The shared core of Update and Apply (SMD's Updater.update): compares live
 * and new, and takes the changed fields away from every manager but
 * `workflow`, refusing with a conflict when not forced.
 */
function takeOver(live: unknown, next: unknown, managers: Managers, workflow: string, force: boolean, ctx: FieldManagerContext) {
  const raw = compare(live, next, ctx.shape);
  const cmp = { added: ctx.ignore(raw.added), removed: ctx.ignore(raw.removed), modified: ctx.ignore(raw.modified) };
  const changed = cmp.modified.union(cmp.added);
  const conflicts: Conflict[] = [];
  const taken = new Map<string, FieldSet>();
  for (const [id, m] of managers) {
    if (id === workflow) continue;
    const c = m.set.intersection(changed);
    if (!c.empty()) {
      taken.set(id, c);
      for (const path of c.paths()) conflicts.push({ manager: m, path });
    }
  }
  if (!force && conflicts.length > 0) throw conflictError(conflicts);
  for (const [id, m] of managers) {
    if (id === workflow) continue;
    let set = m.set;
    const t = taken.get(id);
    if (t) set = set.difference(t);
    if (!cmp.removed.empty()) set = set.difference(cmp.removed);
    if (set.empty()) managers.delete(id);
    else if (set !== m.set) managers.set(id, { ...m, set });
  }
  return cmp;
}

/**
 * Records a non-apply write (create, update, patch) by `manager`: it now
 * owns what it added or changed, others lose it. Returns the new managers.
 */
export function recordUpdate(live: unknown, next: unknown, managers: Managers, manager: string, ctx: FieldManagerContext): Managers {
  const out: Managers = new Map(managers);
  const id = managerId({ manager, operation: 'Update', ...(ctx.subresource ? { subresource: ctx.subresource } : {}) });
  const cmp = takeOver(live, next, out, id, true, ctx);
  const prev = out.get(id);
  const set = (prev?.set ?? new FieldSet()).difference(cmp.removed).union(cmp.modified).union(cmp.added);
  if (set.empty()) out.delete(id);
  else {
    const changed = !prev || !prev.set.equals(set) || !deepEqual(live, next);
    out.set(id, {
      manager,
      operation: 'Update',
      apiVersion: ctx.apiVersion,
      ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      ...(changed ? { time: ctx.now } : prev?.time ? { time: prev.time } : {}),
      set,
    });
  }
  return out;
}

/**
 * Server-side apply of `config` over `live` by `manager` (SMD's
 * Updater.Apply): merge, prune what this manager applied before and no
 * longer names, then take over (or conflict on) changed fields.
 */
export function apply(
  live: unknown,
  config: Record<string, unknown>,
  managers: Managers,
  manager: string,
  force: boolean,
  ctx: FieldManagerContext,
): { object: unknown; managers: Managers } {
  const out: Managers = new Map(managers);
  const id = managerId({ manager, operation: 'Apply', ...(ctx.subresource ? { subresource: ctx.subresource } : {}) });
  let merged = merge(live, config, ctx.shape);
  const last = out.get(id)?.set;
  const set = ctx.ignore(toFieldSet(config, ctx.shape));
  out.set(id, { manager, operation: 'Apply', apiVersion: ctx.apiVersion, ...(ctx.subresource ? { subresource: ctx.subresource } : {}), time: ctx.now, set });
  if (last && !last.empty()) merged = prune(merged, out, last, ctx);
  takeOver(live, merged, out, id, force, ctx);
  return { object: merged, managers: out };
}

/** SMD's prune: removes what `last` applied that neither the new configuration nor anyone else owns. */
function prune(merged: unknown, managers: Managers, last: FieldSet, ctx: FieldManagerContext): unknown {
  const shape = ctx.shape;
  const named = (s: FieldSet) => namedFieldsAsMembers(s, shape);
  const lastE = named(last);
  // The object's own envelope is never pruned away: the server owns it.
  const protect = (s: FieldSet) => {
    const o = s.clone();
    for (const pe of ['f:apiVersion', 'f:kind', 'f:metadata']) {
      const c = o.get(pe);
      if (c) c.member = false;
    }
    return o;
  };
  let pruned = removeItems(merged, protect(lastE), shape);
  let owned = new FieldSet();
  for (const m of managers.values()) owned = owned.union(m.set);
  const mergedE = named(toFieldSet(merged, shape));
  pruned = removeItems(merged, protect(mergedE.difference(named(toFieldSet(pruned, shape)).union(named(owned)))), shape);
  const prunedE = named(toFieldSet(pruned, shape));
  return removeItems(merged, protect(mergedE.difference(prunedE).intersection(lastE)), shape);
}

/**
 * The managers an incoming object carries (Kubernetes' decodeLiveOrNew):
 * `managedFields: []` (or one empty entry) resets them, absent or empty
 * keeps the live ones, otherwise the request's own are taken; subresource
 * writes always keep the live ones.
 */
export function managersFor(live: KObject | undefined, incoming: KObject, subresource: string | undefined): Managers {
  const liveManagers = () => decodeManagedFields(live?.metadata.managedFields);
  if (subresource) return liveManagers();
  const mf = incoming.metadata.managedFields;
  if (Array.isArray(mf)) {
    if (mf.length === 0) return new Map();
    if (mf.length === 1 && isPlainObject(mf[0]) && Object.keys(mf[0]).length === 0) return new Map();
    const decoded = decodeManagedFields(mf);
    if (decoded.size > 0) return decoded;
  }
  return liveManagers();
}

/** The object without managedFields, as field sets are computed over. */
export function withoutManagedFields(obj: KObject): KObject {
  const c = clone(obj);
  delete c.metadata.managedFields;
  return c;
}
