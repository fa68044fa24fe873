/**
 * The RBAC authorizer's view of the four kinds (kube's RBAC authorizer reads
 * informers' listers): every Role, ClusterRole, RoleBinding and
 * ClusterRoleBinding, indexed for the authorizer, read with one list per
 * kind and then served from memory.
 *
 * Freshness: the view is dropped by every RBAC write this process makes
 * (`invalidate`, wired to the store the API server writes through:
 * lib/store/observed.ts), so where one process serves the API (`kumo up`)
 * a write is in force for the very next request. Writes through another
 * process (another warm Lambda container) are seen once the view is older
 * than `maxAgeMs` (default 5 s): that is the staleness bound in the cloud,
 * where the steady state costs no store read per request (four lists per
 * container per interval, and only when requests come).
 */
import type { KObject } from '../../api/object.js';
import { type GroupResource, storeResource } from '../../api/store-key.js';
import { StatusError } from '../../api/errors.js';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLE_BINDINGS, ROLES } from '../../kinds/resources.js';
import type { RbacBinding, RbacRole } from '../../kinds/rbac/validation.js';
import { StoreBusyError, type Store } from '../../store/types.js';
import { type Clock, systemClock } from '../../util/clock.js';

/** The RBAC objects at one moment, indexed as the rule resolver reads them. */
export interface RbacSnapshot {
  clusterRoles: ReadonlyMap<string, RbacRole>;
  /** By `namespace/name`. */
  roles: ReadonlyMap<string, RbacRole>;
  clusterRoleBindings: readonly RbacBinding[];
  /** By namespace. */
  roleBindings: ReadonlyMap<string, readonly RbacBinding[]>;
}

/** The store keys of the four kinds: a write to any of them invalidates the view. */
export const RBAC_STORE_KEYS: ReadonlySet<string> = new Set([ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS].map(storeResource));

export interface RbacCacheOptions {
  clock?: Clock;
  /** How old the view may be before a request reads it again. @default 5 s */
  maxAgeMs?: number;
}

export class RbacCache {
  private view: { at: number; snapshot: Promise<RbacSnapshot> } | undefined;
  private readonly clock: Clock;
  /** Loads of the view from the store since the process started (for the bench and the tests). */
  loads = 0;

  constructor(
    private readonly store: Store,
    private readonly opts: RbacCacheOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The current view; concurrent requests share one load. A failed load is not kept. */
  snapshot(): Promise<RbacSnapshot> {
    const now = this.clock.now();
    if (this.view && now - this.view.at < (this.opts.maxAgeMs ?? 5_000)) return this.view.snapshot;
    const snapshot = this.load();
    const view = { at: now, snapshot };
    this.view = view;
    snapshot.catch(() => {
      if (this.view === view) this.view = undefined;
    });
    return snapshot;
  }

  /** Drops the view: the next request reads the four kinds again. */
  invalidate(): void {
    this.view = undefined;
  }

  private async all(rt: GroupResource): Promise<KObject[]> {
    try {
      return (await this.store.list(storeResource(rt))).items;
    } catch (err) {
      if (err instanceof StoreBusyError) throw StatusError.tooManyRequests(`the server is busy: ${err.message}`);
      throw err;
    }
  }

  private async load(): Promise<RbacSnapshot> {
    this.loads++;
    const [clusterRoles, roles, clusterRoleBindings, roleBindings] = await Promise.all([
      this.all(CLUSTER_ROLES),
      this.all(ROLES),
      this.all(CLUSTER_ROLE_BINDINGS),
      this.all(ROLE_BINDINGS),
    ]);
    const byNamespace = new Map<string, RbacBinding[]>();
    for (const b of roleBindings as RbacBinding[]) {
      const ns = b.metadata.namespace ?? '';
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), b]);
    }
    return {
      clusterRoles: new Map((clusterRoles as RbacRole[]).map((r) => [r.metadata.name ?? '', r])),
      roles: new Map((roles as RbacRole[]).map((r) => [`${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`, r])),
      clusterRoleBindings: clusterRoleBindings as RbacBinding[],
      roleBindings: byNamespace,
    };
  }
}
