/**
 * The node pool autoscaler (after cluster-autoscaler, for one Auto Scaling
 * group), one reconciler with one key:
 *
 * - **Grow.** Pods the scheduler marked Unschedulable for at least
 *   `scaleUpDelayMs` are packed onto copies of a group node
 *   (scale-up-plan.ts), nodes already launching counted first; the group's
 *   desired capacity is raised by the nodes still missing, never past its
 *   max. Events say why: `ScaledUpGroup` on the status ConfigMap,
 *   `TriggeredScaleUp` on the pods, `NotTriggerScaleUp` when the group is at
 *   its max or a pod would not fit a new node either.
 * - **Shrink.** A group node empty of pods a drain would move (DaemonSet and
 *   mirror pods do not count) for `scaleDownUnneededMs` is marked for
 *   removal (ANNOTATION_SCALE_DOWN); the drain controller cordons it and
 *   terminates its instance with the desired capacity lowered. Never below
 *   the group's min, never while pods wait to be scheduled. How long a node
 *   has been empty is kept on the node (ANNOTATION_UNNEEDED_SINCE), so the
 *   count survives the process (a Lambda invocation).
 *
 * At most one scale-up and one scale-down decision per `intervalMs`: the
 * time of the last of each is kept in the ConfigMap kube-system/
 * kumo-nodepool-status and claimed with a compare-and-swap before the group
 * is touched, so controllers running at once (parallel Lambda invocations)
 * cannot both decide.
 */
import type { Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { CONFIGMAPS, NODES, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { SCHEDULER_NAME } from '../scheduler/scheduler.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { ANNOTATION_SCALE_DOWN } from './drain.js';
import { type CloudFleet, type GroupInfo, instanceGone } from './fleet.js';
import { isCordoned, isTerminal, mustMove } from './node-drain.js';
import { parseProviderId } from './node-facts.js';
import { planScaleUp } from './scale-up-plan.js';

export const STATUS_NAMESPACE = 'kube-system';
export const STATUS_CONFIGMAP = 'kumo-nodepool-status';
/** On a group node: since when (RFC 3339) it has been empty. */
export const ANNOTATION_UNNEEDED_SINCE = 'autoscaling.kumo.io/unneeded-since';
/** The reconciler's one key. */
export const NODEPOOL_KEY = 'nodepool';
/** How many pods get a TriggeredScaleUp / NotTriggerScaleUp Event per decision. */
const MAX_POD_EVENTS = 50;

export interface NodePoolAutoscalerOptions {
  /** Pods must have been Unschedulable this long before they grow the group. @default 10 s */
  scaleUpDelayMs?: number;
  /** A node must have been empty this long before it is removed. @default 10 minutes */
  scaleDownUnneededMs?: number;
  /** At most one scale-up and one scale-down decision per interval. @default 60 s */
  intervalMs?: number;
  /** A launched instance whose node is not Ready after this long no longer counts as coming. @default 15 minutes */
  provisionTimeoutMs?: number;
  /** How often the group is looked at without a change on the feed. @default 30 s */
  pollMs?: number;
}

type N = Node & KObject;
type P = Pod & KObject;

interface StatusMap {
  lastScaleUpTime?: string;
  lastScaleDownTime?: string;
  status?: string;
}

function isReady(node: N): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** When the scheduler last found the pod fitting nowhere, or undefined if it has not (yet). */
function unschedulableSince(pod: P): number | undefined {
  if (pod.spec?.nodeName || pod.metadata.deletionTimestamp || isTerminal(pod)) return undefined;
  if ((pod.spec?.schedulerName ?? SCHEDULER_NAME) !== SCHEDULER_NAME) return undefined;
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'PodScheduled');
  if (c?.status !== 'False' || c.reason !== 'Unschedulable') return undefined;
  return Date.parse(c.lastTransitionTime ?? '') || Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}

/** Whether a pod change can change a decision: a pod turning Unschedulable, or a node gaining or losing a pod. */
function podMatters(e: { type: string; object: KObject; prev?: KObject | undefined }): boolean {
  const pod = e.object as P;
  const prev = e.prev as P | undefined;
  const waitingNow = e.type !== 'DELETED' && unschedulableSince(pod) !== undefined;
  const waitingBefore = prev !== undefined && unschedulableSince(prev) !== undefined;
  if (waitingNow && !waitingBefore) return true;
  if (!pod.spec?.nodeName) return false;
  if (e.type !== 'MODIFIED' || !prev?.spec?.nodeName) return true;
  return mustMove(pod) !== mustMove(prev);
}

function nodeMatters(e: { type: string; object: KObject; prev?: KObject | undefined }): boolean {
  if (e.type !== 'MODIFIED' || !e.prev) return true;
  const n = e.object as N;
  const p = e.prev as N;
  return isReady(n) !== isReady(p) || isCordoned(n) !== isCordoned(p);
}

export class NodePoolAutoscaler implements Reconciler {
  readonly name = 'nodepool-autoscaler';
  readonly watches: Watch[] = [
    { resource: storeResource(PODS), keys: (e) => (podMatters(e) ? [NODEPOOL_KEY] : []) },
    { resource: storeResource(NODES), keys: (e) => (nodeMatters(e) ? [NODEPOOL_KEY] : []) },
  ];
  /** Pod changes come in bursts (a Deployment's replicas): one decision for each burst. */
  readonly coalesceMs = 1_000;
  private readonly scaleUpDelayMs: number;
  private readonly scaleDownUnneededMs: number;
  private readonly intervalMs: number;
  private readonly provisionTimeoutMs: number;
  private readonly pollMs: number;
  /** When each waiting pod was last given a NotTriggerScaleUp Event (this process). */
  private readonly told = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly fleet: CloudFleet,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    opts: NodePoolAutoscalerOptions = {},
  ) {
    this.scaleUpDelayMs = opts.scaleUpDelayMs ?? 10_000;
    this.scaleDownUnneededMs = opts.scaleDownUnneededMs ?? 10 * 60_000;
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.provisionTimeoutMs = opts.provisionTimeoutMs ?? 15 * 60_000;
    this.pollMs = opts.pollMs ?? 30_000;
  }

  async listKeys(): Promise<string[]> {
    return this.fleet.groupName ? [NODEPOOL_KEY] : [];
  }

  async reconcile(): Promise<ReconcileResult | void> {
    const group = await this.fleet.group();
    if (!group) return this.fleet.groupName ? { requeueAfterMs: this.pollMs } : undefined;
    const [nodes, pods] = await Promise.all([this.client.listAll<N>(NODES, undefined), this.client.listAll<P>(PODS, undefined)]);
    const now = this.clock.now();
    const inGroup = new Set(group.instances.map((i) => i.instanceId));
    const groupNodes = nodes.items.filter((n) => inGroup.has(parseProviderId(n.spec?.providerID)?.instanceId ?? ''));
    let next = this.pollMs;

    const waiting = pods.items.flatMap((p) => {
      const since = unschedulableSince(p);
      return since === undefined ? [] : [{ pod: p, since }];
    });
    const ripe = waiting.filter((w) => now - w.since >= this.scaleUpDelayMs).map((w) => w.pod);
    let helpable = waiting.length - ripe.length;
    for (const w of waiting) if (now - w.since < this.scaleUpDelayMs) next = Math.min(next, w.since + this.scaleUpDelayMs - now + 10);
    if (ripe.length > 0) {
      const up = await this.scaleUp(group, groupNodes, ripe, now);
      helpable += up.helped;
      if (up.after !== undefined) next = Math.min(next, up.after);
    }

    // Pods a node of the group could take may need an empty node soon: none is removed while they wait.
    const after = await this.scaleDown(group, groupNodes, pods.items, helpable > 0, now);
    if (after !== undefined) next = Math.min(next, after);
    return { requeueAfterMs: Math.max(next, 10) };
  }

  // ---- grow ----

  /** How many pods new nodes would help, and when to look again if sooner than the poll. */
  private async scaleUp(group: GroupInfo, groupNodes: N[], ripe: P[], now: number): Promise<{ helped: number; after?: number }> {
    const template = groupNodes.find(isReady) ?? groupNodes[0];
    const upcoming = await this.upcoming(group, groupNodes, now);
    const plan = planScaleUp(ripe, template, upcoming);
    const helped = plan.helped.length;
    for (const pod of this.untold(plan.unhelpable, now)) {
      await this.recorder.record(pod, 'Normal', 'NotTriggerScaleUp', `pod didn't trigger scale-up: it would not fit a new node of group ${group.name} either`);
    }
    if (plan.newNodes === 0) return { helped };
    const target = Math.min(group.max, group.desired + plan.newNodes);
    if (target <= group.desired) {
      for (const pod of this.untold(plan.helped, now)) {
        await this.recorder.record(
          pod,
          'Normal',
          'NotTriggerScaleUp',
          `pod didn't trigger scale-up: max node group size reached (group ${group.name} at ${group.desired}, max ${group.max})`,
        );
      }
      return { helped };
    }
    const claimed = await this.claim(
      'lastScaleUpTime',
      now,
      `scale-up: group ${group.name} ${group.desired} -> ${target} (max: ${group.max}) for ${helped} pending pod(s)`,
    );
    if (claimed.wait !== undefined) return { helped, after: claimed.wait };
    await this.fleet.setDesiredCapacity(target);
    await this.recorder.record(
      claimed.status!,
      'Normal',
      'ScaledUpGroup',
      `Scale-up: setting group ${group.name} size to ${target} instead of ${group.desired} (max: ${group.max})`,
    );
    for (const pod of plan.helped.slice(0, MAX_POD_EVENTS)) {
      await this.recorder.record(
        pod,
        'Normal',
        'TriggeredScaleUp',
        `pod triggered scale-up: [{${group.name} ${group.desired}->${target} (max: ${group.max})}]`,
      );
    }
    return { helped };
  }

  /** Pods not told why they wait within the interval (bounded: a NotTriggerScaleUp per pod per interval at most). */
  private untold(pods: P[], now: number): P[] {
    for (const [uid, at] of this.told) if (now - at >= this.intervalMs) this.told.delete(uid);
    const out = pods.filter((p) => !this.told.has(p.metadata.uid!)).slice(0, MAX_POD_EVENTS);
    for (const p of out) this.told.set(p.metadata.uid!, now);
    return out;
  }

  /** Instances launched (or about to be) whose nodes are not Ready yet, within the provision timeout. */
  private async upcoming(group: GroupInfo, groupNodes: N[], now: number): Promise<number> {
    const ready = new Set(groupNodes.filter(isReady).map((n) => parseProviderId(n.spec?.providerID)!.instanceId));
    const live = group.instances.filter(
      (i) => !i.lifecycleState.startsWith('Terminating') && !i.lifecycleState.startsWith('Detach') && i.lifecycleState !== 'Standby',
    );
    const waitingFor = live.filter((i) => !ready.has(i.instanceId)).map((i) => i.instanceId);
    let coming = 0;
    if (waitingFor.length > 0) {
      const facts = await this.fleet.instances(waitingFor);
      for (const id of waitingFor) {
        const f = facts.get(id);
        if (instanceGone(f)) continue;
        if (f?.launchTime !== undefined && now - f.launchTime > this.provisionTimeoutMs) continue;
        coming++;
      }
    }
    // Desired capacity the group has not launched yet.
    return coming + Math.max(0, group.desired - live.length);
  }

  // ---- shrink ----

  private async scaleDown(group: GroupInfo, groupNodes: N[], pods: P[], podsWaiting: boolean, now: number): Promise<number | undefined> {
    const holding = new Set(pods.filter((p) => p.spec?.nodeName && mustMove(p)).map((p) => p.spec!.nodeName!));
    const eligible: { node: N; since: number }[] = [];
    let next: number | undefined;
    let removing = 0;
    for (const node of groupNodes) {
      const annotations = node.metadata.annotations ?? {};
      if (annotations[ANNOTATION_SCALE_DOWN] !== undefined) {
        removing++;
        continue;
      }
      const empty = !holding.has(node.metadata.name!) && isReady(node) && !isCordoned(node);
      const marked = Date.parse(annotations[ANNOTATION_UNNEEDED_SINCE] ?? '');
      if (empty !== !Number.isNaN(marked)) {
        await this.setAnnotation(node, ANNOTATION_UNNEEDED_SINCE, empty ? rfc3339(now) : undefined);
        if (empty) next = Math.min(next ?? Infinity, this.scaleDownUnneededMs + 10);
        continue;
      }
      if (!empty) continue;
      if (now - marked >= this.scaleDownUnneededMs) eligible.push({ node, since: marked });
      else next = Math.min(next ?? Infinity, marked + this.scaleDownUnneededMs - now + 10);
    }
    if (eligible.length === 0 || podsWaiting) return next;
    if (group.desired - removing <= group.min) return next;
    eligible.sort((a, b) => a.since - b.since || a.node.metadata.name!.localeCompare(b.node.metadata.name!));
    const victim = eligible[0]!.node;
    const claimed = await this.claim('lastScaleDownTime', now, `scale-down: removing empty node ${victim.metadata.name} from group ${group.name}`);
    if (claimed.wait !== undefined) return Math.min(next ?? Infinity, claimed.wait);
    if (!(await this.setAnnotation(victim, ANNOTATION_SCALE_DOWN, rfc3339(now)))) return 10;
    await this.recorder.record(claimed.status!, 'Normal', 'ScaleDownEmpty', `Scale-down: removing empty node ${victim.metadata.name}`);
    await this.recorder.record(victim, 'Normal', 'ScaleDown', 'marked the node as toBeDeleted/unschedulable');
    return next;
  }

  /** Sets (or with undefined removes) one annotation with a compare-and-swap; false when the node changed meanwhile. */
  private async setAnnotation(node: N, key: string, value: string | undefined): Promise<boolean> {
    const annotations = { ...(node.metadata.annotations ?? {}) };
    if (value === undefined) delete annotations[key];
    else annotations[key] = value;
    try {
      await this.client.update(NODES, { ...node, metadata: { ...node.metadata, annotations } });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  // ---- one decision per interval ----

  /**
   * Claims this interval's decision of one kind: writes `now` into the
   * status ConfigMap with a compare-and-swap. `wait` is set when the last
   * decision is too recent (how long until the next may be made) or another
   * process claimed it first (look again at once).
   */
  private async claim(field: 'lastScaleUpTime' | 'lastScaleDownTime', now: number, what: string): Promise<{ wait?: number; status?: KObject }> {
    const current = await this.client.find(CONFIGMAPS, STATUS_NAMESPACE, STATUS_CONFIGMAP);
    const data = ((current as { data?: StatusMap } | undefined)?.data ?? {}) as StatusMap;
    const last = Date.parse(data[field] ?? '');
    if (!Number.isNaN(last) && now - last < this.intervalMs) return { wait: last + this.intervalMs - now + 10 };
    const nextData: StatusMap = { ...data, [field]: new Date(now).toISOString(), status: `${new Date(now).toISOString()} ${what}` };
    try {
      if (!current) {
        const created = await this.client.create(CONFIGMAPS, STATUS_NAMESPACE, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: STATUS_CONFIGMAP, namespace: STATUS_NAMESPACE },
          data: nextData,
        } as KObject);
        return { status: created };
      }
      return { status: await this.client.update(CONFIGMAPS, { ...current, data: nextData } as KObject) };
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return { wait: 10 };
      throw err;
    }
  }
}
