/**
 * The DaemonSet controller, after kube's pkg/controller/daemon: one pod on
 * every node the template may run on (nodeSelector, required node affinity,
 * taints against the template's tolerations and the daemon tolerations),
 * created pinned to its node by node affinity so the scheduler binds it;
 * pods on nodes that no longer qualify deleted; failed pods replaced with
 * backoff; RollingUpdate (maxUnavailable, or maxSurge: the new pod first, the
 * old one deleted once the new one is available) and OnDelete; the history
 * as ControllerRevisions (lib/controllers/history.ts) so that `kubectl
 * rollout history|undo` work; status as kube counts it.
 *
 * Invariants, for reconcilers that may run concurrently (parallel stream
 * batches in the cloud) from views that may lag: a pod's name is derived from
 * its node, its revision and its failure count, so two reconcilers creating
 * "the" pod for a node create the same one (AlreadyExists is success); the
 * old pods a rolling update replaces are chosen in node-name order, so two
 * reconcilers reading the same state delete the same ones. Kube keeps
 * in-memory expectations and random names instead; it has one leader.
 */
import type { DaemonSet } from '../api/apps/v1/daemonset.js';
import type { Node } from '../api/core/v1/node.js';
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import { isAlreadyExists, isConflict, isNotFound, StatusError } from '../api/errors.js';
import { fromLabelSelector } from '../api/labels.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import { valueHash } from '../api/names.js';
import type { KObject } from '../api/object.js';
import { storeResource } from '../api/store-key.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import {
  allKeys,
  CONFLICT_RETRY_MS,
  OWNER_COALESCE_MS,
  ownerWatch,
  selfWatch,
  splitKey,
  type ChangeEvent,
  type Reconciler,
  type ReconcileResult,
  type SharedCache,
  type Watch,
} from '../controller-runtime/reconciler.js';
import { DAEMONSETS, NODES, PODS } from '../kinds/resources.js';
import { templateGeneration } from '../kinds/strategies/daemonset.js';
import { type Clock, systemClock } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import {
  nodeShouldRunDaemonPod,
  pinToNode,
  POD_TEMPLATE_GENERATION_LABEL,
  surgeAndUnavailable,
  targetNode,
  withDaemonTolerations,
  type NodeVerdict,
} from './daemon-util.js';
import {
  createRevision,
  newRevision,
  nextRevisionNumber,
  ownedRevisions,
  POD_REVISION_LABEL,
  renumberRevision,
  REVISION_HASH_LABEL,
  templatePatch,
  truncateHistory,
  type Revision,
} from './history.js';
import type { OwnerIndex } from './owner-index.js';
import { claimPods } from './pod-claims.js';
import { isPodAvailable, isPodReady, isTerminal, msUntilAvailable } from './pod-util.js';
import { podFromTemplate, podsOf, slowStart } from './podset.js';

type DS = DaemonSet & KObject;
type P = Pod & KObject;

/**
 * How many times in a row a node's daemon pod has failed, carried by its
 * replacement: the backoff before the next failed one is replaced doubles
 * with it (kube keeps this per node in memory; kumo's reconcilers keep no
 * state between runs).
 */
export const DAEMON_POD_FAILURES_ANNOTATION = 'kumo.io/daemon-pod-failures';
const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 15 * 60_000;

/** What one pass decides: pods to create (one per node) and pods to delete. */
interface Plan {
  create: { node: string; failures: number }[];
  remove: P[];
  /** Failed pods found (an event each, as kube's FailedDaemonPod). */
  failed: { pod: P; node: string }[];
  /** Reconcile again after this long (a failed pod's backoff). */
  requeueAfterMs?: number;
}

function failuresOf(pod: Pod): number {
  const n = Number(pod.metadata.annotations?.[DAEMON_POD_FAILURES_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** When a pod failed: its last container's finish, else its Ready condition's last change, else its creation. */
function failedAt(pod: Pod): number {
  const finished = (pod.status?.containerStatuses ?? []).map((c) => Date.parse(c.state?.terminated?.finishedAt ?? '')).filter((t) => Number.isFinite(t));
  if (finished.length > 0) return Math.max(...finished);
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready')?.lastTransitionTime;
  return Date.parse(ready ?? pod.metadata.creationTimestamp ?? '') || 0;
}

/** Oldest first, pending before running at equal times (kube's podByCreationTimestampAndPhase). */
function oldestFirst(a: Pod, b: Pod): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const running = (p: Pod) => Number(p.status?.phase === 'Running');
  return running(b) - running(a) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** kube's IsPodUpdated: the pod carries the current revision's hash or the current template generation. */
function isUpdated(pod: Pod, hash: string, generation: number): boolean {
  const labels = pod.metadata.labels ?? {};
  return labels[POD_REVISION_LABEL] === hash || labels[POD_TEMPLATE_GENERATION_LABEL] === String(generation);
}

/**
 * kube's findUpdatedPodsOnNode over a node's live pods: at most one new and
 * one old; undefined when there are more (the manage pass cleans up first).
 */
function splitOnNode(pods: readonly P[], hash: string, generation: number): { newPod?: P; oldPod?: P } | undefined {
  let newPod: P | undefined;
  let oldPod: P | undefined;
  for (const pod of pods) {
    if (isUpdated(pod, hash, generation)) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

export class DaemonSetController implements Reconciler {
  readonly name = 'daemonset';
  /** Each of its pods' changes queues it: one reconcile per 100 ms at most, which reads them all. */
  readonly coalesceMs = OWNER_COALESCE_MS;
  readonly watches: Watch[] = [selfWatch(storeResource(DAEMONSETS)), ownerWatch(storeResource(PODS), 'DaemonSet'), nodeWatch(() => this.client)];
  readonly caches: SharedCache[];
  private readonly clock: Clock;
  private readonly index: OwnerIndex | undefined;

  /** With `index`, pods are read from it instead of listing the namespace on every reconcile. */
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: Recorder,
    opts: { clock?: Clock; index?: OwnerIndex } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.index = opts.index;
    this.caches = opts.index ? [opts.index] : [];
  }

  async listKeys(): Promise<string[]> {
    return allKeys(this.client, DAEMONSETS);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const ds = await this.client.find<DS>(DAEMONSETS, namespace, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const selector = fromLabelSelector(ds.spec?.selector);
    const [nodes, view] = await Promise.all([this.client.listAll<Node & KObject>(NODES, undefined), podsOf(this.client, this.index, ds)]);
    const pods = (await claimPods({ client: this.client, owner: ds, ownerType: DAEMONSETS, selector, pods: view.pods })) as P[];
    const revs = await ownedRevisions(this.client, ds, selector);
    const current = await this.currentRevision(ds, revs);
    if (current === 'conflict') return { requeueAfterMs: CONFLICT_RETRY_MS };
    const { revision: cur, collisionCount } = current;
    const hash = cur.metadata.labels?.[POD_REVISION_LABEL] ?? '';
    const generation = templateGeneration(ds);
    const now = this.clock.now();

    const verdicts = new Map<string, NodeVerdict>(nodes.items.map((n) => [n.metadata.name ?? '', nodeShouldRunDaemonPod(ds.spec?.template, n)]));
    const byNode = new Map<string, P[]>();
    const orphaned: P[] = [];
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const node = targetNode(pod);
      if (node !== undefined && verdicts.has(node)) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
      else if (!pod.spec?.nodeName) orphaned.push(pod);
    }

    let plan = this.manage(ds, verdicts, byNode, hash, now);
    // Pods pinned to a node that no longer exists never schedule (kube's getUnscheduledPodsWithoutNode).
    plan.remove.push(...orphaned);
    const managed = plan.create.length > 0 || plan.remove.length > 0;
    if (!managed && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      plan = { ...this.rollingUpdate(ds, verdicts, byNode, hash, generation, now), ...(plan.requeueAfterMs ? { requeueAfterMs: plan.requeueAfterMs } : {}) };
    }
    const createError = await this.execute(ds, plan, hash, generation);

    const live = new Set(
      revs
        .filter((r) => pods.some((p) => p.metadata.labels?.[POD_REVISION_LABEL] === r.metadata.labels?.[POD_REVISION_LABEL]))
        .map((r) => r.metadata.name ?? ''),
    );
    live.add(cur.metadata.name ?? '');
    await truncateHistory(this.client, revs, live, ds.spec?.revisionHistoryLimit ?? 10);

    const status = daemonSetStatus(ds, verdicts, byNode, hash, generation, collisionCount, now);
    if (!deepEqual(status, ds.status)) {
      try {
        await this.client.updateStatus(DAEMONSETS, { ...ds, status } as KObject);
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: CONFLICT_RETRY_MS };
        if (!isNotFound(err)) throw err;
      }
    }
    if (createError) return { requeueAfterMs: 5_000 };
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const waits = [...byNode.values()]
      .flat()
      .map((p) => msUntilAvailable(p, minReady, now))
      .filter((x): x is number => x !== undefined);
    if (plan.requeueAfterMs !== undefined) waits.push(plan.requeueAfterMs);
    return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) + 10 } : undefined;
  }

  /**
   * The revision of the DaemonSet's template (kube's constructHistory): the
   * existing one with the same data, renumbered to be the newest when it is
   * not (a rollback), else a new one numbered after the newest.
   */
  private async currentRevision(ds: DS, revs: Revision[]): Promise<{ revision: Revision; collisionCount: number } | 'conflict'> {
    const data = templatePatch(ds.spec?.template);
    const collisionCount = ds.status?.collisionCount ?? 0;
    const matching = revs.filter((r) => deepEqual(r.data, data)).sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
    const others = revs.filter((r) => !matching.includes(r));
    const next = nextRevisionNumber(others);
    try {
      if (matching[0]) {
        const revision = (matching[0].revision ?? 0) < next ? await renumberRevision(this.client, matching[0], next) : matching[0];
        return { revision, collisionCount };
      }
      const rev = newRevision(ds, ds.spec?.template?.metadata?.labels, data, next, collisionCount);
      const hash = rev.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
      // A DaemonSet's revisions also carry the pods' hash label and the DaemonSet's annotations (kube's snapshot), so change-cause shows in rollout history.
      rev.metadata.labels = { ...rev.metadata.labels, [POD_REVISION_LABEL]: hash };
      if (ds.metadata.annotations) rev.metadata.annotations = { ...ds.metadata.annotations };
      return await createRevision(this.client, ds, rev, collisionCount);
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return 'conflict';
      throw err;
    }
  }

  /** kube's manage/podsShouldBeOnNode: pods created where missing, deleted where not wanted, failed ones replaced after their backoff, extras removed. */
  private manage(ds: DS, verdicts: Map<string, NodeVerdict>, byNode: Map<string, P[]>, hash: string, now: number): Plan {
    const plan: Plan = { create: [], remove: [], failed: [] };
    const surge = surgeAndUnavailable(ds.spec?.updateStrategy?.rollingUpdate, 1).maxSurge > 0 && ds.spec?.updateStrategy?.type !== 'OnDelete';
    for (const [node, verdict] of [...verdicts].sort(([a], [b]) => a.localeCompare(b))) {
      const pods = byNode.get(node) ?? [];
      if (verdict.shouldRun && pods.length === 0) {
        plan.create.push({ node, failures: 0 });
        continue;
      }
      if (!verdict.shouldContinueRunning) {
        plan.remove.push(...pods);
        continue;
      }
      const running: P[] = [];
      let replaceFailed: number | undefined;
      for (const pod of pods) {
        if (pod.status?.phase === 'Failed') {
          const failures = failuresOf(pod);
          const backoff = failures === 0 ? 0 : Math.min(BACKOFF_INITIAL_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
          const wait = failedAt(pod) + backoff - now;
          if (wait > 0) {
            plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, wait);
            running.push(pod); // holds the node until its backoff is over
            continue;
          }
          plan.failed.push({ pod, node });
          plan.remove.push(pod);
          replaceFailed = Math.max(replaceFailed ?? 0, failures + 1);
        } else if (pod.status?.phase === 'Succeeded') {
          plan.remove.push(pod);
        } else {
          running.push(pod);
        }
      }
      if (verdict.shouldRun && running.length === 0) plan.create.push({ node, failures: replaceFailed ?? 0 });
      if (running.length > 1) {
        const sorted = [...running].sort(oldestFirst);
        if (!surge) plan.remove.push(...sorted.slice(1));
        else {
          // With surge, one old and one new pod may share a node; any more go.
          let keptNew = false;
          let keptOld = false;
          for (const pod of sorted) {
            const isNew = pod.metadata.labels?.[POD_REVISION_LABEL] === hash;
            if (isNew && !keptNew) keptNew = true;
            else if (!isNew && !keptOld) keptOld = true;
            else plan.remove.push(pod);
          }
        }
      }
    }
    return plan;
  }

  /** kube's rollingUpdate: old pods replaced within maxUnavailable, or surged within maxSurge, nodes taken in name order. */
  private rollingUpdate(ds: DS, verdicts: Map<string, NodeVerdict>, byNode: Map<string, P[]>, hash: string, generation: number, now: number): Plan {
    const plan: Plan = { create: [], remove: [], failed: [] };
    const desired = [...verdicts.values()].filter((v) => v.shouldRun).length;
    const { maxSurge, maxUnavailable } = surgeAndUnavailable(ds.spec?.updateStrategy?.rollingUpdate, desired);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const available = (p: P) => isPodAvailable(p, minReady, now);
    const nodes = [...byNode.keys()].sort();
    const split = nodes.map((node) => ({
      node,
      pods: splitOnNode(
        byNode.get(node)!.filter((p) => !isTerminal(p)),
        hash,
        generation,
      ),
    }));

    if (maxSurge === 0) {
      let unavailable = 0;
      const replace: P[] = [];
      const candidates: P[] = [];
      for (const { pods } of split) {
        if (!pods || (pods.newPod && pods.oldPod) || (!pods.newPod && !pods.oldPod)) unavailable++;
        else if (pods.newPod) {
          if (!available(pods.newPod)) unavailable++;
        } else if (!available(pods.oldPod!)) replace.push(pods.oldPod!);
        else candidates.push(pods.oldPod!);
      }
      const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
      plan.remove.push(...replace, ...candidates.slice(0, room));
      return plan;
    }

    let surging = 0;
    for (const { pods } of split) if (pods?.newPod && pods.oldPod && !available(pods.newPod)) surging++;
    for (const { node, pods } of split) {
      if (!pods?.oldPod) continue;
      if (pods.newPod) {
        if (available(pods.newPod)) plan.remove.push(pods.oldPod);
        continue;
      }
      if (!available(pods.oldPod)) {
        if (!verdicts.get(node)?.shouldRun) plan.remove.push(pods.oldPod);
        else plan.create.push({ node, failures: 0 });
      } else if (surging < maxSurge) {
        surging++;
        plan.create.push({ node, failures: 0 });
      }
    }
    return plan;
  }

  /** kube's syncNodes: deletes, then creates (slow start, stopping at the first failure), each with its event. Returns the create error, if any. */
  private async execute(ds: DS, plan: Plan, hash: string, generation: number): Promise<StatusError | undefined> {
    const ns = ds.metadata.namespace;
    for (const { pod, node } of plan.failed) {
      await this.recorder.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${pod.metadata.name} on node ${node}, will try to kill it`);
    }
    // Deletions first: an old pod whose surged replacement is available goes before the next surge pod comes.
    await Promise.all(
      plan.remove.map(async (pod) => {
        try {
          await this.client.delete(PODS, ns, pod.metadata.name ?? '', { preconditions: { uid: pod.metadata.uid ?? '' } });
          await this.recorder.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (err) {
          if (!(isNotFound(err) || isConflict(err))) throw err;
        }
      }),
    );
    const template = podTemplate(ds, hash, generation);
    let createError: StatusError | undefined;
    const failure = await slowStart(plan.create, async ({ node, failures }) => {
      const created = await this.createPod(ds, template, node, failures);
      if (created) await this.recorder.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created}`);
    });
    if (failure) {
      createError = failure instanceof StatusError ? failure : StatusError.internal(String((failure as Error).message ?? failure));
      await this.recorder.record(ds, 'Warning', 'FailedCreate', `Error creating: ${createError.message}`);
    }
    return createError;
  }

  /**
   * Creates the node's pod under the name its node, revision and failure
   * count hash to; a name held by another pod takes the next collision
   * count. Returns the name created, or undefined when the pod was already
   * there (another reconciler made it).
   */
  private async createPod(ds: DS, template: PodTemplateSpec, node: string, failures: number): Promise<string | undefined> {
    const hash = template.metadata?.labels?.[POD_REVISION_LABEL] ?? '';
    const pod = podFromTemplate(ds, template, '') as P;
    pod.spec = { ...pod.spec, affinity: pinToNode(pod.spec?.affinity, node) };
    if (failures > 0) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [DAEMON_POD_FAILURES_ANNOTATION]: String(failures) };
    for (let collision = 0; collision < 10; collision++) {
      const name = `${ds.metadata.name}-${valueHash([node, hash, failures], collision).slice(0, 5)}`;
      pod.metadata.name = name;
      try {
        await this.client.create(PODS, ds.metadata.namespace, pod);
        return name;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.client.find<P>(PODS, ds.metadata.namespace, name);
        if (existing && controllerRef(existing)?.uid === ds.metadata.uid && targetNode(existing) === node) return undefined;
      }
    }
    throw StatusError.internal(`no free pod name for node ${node}`);
  }
}

/** The pods' template (kube's CreatePodTemplate): the revision hash and template generation labels, the daemon tolerations. */
function podTemplate(ds: DS, hash: string, generation: number): PodTemplateSpec {
  const t = ds.spec?.template ?? {};
  return {
    metadata: {
      ...(t.metadata ?? {}),
      labels: { ...(t.metadata?.labels ?? {}), [POD_TEMPLATE_GENERATION_LABEL]: String(generation), [POD_REVISION_LABEL]: hash },
    },
    spec: withDaemonTolerations(t.spec ?? {}),
  };
}

/** kube's updateDaemonSetStatus: each node's oldest live pod counts. */
export function daemonSetStatus(
  ds: DS,
  verdicts: ReadonlyMap<string, NodeVerdict>,
  byNode: ReadonlyMap<string, P[]>,
  hash: string,
  generation: number,
  collisionCount: number,
  now: number,
): NonNullable<DaemonSet['status']> {
  let desired = 0;
  let current = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let misscheduled = 0;
  for (const [node, verdict] of verdicts) {
    const pods = (byNode.get(node) ?? []).filter((p) => !isTerminal(p)).sort(oldestFirst);
    if (!verdict.shouldRun) {
      if (pods.length > 0) misscheduled++;
      continue;
    }
    desired++;
    const pod = pods[0];
    if (!pod) continue;
    current++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, ds.spec?.minReadySeconds ?? 0, now)) available++;
    }
    if (isUpdated(pod, hash, generation)) updated++;
  }
  return {
    ...(ds.status?.conditions ? { conditions: ds.status.conditions } : {}),
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata.generation ?? 1,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    ...(desired - available > 0 ? { numberUnavailable: desired - available } : {}),
    ...(collisionCount > 0 ? { collisionCount } : {}),
  };
}

/** What about a node a DaemonSet decides on: its labels, taints, and whether it exists. */
function schedulingView(node: KObject | undefined): unknown {
  const n = node as (Node & KObject) | undefined;
  return n ? [n.metadata.labels ?? {}, n.spec?.taints ?? [], n.metadata.name] : undefined;
}

/** A node added, removed, relabelled or retainted queues every DaemonSet (kube's addNode/updateNode/deleteNode, without the per-set filter). */
function nodeWatch(client: () => KubeClient): Watch {
  return {
    resource: storeResource(NODES),
    async keys(e: ChangeEvent) {
      if (e.type === 'MODIFIED' && e.prev && deepEqual(schedulingView(e.object), schedulingView(e.prev))) return [];
      return allKeys(client(), DAEMONSETS);
    },
  };
}
