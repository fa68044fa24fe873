/**
 * The resource quota controller (kube's pkg/controller/resourcequota): keeps
 * each ResourceQuota's status, which the ResourceQuota admission plugin
 * reads and charges. status.hard is spec.hard; status.used is recounted from
 * the store: for every hard name, the namespace's objects of the kind it
 * counts, in the quota's scopes, summed by the same evaluators admission
 * charges with (lib/api/quota/evaluators.ts); a hard name nothing counts is
 * used 0.
 *
 * When, after kube's controller: a quota that is new or whose spec.hard
 * changed (not its status: admission and this controller write that); an
 * object that counts and is deleted, or changes so that its usage changes
 * (a pod reaching a terminal phase, a claim growing, a Service changing
 * type), which releases what admission charged; and every quota
 * periodically, which also returns what admission charged for writes that
 * then failed. Creates are not followed: admission charged them already,
 * and a recount between a charge and its write would undo the charge.
 */
import type { ResourceQuota } from '../api/core/v1/resourcequota.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { add, amount, amountsOf, equal, mask, toResourceList, type Amounts } from '../api/quota/amounts.js';
import { evaluatorFor, quotaScopes, resourcesOfQuota } from '../api/quota/evaluators.js';
import type { ResourceRegistry } from '../api/registry.js';
import { groupResourceOf, storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import { allKeys, CONFLICT_RETRY_MS, splitKey } from '../controller-runtime/reconciler.js';
import type { ChangeEvent, Reconciler, ReconcileResult, SharedCache, Watch } from '../controller-runtime/reconciler.js';
import {
  CONFIGMAPS,
  CRONJOBS,
  DAEMONSETS,
  DEPLOYMENTS,
  JOBS,
  PERSISTENT_VOLUME_CLAIMS,
  PODS,
  REPLICASETS,
  REPLICATION_CONTROLLERS,
  RESOURCE_QUOTAS,
  SECRETS,
  SERVICES,
  STATEFULSETS,
} from '../kinds/resources.js';
import { type Clock, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { OwnerIndex } from './owner-index.js';

type Quota = ResourceQuota & KObject;

/** The kinds whose releases are followed; any other kind a quota counts (count/<resource>.<group>) is recounted periodically. */
const FOLLOWED = [
  PODS,
  SERVICES,
  PERSISTENT_VOLUME_CLAIMS,
  CONFIGMAPS,
  SECRETS,
  REPLICATION_CONTROLLERS,
  DEPLOYMENTS,
  REPLICASETS,
  STATEFULSETS,
  DAEMONSETS,
  JOBS,
  CRONJOBS,
];

export interface ResourceQuotaControllerOptions {
  /** How often every quota is recounted in full (kube-controller-manager's --resource-quota-sync-period). @default 5 minutes */
  syncPeriodMs?: number;
}

export class ResourceQuotaController implements Reconciler {
  readonly name = 'resourcequota';
  readonly watches: Watch[];
  readonly caches: SharedCache[];
  private readonly syncPeriodMs: number;

  /** `kinds` resolves what a count/<resource>.<group> names (custom resources included). */
  constructor(
    private readonly client: KubeClient,
    private readonly kinds: ResourceRegistry,
    private readonly clock: Clock = systemClock,
    private readonly index?: OwnerIndex,
    opts: ResourceQuotaControllerOptions = {},
  ) {
    this.syncPeriodMs = opts.syncPeriodMs ?? 5 * 60_000;
    this.caches = index ? [index] : [];
    const quotas = storeResource(RESOURCE_QUOTAS);
    this.watches = [
      { resource: quotas, keys: (e) => (this.hardChanged(e) ? [`${e.object.metadata.namespace}/${e.object.metadata.name}`] : []) },
      ...FOLLOWED.map((rt) => ({ resource: storeResource(rt), keys: (e: ChangeEvent) => this.released(e) })),
    ];
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, RESOURCE_QUOTAS);
  }

  /** A quota to count: new, or its spec.hard changed (kube ignores status-only updates), or its status is not yet spec.hard. */
  private hardChanged(e: ChangeEvent): boolean {
    if (e.type === 'DELETED') return false;
    const q = e.object as Quota;
    if (!e.prev || !deepEqual(q.spec?.hard, (e.prev as Quota).spec?.hard)) return true;
    return !equal(amountsOf(q.spec?.hard), amountsOf(q.status?.hard)) || Object.keys(q.spec?.hard ?? {}).length !== Object.keys(q.status?.hard ?? {}).length;
  }

  /** The quotas of the object's namespace, when its change releases usage (a deletion, or a change of its usage). */
  private async released(e: ChangeEvent): Promise<string[]> {
    if (e.type === 'ADDED') return [];
    if (e.type === 'MODIFIED') {
      const gr = groupResourceOf(e.resource);
      const ev = evaluatorFor(gr.group, gr.resource);
      const now = this.clock.now();
      if (!e.prev || equal(ev.usage(e.object, now), ev.usage(e.prev, now))) return [];
    }
    const ns = e.object.metadata.namespace;
    if (!ns) return [];
    const key = storeResource(RESOURCE_QUOTAS);
    let quotas: KObject[];
    if (this.index) {
      // Loaded once per stream batch (or followed locally) rather than listed for every change.
      await this.index.ensure(key);
      quotas = [...this.index.objects(key)].filter((q) => q.metadata.namespace === ns);
    } else quotas = (await this.client.list(RESOURCE_QUOTAS, ns)).items;
    return quotas.map((q) => `${ns}/${q.metadata.name}`);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const quota = await this.client.find<Quota>(RESOURCE_QUOTAS, namespace, name);
    if (!quota || quota.metadata.deletionTimestamp) return;
    const hard = quota.spec?.hard ?? {};
    const used = await this.usage(quota);
    const current = quota.status ?? {};
    const unchanged =
      deepEqual(Object.keys(current.hard ?? {}).sort(), Object.keys(hard).sort()) &&
      equal(amountsOf(current.hard), amountsOf(hard)) &&
      deepEqual(Object.keys(current.used ?? {}).sort(), Object.keys(used).sort()) &&
      equal(amountsOf(current.used), used);
    if (!unchanged) {
      try {
        await this.client.updateStatus(RESOURCE_QUOTAS, { ...quota, status: { hard, used: toResourceList(used) } });
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        if (isNotFound(err)) return;
        throw err;
      }
    }
    return { requeueAfterMs: this.syncPeriodMs };
  }

  /** quota.CalculateUsage: each counted kind's objects in the namespace and the quota's scopes, summed, masked to the hard names. */
  private async usage(quota: Quota): Promise<Amounts> {
    const names = Object.keys(quota.spec?.hard ?? {});
    const scopes = quotaScopes(quota);
    const now = this.clock.now();
    let total: Amounts = Object.fromEntries(names.map((n) => [n, amount(0n)]));
    for (const gr of resourcesOfQuota(names)) {
      const rt = this.kinds.byStoreKey(storeResource(gr));
      if (!rt) continue;
      const ev = evaluatorFor(gr.group, gr.resource);
      const tracked = ev.matchingResources(names);
      const objects = (await this.client.listAll(rt, quota.metadata.namespace)).items;
      let sum: Amounts = {};
      for (const obj of objects) if (scopes.every((s) => ev.matchesScope(s, obj))) sum = add(sum, ev.usage(obj, now));
      // Counted names replace their 0; a name no kind counts stays 0 (kube's mask to the hard names).
      total = { ...total, ...mask(sum, tracked) };
    }
    return total;
  }
}
