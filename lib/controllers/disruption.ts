/**
 * The disruption controller (kube's pkg/controller/disruption): keeps each
 * PodDisruptionBudget's status, which the eviction subresource reads and
 * decrements. For a budget's pods (its selector in its namespace):
 *
 * - expectedPods: with minAvailable a count, the pods found; otherwise the
 *   sum of the scales of their controllers, read as kube's finders do (a
 *   Deployment's through its ReplicaSet, any other owner through its scale
 *   subresource, so StatefulSets and custom resources count once served);
 * - desiredHealthy: minAvailable, or expectedPods less maxUnavailable
 *   (percentages rounded up against expectedPods);
 * - currentHealthy: Ready pods not being deleted and not in disruptedPods;
 * - disruptionsAllowed: currentHealthy less desiredHealthy, never below 0,
 *   0 without expected pods;
 * - disruptedPods: the evictions the API server let go, kept until the pod
 *   is deleted or DELETION_TIMEOUT_MS has passed (the budget is requeued
 *   then);
 * - the DisruptionAllowed condition, and on a failure to compute (a pod
 *   whose controller has no scale) the fail-safe: no disruption allowed,
 *   reason SyncFailed.
 */
import type { Deployment } from '../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../api/apps/v1/replicaset.js';
import type { Pod } from '../api/core/v1/pod.js';
import { isConflict, isNotFound, StatusError } from '../api/errors.js';
import { fromLabelSelector, matches } from '../api/labels.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import type { KObject } from '../api/object.js';
import {
  DELETION_TIMEOUT_MS,
  DISRUPTION_ALLOWED_CONDITION,
  SYNC_FAILED_REASON,
  setStatusCondition,
  withDisruptionAllowedCondition,
} from '../api/policy/v1/disruption.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from '../api/policy/v1/poddisruptionbudget.js';
import type { ResourceRegistry, ResourceType } from '../api/registry.js';
import { storeResource } from '../api/store-key.js';
import { resourcePath, type KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { allKeys, CONFLICT_RETRY_MS, selfWatch, splitKey } from '../controller-runtime/reconciler.js';
import type { Reconciler, ReconcileResult, SharedCache, Watch } from '../controller-runtime/reconciler.js';
import { DEPLOYMENTS, POD_DISRUPTION_BUDGETS, PODS, REPLICASETS } from '../kinds/resources.js';
import { labelSelectorText } from '../printers/selector.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { OwnerIndex } from './owner-index.js';
import { isPodReady } from './pod-util.js';

type PDB = PodDisruptionBudget & KObject;
type P = Pod & KObject;

/** How soon a budget whose status could not be computed is tried again. */
const FAILED_SYNC_RETRY_MS = 5_000;

/** A pod's controller and its scale (kube's controllerAndScale). */
interface ControllerScale {
  uid: string;
  scale: number;
}

/** Why a budget's expected pods cannot be counted: its status becomes the fail-safe. */
class ExpectedScaleError extends Error {
  override name = 'ExpectedScaleError';
}

/**
 * intstr.GetScaledValueFromIntOrPercent with roundUp: a count as is, a
 * percentage of `total` rounded up.
 */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new ExpectedScaleError(`invalid value for IntOrString: invalid value "${v}": must be an integer or percentage`);
  return Math.ceil((Number(m[1]) * total) / 100);
}

export class DisruptionController implements Reconciler {
  readonly name = 'disruption';
  readonly watches: Watch[];
  readonly caches: SharedCache[];

  /** `kinds` resolves a pod's controller to its resource (custom resources included) for its scale subresource. */
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    private readonly kinds: ResourceRegistry,
    private readonly clock: Clock = systemClock,
    private readonly index?: OwnerIndex,
  ) {
    this.caches = index ? [index] : [];
    this.watches = [selfWatch(storeResource(POD_DISRUPTION_BUDGETS)), { resource: storeResource(PODS), keys: (e) => this.budgetsOf(e.object, e.prev) }];
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, POD_DISRUPTION_BUDGETS);
  }

  /** The budgets selecting a pod before or after its change (kube's getPdbForPod, every match queued). */
  private async budgetsOf(pod: KObject, prev: KObject | undefined): Promise<string[]> {
    const ns = pod.metadata.namespace;
    const key = storeResource(POD_DISRUPTION_BUDGETS);
    let budgets: PDB[];
    if (this.index) {
      // Loaded once per stream batch (or followed locally) rather than listed for every pod change.
      await this.index.ensure(key);
      budgets = [...this.index.objects(key)].filter((b) => b.metadata.namespace === ns) as PDB[];
    } else budgets = (await this.client.list<PDB>(POD_DISRUPTION_BUDGETS, ns)).items;
    return budgets
      .filter((b) => {
        const selector = b.spec?.selector;
        if (!selector) return false;
        try {
          const reqs = fromLabelSelector(selector);
          return matches(reqs, pod.metadata.labels) || (prev !== undefined && matches(reqs, prev.metadata.labels));
        } catch {
          return false;
        }
      })
      .map((b) => `${ns}/${b.metadata.name}`);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const pdb = await this.client.find<PDB>(POD_DISRUPTION_BUDGETS, namespace, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const now = this.clock.now();
    let status: PodDisruptionBudgetStatus;
    let recheckAt: number | undefined;
    try {
      ({ status, recheckAt } = await this.compute(pdb, now));
    } catch (err) {
      if (!(err instanceof ExpectedScaleError) && !(err instanceof StatusError)) throw err;
      await this.recorder.record(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${err.message}`);
      // failSafe: no disruption until the budget can be computed again.
      status = {
        ...(pdb.status ?? {}),
        disruptionsAllowed: 0,
        conditions: setStatusCondition(
          pdb.status?.conditions,
          {
            type: DISRUPTION_ALLOWED_CONDITION,
            status: 'False',
            reason: SYNC_FAILED_REASON,
            message: err.message,
            observedGeneration: pdb.status?.observedGeneration ?? 0,
          },
          rfc3339(now),
        ),
      };
      recheckAt = now + FAILED_SYNC_RETRY_MS;
    }
    if (!deepEqual(status, pdb.status)) {
      try {
        await this.client.updateStatus(POD_DISRUPTION_BUDGETS, { ...pdb, status } as KObject);
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        if (!isNotFound(err)) throw err;
        return;
      }
    }
    return recheckAt === undefined ? undefined : { requeueAfterMs: Math.max(recheckAt - now, 0) + 10 };
  }

  /** The budget's status from its pods now; `recheckAt` is when an entry of disruptedPods expires. */
  private async compute(pdb: PDB, now: number): Promise<{ status: PodDisruptionBudgetStatus; recheckAt?: number }> {
    const selector = pdb.spec?.selector;
    // A missing selector selects nothing (LabelSelectorAsSelector(nil)); an empty one, every pod of the namespace.
    const pods = selector ? (await this.client.listAll<P>(PODS, pdb.metadata.namespace, { labelSelector: labelSelectorText(selector) })).items : [];
    if (pods.length === 0) await this.recorder.record(pdb, 'Normal', 'NoPods', 'No matching pods found');

    const { expected, desired, unmanaged } = await this.expectedPodCount(pdb, pods);
    if (unmanaged.length > 0) {
      await this.recorder.record(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${labelSelectorText(selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }

    // buildDisruptedPodMap: an eviction stays recorded until its pod is being deleted or its time is up.
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = pdb.status?.disruptedPods?.[pod.metadata.name!];
      if (at === undefined) continue;
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (expires < now) {
        await this.recorder.record(
          pod,
          'Warning',
          'NotDeleted',
          `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`,
        );
        continue;
      }
      disrupted[pod.metadata.name!] = at;
      recheckAt = Math.min(recheckAt ?? expires, expires);
    }
    const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && disrupted[p.metadata.name!] === undefined && isPodReady(p)).length;
    const allowed = expected <= 0 ? 0 : Math.max(healthy - desired, 0);
    const status: PodDisruptionBudgetStatus = {
      ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed: allowed,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      observedGeneration: pdb.metadata.generation ?? 1,
      ...(pdb.status?.conditions ? { conditions: pdb.status.conditions } : {}),
    };
    return { status: withDisruptionAllowedCondition(status, rfc3339(now)), ...(recheckAt !== undefined ? { recheckAt } : {}) };
  }

  /** getExpectedPodCount. */
  private async expectedPodCount(pdb: PDB, pods: P[]): Promise<{ expected: number; desired: number; unmanaged: string[] }> {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const { expected, unmanaged } = await this.expectedScale(pods);
      return { expected, desired: Math.max(expected - scaledValue(maxUnavailable, expected), 0), unmanaged };
    }
    if (typeof minAvailable === 'number') return { expected: pods.length, desired: minAvailable, unmanaged: [] };
    if (typeof minAvailable === 'string') {
      const { expected, unmanaged } = await this.expectedScale(pods);
      return { expected, desired: scaledValue(minAvailable, expected), unmanaged };
    }
    return { expected: 0, desired: 0, unmanaged: [] };
  }

  /** getExpectedScale: the sum of the scales of the pods' controllers, each counted once; pods without one are unmanaged. */
  private async expectedScale(pods: P[]): Promise<{ expected: number; unmanaged: string[] }> {
    const scales = new Map<string, number>();
    const seen = new Set<string>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerRef(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name!);
        continue;
      }
      if (seen.has(ref.uid)) continue;
      seen.add(ref.uid);
      const found = await this.controllerScale(ref, pod.metadata.namespace!);
      if (!found) throw new ExpectedScaleError(`found no controllers for pod ${JSON.stringify(pod.metadata.name)}`);
      scales.set(found.uid, found.scale);
    }
    return { expected: [...scales.values()].reduce((a, b) => a + b, 0), unmanaged };
  }

  /**
   * kube's finders, in their order: a ReplicaSet a Deployment controls
   * counts as its Deployment (getPodDeployment); any other controller by its
   * scale subresource (getScaleController, which covers ReplicaSets,
   * ReplicationControllers, StatefulSets and custom resources). Undefined
   * when the controller is gone or is another object by now (its uid).
   */
  private async controllerScale(ref: { apiVersion: string; kind: string; name: string; uid: string }, namespace: string): Promise<ControllerScale | undefined> {
    if (ref.apiVersion === 'apps/v1' && ref.kind === 'ReplicaSet') {
      const rs = await this.client.find<ReplicaSet & KObject>(REPLICASETS, namespace, ref.name);
      if (!rs || rs.metadata.uid !== ref.uid) return undefined;
      const owner = controllerRef(rs);
      if (owner?.kind === 'Deployment') {
        const d = await this.client.find<Deployment & KObject>(DEPLOYMENTS, namespace, owner.name);
        return d && d.metadata.uid === owner.uid ? { uid: d.metadata.uid, scale: d.spec?.replicas ?? 1 } : undefined;
      }
    }
    const rt: ResourceType | undefined = this.kinds.lookupKind(ref.apiVersion, ref.kind);
    // A kind not served has no controller to find (kube: no REST mapping); a served one without scale is an error, in kube's words.
    if (!rt) return undefined;
    if (!rt.subresources.includes('scale')) {
      throw new ExpectedScaleError(`${rt.group ? `${rt.resource}.${rt.group}` : rt.resource} does not implement the scale subresource`);
    }
    let scale: { metadata?: { uid?: string }; spec?: { replicas?: number } };
    try {
      scale = await this.client.call({ method: 'GET', path: resourcePath(rt, namespace, ref.name, 'scale') });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return scale.metadata?.uid === ref.uid ? { uid: ref.uid, scale: scale.spec?.replicas ?? 0 } : undefined;
  }
}
