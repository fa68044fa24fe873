/**
 * The Deployment controller (after Kubernetes' pkg/controller/deployment):
 * one ReplicaSet per pod template, named and labelled by the template's hash;
 * RollingUpdate within maxSurge/maxUnavailable or Recreate; proportional
 * scaling; pause; progress deadline; revision history; rollback by template
 * change (what `kubectl rollout undo` sends), which reuses the old ReplicaSet.
 *
 * Safety under concurrent reconcilers: ReplicaSets are created under a
 * deterministic name (AlreadyExists means someone else made it), and every
 * replica change is a conditional update of that ReplicaSet, so two
 * reconcilers acting on stale reads cannot both move one ReplicaSet.
 */
import type { Deployment } from '../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../api/apps/v1/replicaset.js';
import { equalIgnoreHash, POD_TEMPLATE_HASH } from '../api/apps/v1/template-hash.js';
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { IntOrString } from '../api/meta/v1/common.js';
import type { KObject } from '../api/object.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { clone, deepEqual } from '../util/json.js';
import type { Recorder } from '../client/events.js';
import { controllerRef, newControllerRef } from '../api/meta/v1/owner-references.js';
import { isActive } from './pod-util.js';
import { valueHash } from '../api/names.js';
import { allKeys, CONFLICT_RETRY_MS, OWNER_COALESCE_MS, ownerWatch, selfWatch, splitKey } from '../controller-runtime/reconciler.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type D = Deployment & KObject;
type RS = ReplicaSet & KObject;

/** The pod-template-hash label value: a hash of the template (see valueHash). */
export function templateHash(template: PodTemplateSpec | null | undefined, collisionCount = 0): string {
  return valueHash(template ?? {}, collisionCount);
}

function scaled(v: IntOrString | null | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const pct = Number(v.replace('%', ''));
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxSurge (rounded up) and maxUnavailable (rounded down); never both zero (Kubernetes' ResolveFenceposts). */
export function resolveFenceposts(d: D): { surge: number; unavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { surge: 0, unavailable: replicas };
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaled(ru?.maxSurge ?? '25%', replicas, true);
  let unavailable = scaled(ru?.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

export function revisionOf(rs: KObject | undefined): number {
  const v = Number(rs?.metadata.annotations?.[REVISION] ?? '0');
  return Number.isFinite(v) ? v : 0;
}

const specReplicas = (rs: RS) => rs.spec?.replicas ?? 0;
const sum = (list: RS[], f: (rs: RS) => number) => list.reduce((n, rs) => n + f(rs), 0);
const byCreation = (a: RS, b: RS) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

function setCondition(conditions: Condition[], next: Condition, now: string): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const merged: Condition = {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: old && old.status === next.status ? (old.lastTransitionTime ?? now) : now,
  };
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) {
    // Unchanged condition: keep its times so status does not churn.
    merged.lastUpdateTime = old.lastUpdateTime ?? now;
  }
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

export class DeploymentController implements Reconciler {
  readonly name = 'deployment';
  /** Each of its ReplicaSets' status changes queues it: one reconcile per 100 ms at most. */
  readonly coalesceMs = OWNER_COALESCE_MS;
  readonly watches: Watch[] = [selfWatch(storeResource(DEPLOYMENTS)), ownerWatch(storeResource(REPLICASETS), 'Deployment')];

  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
  ) {}

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, DEPLOYMENTS);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const d = await this.client.find<D>(DEPLOYMENTS, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    try {
      return await this.sync(d);
    } catch (err) {
      // A lost compare-and-swap means our reads are stale: start again from fresh state.
      if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
      throw err;
    }
  }

  private async sync(d: D): Promise<ReconcileResult | void> {
    const ns = d.metadata.namespace;
    const selector = fromLabelSelector(d.spec?.selector);
    const all = (await this.client.listAll<RS>(REPLICASETS, ns)).items;
    const owned: RS[] = [];
    for (const rs of all) {
      const ref = controllerRef(rs);
      if (ref?.uid === d.metadata.uid) owned.push(rs);
      else if (!ref && !rs.metadata.deletionTimestamp && matches(selector, rs.metadata.labels)) {
        // Adopt an orphan ReplicaSet that matches (e.g. left by an orphaning delete of an earlier Deployment).
        const adopted = await this.client.update<RS>(REPLICASETS, {
          ...rs,
          metadata: { ...rs.metadata, ownerReferences: [...(rs.metadata.ownerReferences ?? []), newControllerRef(d)] },
        });
        owned.push(adopted);
      }
    }
    const live = owned.filter((rs) => !rs.metadata.deletionTimestamp);
    let newRS = live.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    let old = live.filter((rs) => rs !== newRS);
    const replicas = d.spec?.replicas ?? 1;
    const { surge } = resolveFenceposts(d);
    let createdNew = false;

    if (d.spec?.paused) {
      if (newRS) newRS = await this.syncRevision(d, newRS, old);
      await this.scaleProportionally(d, newRS, old);
      return this.syncStatus(d, newRS, old, { paused: true });
    }

    if (!newRS) {
      const created = await this.createNewReplicaSet(d, old, replicas, surge);
      if (created === 'conflict') return { requeueAfterMs: CONFLICT_RETRY_MS };
      newRS = created;
      createdNew = true;
      old = live.filter((rs) => rs.metadata.uid !== newRS!.metadata.uid);
    } else {
      newRS = await this.syncRevision(d, newRS, old);
    }

    if (this.isScalingEvent(d, [newRS, ...old])) {
      await this.scaleProportionally(d, newRS, old);
      return this.syncStatus(d, newRS, old, { createdNew });
    }

    if (d.spec?.strategy?.type === 'Recreate') {
      if (await this.recreate(d, newRS, old)) return this.syncStatus(d, newRS, old, { createdNew });
    } else if (!(await this.rollNew(d, newRS, old))) {
      await this.rollOld(d, newRS, old);
    }
    await this.cleanup(d, old);
    return this.syncStatus(d, newRS, old, { createdNew });
  }

  /** Whether some active ReplicaSet was sized for a different replica count than the Deployment asks now. */
  private isScalingEvent(d: D, sets: RS[]): boolean {
    const replicas = d.spec?.replicas ?? 1;
    return sets.some(
      (rs) =>
        specReplicas(rs) > 0 && rs.metadata.annotations?.[DESIRED_REPLICAS] !== undefined && Number(rs.metadata.annotations[DESIRED_REPLICAS]) !== replicas,
    );
  }

  private rsAnnotations(d: D, revision: number, replicas: number, surge: number, base: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = { ...base };
    // Like Kubernetes, carry the Deployment's own annotations (e.g. kubernetes.io/change-cause) except kubectl's bookkeeping.
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
      if (k !== LAST_APPLIED && k !== REVISION && k !== REVISION_HISTORY) out[k] = v;
    }
    out[REVISION] = String(revision);
    out[DESIRED_REPLICAS] = String(replicas);
    out[MAX_REPLICAS] = String(replicas + surge);
    return out;
  }

  private async createNewReplicaSet(d: D, old: RS[], replicas: number, surge: number): Promise<RS | 'conflict'> {
    const ns = d.metadata.namespace;
    const collisionCount = d.status?.collisionCount ?? 0;
    const hash = templateHash(d.spec?.template, collisionCount);
    const template = clone(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const revision = Math.max(0, ...old.map(revisionOf)) + 1;
    const initial = d.spec?.strategy?.type === 'Recreate' ? 0 : this.newReplicas(d, undefined, old, replicas, surge);
    const rs: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: ns,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: this.rsAnnotations(d, revision, replicas, surge),
        ownerReferences: [newControllerRef(d)],
      },
      spec: {
        replicas: initial,
        minReadySeconds: d.spec?.minReadySeconds ?? 0,
        selector: {
          ...clone(d.spec?.selector ?? {}),
          matchLabels: { ...(d.spec?.selector?.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash },
        },
        template,
      },
    };
    try {
      const created = await this.client.create<RS>(REPLICASETS, ns, rs);
      await this.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${initial}`);
      await this.setRevisionAnnotation(d, revision);
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.client.find<RS>(REPLICASETS, ns, rs.metadata.name!);
      // Another reconciler made the same ReplicaSet: use it.
      if (existing && controllerRef(existing)?.uid === d.metadata.uid && equalIgnoreHash(existing.spec?.template, d.spec?.template)) return existing;
      // A different template has this hash: bump collisionCount so the next try names it differently.
      await this.client.updateStatus(DEPLOYMENTS, { ...d, status: { ...(d.status ?? {}), collisionCount: collisionCount + 1 } });
      return 'conflict';
    }
  }

  /** Records the revision on the Deployment as read (a conflict restarts the reconcile); keeps `d` current for later writes. */
  private async setRevisionAnnotation(d: D, revision: number): Promise<void> {
    if (d.metadata.annotations?.[REVISION] === String(revision)) return;
    const updated = await this.client.update<D>(DEPLOYMENTS, {
      ...d,
      metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: String(revision) } },
    });
    d.metadata = updated.metadata;
  }

  /** The new ReplicaSet carries the highest revision (a rollback to an old template makes it the newest again). */
  private async syncRevision(d: D, newRS: RS, old: RS[]): Promise<RS> {
    const maxOld = Math.max(0, ...old.map(revisionOf));
    const current = revisionOf(newRS);
    const replicas = d.spec?.replicas ?? 1;
    const { surge } = resolveFenceposts(d);
    const revision = current > maxOld ? current : maxOld + 1;
    const base = { ...(newRS.metadata.annotations ?? {}) };
    if (revision !== current && current > 0) {
      base[REVISION_HISTORY] = [base[REVISION_HISTORY], String(current)].filter((x) => x).join(',');
    }
    const annotations = this.rsAnnotations(d, revision, Number(newRS.metadata.annotations?.[DESIRED_REPLICAS] ?? replicas), surge, base);
    let rs = newRS;
    if (!deepEqual(annotations, newRS.metadata.annotations ?? {}) || (newRS.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
      rs = await this.client.update<RS>(REPLICASETS, {
        ...newRS,
        metadata: { ...newRS.metadata, annotations },
        spec: { ...newRS.spec, minReadySeconds: d.spec?.minReadySeconds ?? 0 },
      });
    }
    await this.setRevisionAnnotation(d, revision);
    return rs;
  }

  /**
   * Kubernetes' NewRSNewReplicas for RollingUpdate: grow the new ReplicaSet within the surge budget.
   * Unlike Kubernetes, an old ReplicaSet counts its pods as well as its spec: right after it is
   * scaled down its controller (another invocation in the cloud) may not have deleted the pods
   * yet, and counting only specs would let live pods exceed replicas + maxSurge for that moment.
   */
  private newReplicas(d: D, newRS: RS | undefined, old: RS[], replicas: number, surge: number): number {
    const current = newRS ? specReplicas(newRS) : 0;
    const total = sum(old, (rs) => Math.max(specReplicas(rs), rs.status?.replicas ?? 0)) + current;
    const maxTotal = replicas + surge;
    if (total >= maxTotal) return current;
    return current + Math.max(0, Math.min(maxTotal - total, replicas - current));
  }

  private async scaleRS(d: D, rs: RS, to: number): Promise<RS> {
    const from = specReplicas(rs);
    const replicas = d.spec?.replicas ?? 1;
    const { surge } = resolveFenceposts(d);
    const annotations = { ...(rs.metadata.annotations ?? {}), [DESIRED_REPLICAS]: String(replicas), [MAX_REPLICAS]: String(replicas + surge) };
    if (from === to && deepEqual(annotations, rs.metadata.annotations ?? {})) return rs;
    // Conditional on the ReplicaSet as read: a concurrent change fails this with 409 and the reconcile starts over.
    const updated = await this.client.update<RS>(REPLICASETS, { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, replicas: to } });
    if (from !== to) {
      await this.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`);
    }
    return updated;
  }

  /** Scales the new ReplicaSet up (or down to the target). Returns whether it changed. */
  private async rollNew(d: D, newRS: RS, old: RS[]): Promise<boolean> {
    const replicas = d.spec?.replicas ?? 1;
    const current = specReplicas(newRS);
    if (current === replicas) return false;
    const { surge } = resolveFenceposts(d);
    const target = current > replicas ? replicas : this.newReplicas(d, newRS, old, replicas, surge);
    if (target === current) return false;
    Object.assign(newRS, await this.scaleRS(d, newRS, target));
    return true;
  }

  /** Scales old ReplicaSets down as far as maxUnavailable allows (Kubernetes' reconcileOldReplicaSets). */
  private async rollOld(d: D, newRS: RS, old: RS[]): Promise<boolean> {
    const oldCount = sum(old, specReplicas);
    if (oldCount === 0) return false;
    const replicas = d.spec?.replicas ?? 1;
    const { unavailable } = resolveFenceposts(d);
    const minAvailable = replicas - unavailable;
    const allCount = oldCount + specReplicas(newRS);
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    let budget = allCount - minAvailable - newUnavailable;
    if (budget <= 0) return false;
    let changed = false;
    const sorted = [...old].sort(byCreation);
    // First take down old pods that are not available anyway: that costs no availability.
    for (const rs of sorted) {
      if (budget <= 0) break;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const down = Math.min(budget, unhealthy);
      Object.assign(rs, await this.scaleRS(d, rs, specReplicas(rs) - down));
      budget -= down;
      changed = true;
    }
    const available = sum([...old, newRS], (rs) => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs)));
    let total = Math.min(available - minAvailable, budget);
    for (const rs of sorted) {
      if (total <= 0) break;
      const down = Math.min(specReplicas(rs), total);
      if (down === 0) continue;
      Object.assign(rs, await this.scaleRS(d, rs, specReplicas(rs) - down));
      total -= down;
      changed = true;
    }
    return changed;
  }

  /** Recreate: old ReplicaSets to zero, wait until their pods are gone, then the new one to full size. Returns true while waiting. */
  private async recreate(d: D, newRS: RS, old: RS[]): Promise<boolean> {
    let scaledDown = false;
    for (const rs of old) {
      if (specReplicas(rs) > 0) {
        Object.assign(rs, await this.scaleRS(d, rs, 0));
        scaledDown = true;
      }
    }
    if (scaledDown) return true;
    const oldUids = new Set(old.map((rs) => rs.metadata.uid));
    const pods = (await this.client.listAll<Pod & KObject>(PODS, d.metadata.namespace)).items;
    const running = pods.some((p) => oldUids.has(controllerRef(p)?.uid) && (isActive(p) || !!p.metadata.deletionTimestamp));
    if (running) return true;
    const replicas = d.spec?.replicas ?? 1;
    if (specReplicas(newRS) !== replicas) Object.assign(newRS, await this.scaleRS(d, newRS, replicas));
    return false;
  }

  /** Spreads a replica-count change over the active ReplicaSets in proportion to their sizes (Kubernetes' scale()). */
  private async scaleProportionally(d: D, newRS: RS | undefined, old: RS[]): Promise<void> {
    const replicas = d.spec?.replicas ?? 1;
    const sets = [...(newRS ? [newRS] : []), ...old];
    const activeSets = sets.filter((rs) => specReplicas(rs) > 0);
    if (activeSets.length <= 1) {
      const target = activeSets[0] ?? newRS;
      if (target && specReplicas(target) !== replicas) Object.assign(target, await this.scaleRS(d, target, replicas));
      else if (target) Object.assign(target, await this.scaleRS(d, target, specReplicas(target)));
      return;
    }
    const { surge } = resolveFenceposts(d);
    const allowed = replicas + (d.spec?.strategy?.type === 'Recreate' ? 0 : surge);
    const current = sum(activeSets, specReplicas);
    const toAdd = allowed - current;
    if (toAdd === 0) {
      // As Kubernetes' scale(): sizes stay, but each set is re-annotated for the new replica count, else the next sync sees the same scaling event again.
      for (const rs of activeSets) Object.assign(rs, await this.scaleRS(d, rs, specReplicas(rs)));
      return;
    }
    // Larger ReplicaSets first on growth, smaller first on shrink; the first takes the rounding leftover.
    const ordered = [...activeSets].sort((a, b) => (toAdd > 0 ? specReplicas(b) - specReplicas(a) : specReplicas(a) - specReplicas(b)) || byCreation(b, a));
    const sizes = new Map<RS, number>();
    let added = 0;
    for (const rs of ordered) {
      // Each ReplicaSet's share of the new size, relative to the size it was last scaled for (its max-replicas annotation).
      const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? d.status?.replicas ?? current) || current;
      const fraction = Math.round((specReplicas(rs) * allowed) / Math.max(annotated, 1)) - specReplicas(rs);
      const bounded = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
      sizes.set(rs, specReplicas(rs) + bounded);
      added += bounded;
    }
    const first = ordered[0]!;
    sizes.set(first, (sizes.get(first) ?? 0) + (toAdd - added));
    for (const rs of ordered) Object.assign(rs, await this.scaleRS(d, rs, Math.max(0, sizes.get(rs) ?? specReplicas(rs))));
  }

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private async cleanup(d: D, old: RS[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const idle = old.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
    if (idle.length <= limit) return;
    const doomed = idle.sort((a, b) => revisionOf(a) - revisionOf(b)).slice(0, idle.length - limit);
    for (const rs of doomed) {
      try {
        await this.client.delete(REPLICASETS, rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid! } });
      } catch (err) {
        if (!(isNotFound(err) || isConflict(err))) throw err;
      }
    }
  }

  private async syncStatus(d: D, newRS: RS | undefined, old: RS[], flags: { paused?: boolean; createdNew?: boolean }): Promise<ReconcileResult | void> {
    const now = this.clock.now();
    const nowText = rfc3339(now);
    const sets = [...(newRS ? [newRS] : []), ...old];
    const replicas = d.spec?.replicas ?? 1;
    const { unavailable } = resolveFenceposts(d);
    const available = sum(sets, (rs) => rs.status?.availableReplicas ?? 0);
    const total = sum(sets, specReplicas);
    const status: NonNullable<Deployment['status']> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: sum(sets, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum(sets, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      ...(d.status?.collisionCount ? { collisionCount: d.status.collisionCount } : {}),
    };
    let conditions: Condition[] = [...(d.status?.conditions ?? [])];
    const minAvailable = available >= replicas - unavailable;
    conditions = setCondition(
      conditions,
      minAvailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      nowText,
    );
    const complete =
      !!newRS &&
      status.updatedReplicas === replicas &&
      status.replicas === replicas &&
      available === replicas &&
      (newRS.status?.observedGeneration ?? 0) >= (newRS.metadata.generation ?? 1);
    const progressing = conditions.find((c) => c.type === 'Progressing');
    const deadline = d.spec?.progressDeadlineSeconds;
    let requeueAfterMs: number | undefined;
    const rsName = newRS?.metadata.name ?? '';
    if (flags.paused) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, nowText);
    } else if (deadline !== undefined && deadline !== null) {
      const prev = d.status ?? {};
      const moved =
        flags.createdNew ||
        (status.updatedReplicas ?? 0) > (prev.updatedReplicas ?? 0) ||
        (status.availableReplicas ?? 0) > (prev.availableReplicas ?? 0) ||
        (status.readyReplicas ?? 0) > (prev.readyReplicas ?? 0) ||
        (status.replicas ?? 0) < (prev.replicas ?? 0) ||
        progressing?.reason === 'DeploymentPaused';
      if (complete) {
        conditions = setCondition(
          conditions,
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
          nowText,
        );
      } else if (flags.createdNew) {
        conditions = setCondition(
          conditions,
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` },
          nowText,
        );
      } else if (moved || !progressing) {
        const next: Condition = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` };
        conditions = [
          ...conditions.filter((c) => c.type !== 'Progressing'),
          { ...next, lastUpdateTime: nowText, lastTransitionTime: progressing?.status === 'True' ? (progressing.lastTransitionTime ?? nowText) : nowText },
        ];
      } else if (progressing.reason !== 'ProgressDeadlineExceeded') {
        const since = Date.parse(progressing.lastUpdateTime ?? nowText);
        const left = since + deadline * 1000 - now;
        if (left <= 0) {
          conditions = setCondition(
            conditions,
            { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` },
            nowText,
          );
          await this.recorder.record(d, 'Warning', 'ProgressDeadlineExceeded', `Deployment "${d.metadata.name}" has timed out progressing.`);
        } else requeueAfterMs = left + 10;
      }
    }
    const failure = newRS?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    if (failure) conditions.push(failure);
    status.conditions = conditions.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : a.type.localeCompare(b.type)));
    // Conditional on the Deployment as read: if its spec moved on meanwhile, this status is stale and the 409 restarts the reconcile.
    if (!deepEqual(status, d.status)) await this.client.updateStatus(DEPLOYMENTS, { ...d, status });
    if (!complete && !flags.paused && requeueAfterMs === undefined && deadline) requeueAfterMs = deadline * 1000;
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }
}
