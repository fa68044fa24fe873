/**
 * The ResourceQuota admission plugin (kube's
 * staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota), the last
 * step before a write: the object's usage is checked against every quota of
 * its namespace that tracks it, and charged to their status.used.
 *
 * Invariant: a charge is a compare-and-swap of the quota at the
 * resourceVersion its usage was read at; on a conflict every quota is read
 * again and the request evaluated afresh. So two creates racing for the last
 * unit of a quota never both pass: the second one's swap fails and its retry
 * sees the first one's charge. A charge whose write then fails (the name was
 * taken, the store refused) stays until the quota controller recounts usage
 * from the store, as in kube.
 */
import type { ResourceQuota } from '../api/core/v1/resourcequota.js';
import { StatusError } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { add, amountsOf, equal, isZero, lessThanOrEqual, mask, prettyPrint, subtract, toResourceList, type Amounts } from '../api/quota/amounts.js';
import { evaluatorFor, quotaMatches } from '../api/quota/evaluators.js';
import type { GroupResource } from '../api/store-key.js';
import { storeResource } from '../api/store-key.js';
import type { Store } from '../store/types.js';

const RESOURCE_QUOTAS = storeResource({ group: '', resource: 'resourcequotas' });

/** Reads and swaps beyond which a request gives up with 409, as kube's admission does after its retries. */
const MAX_ATTEMPTS = 16;

export interface QuotaRequest {
  resource: GroupResource;
  namespace: string;
  /** The name messages give: the object's, or its generateName while the name is still to be generated (kube's extractResourceName). */
  name: string;
  object: KObject;
  /** Undefined on create. */
  old?: KObject;
  dryRun?: boolean;
  /** Milliseconds since the epoch. */
  now: number;
}

/** hasUsageStats: every tracked hard name has a used value (the controller has counted it). */
function hasUsageStats(q: ResourceQuota, tracked: readonly string[]): boolean {
  return Object.keys(q.status?.hard ?? {}).every((n) => !tracked.includes(n) || q.status?.used?.[n] !== undefined);
}

export class QuotaAdmission {
  constructor(private readonly store: Store) {}

  /** Refuses with 403 (kube's messages) or charges the quotas the object counts against. */
  async admit(req: QuotaRequest): Promise<void> {
    const ev = evaluatorFor(req.resource.group, req.resource.resource);
    if (req.old && !ev.chargesUpdates) return;
    const refuse = (why: string) => StatusError.forbiddenObject(req.resource, req.name, why);
    // Quotas this request has charged already: a retry after a conflict on another one must not charge them twice.
    const done = new Set<string>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const quotas = (await this.store.list(RESOURCE_QUOTAS, { namespace: req.namespace })).items as (ResourceQuota & KObject)[];
      const interesting: { quota: ResourceQuota & KObject; hard: Amounts }[] = [];
      for (const q of quotas) {
        if (done.has(q.metadata.name ?? '') || !quotaMatches(ev, q, req.object)) continue;
        const tracked = ev.matchingResources(Object.keys(q.status?.hard ?? {}));
        const violated = ev.constraints(tracked, req.object);
        if (violated) throw refuse(`failed quota: ${q.metadata.name}: ${violated}`);
        if (!hasUsageStats(q, tracked)) throw refuse(`status unknown for quota: ${q.metadata.name}, resources: ${[...tracked].sort().join(',')}`);
        interesting.push({ quota: q, hard: mask(amountsOf(q.status?.hard), tracked) });
      }
      if (interesting.length === 0) return;
      let delta = ev.usage(req.object, req.now);
      if (req.old) delta = subtract(delta, ev.usage(req.old, req.now));
      if (isZero(delta)) return;

      const charged: { quota: ResourceQuota & KObject; used: Amounts }[] = [];
      for (const { quota, hard } of interesting) {
        const requested = mask(delta, Object.keys(hard));
        if (isZero(requested)) continue;
        const used = amountsOf(quota.status?.used);
        const next = add(used, requested);
        const { ok, exceeded } = lessThanOrEqual(mask(next, Object.keys(requested)), hard);
        if (!ok) {
          throw refuse(
            `exceeded quota: ${quota.metadata.name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
          );
        }
        if (!equal(next, used)) charged.push({ quota, used: next });
      }
      if (req.dryRun) return;
      if (await this.charge(charged, done)) return;
    }
    throw StatusError.conflict(req.resource, req.name, 'the resource quotas of the namespace kept changing while the request was admitted; please retry');
  }

  /** Writes each quota's new usage if it is unchanged since read; false when one was (the caller reads them again). */
  private async charge(charged: { quota: ResourceQuota & KObject; used: Amounts }[], done: Set<string>): Promise<boolean> {
    for (const { quota, used } of charged) {
      const next: ResourceQuota & KObject = { ...quota, status: { ...quota.status, used: { ...quota.status?.used, ...toResourceList(used) } } };
      const key = { resource: RESOURCE_QUOTAS, namespace: quota.metadata.namespace ?? '', name: quota.metadata.name ?? '' };
      const res = await this.store.update(key, next, quota);
      if (!res.ok) return false;
      done.add(quota.metadata.name ?? '');
    }
    return true;
  }
}
