/**
 * Draining nodes the cloud is taking away. A node drains when
 * - its ECS container instance is DRAINING (ECS managed draining on
 *   scale-in, Spot interruption draining, a user's
 *   `aws ecs update-container-instances-state`),
 * - its instance is terminating in the Auto Scaling group (held in
 *   Terminating:Wait by the stack's lifecycle hook), or
 * - the node pool autoscaler chose it for removal (ANNOTATION_SCALE_DOWN).
 *
 * Draining is: cordon (spec.unschedulable and the unschedulable taint,
 * marked as this controller's), evict every pod but mirror and DaemonSet
 * pods through the eviction subresource (each gets its own
 * terminationGracePeriodSeconds; one a PodDisruptionBudget refuses is asked
 * again at the next poll, until its budget allows it or the lifecycle
 * hook's timeout lets the instance go), and once none is left: complete the
 * lifecycle hook (the instance may go), or for a scale-down terminate the
 * instance with the group's desired capacity lowered. A container instance
 * set back to ACTIVE gets its node uncordoned (only a cordon of this
 * controller's: a user's stays). The Node itself is removed by the cloud
 * node lifecycle controller once its instance is gone.
 */
import type { Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { isConflict } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { CloudFleet } from './fleet.js';
import { ANNOTATION_CORDONED_BY, evictPod, isCordoned, mustMove, podsOnNode, setUnschedulable } from './node-drain.js';
import { parseProviderId } from './node-facts.js';
import { NODES, PODS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

/** Set by the node pool autoscaler on a node it removes (RFC 3339 time of the decision). */
export const ANNOTATION_SCALE_DOWN = 'autoscaling.kumo.io/scale-down';
/** The value of ANNOTATION_CORDONED_BY for this controller's cordons. */
export const DRAIN_CORDONER = 'cloud-node-drain';

export interface CloudNodeDrainOptions {
  /** How often a node's cloud state is checked for DRAINING. @default 10 s */
  pollMs?: number;
  /**
   * How often a draining node is checked for its last pods leaving (besides
   * their deletions on the feed). Above the stream driver's 2 s inline
   * requeue, so a drain never holds a Lambda invocation. @default 5 s
   */
  drainPollMs?: number;
}

type N = Node & KObject;
type P = Pod & KObject;

function isAwsNode(obj: KObject | undefined): boolean {
  return parseProviderId((obj as N | undefined)?.spec?.providerID) !== undefined;
}

function drainedByUs(node: N): boolean {
  return node.metadata.annotations?.[ANNOTATION_CORDONED_BY] === DRAIN_CORDONER || node.metadata.annotations?.[ANNOTATION_SCALE_DOWN] !== undefined;
}

export class CloudNodeDrainController implements Reconciler {
  readonly name = 'cloud-node-drain';
  readonly watches: Watch[] = [
    {
      resource: storeResource(NODES),
      keys: (e) => {
        const name = e.object.metadata.name!;
        if (e.type === 'DELETED' || !isAwsNode(e.object)) {
          this.draining.delete(name);
          return [];
        }
        if (drainedByUs(e.object as N)) this.draining.add(name);
        else this.draining.delete(name);
        return [name];
      },
    },
    // A pod leaving a draining node may have been its last.
    {
      resource: storeResource(PODS),
      keys: (e) => {
        const node = (e.object as P).spec?.nodeName;
        const leaving = e.type === 'DELETED' || ((e.object as P).status?.phase !== (e.prev as P | undefined)?.status?.phase && !mustMove(e.object as P));
        return node && leaving && this.draining.has(node) ? [node] : [];
      },
    },
  ];
  /** Nodes seen on the feed that this controller (or the autoscaler) is draining. */
  private readonly draining = new Set<string>();
  private readonly pollMs: number;
  private readonly drainPollMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly fleet: CloudFleet,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    opts: CloudNodeDrainOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 10_000;
    this.drainPollMs = opts.drainPollMs ?? 5_000;
  }

  async listKeys(): Promise<string[]> {
    return (await this.client.listAll<N>(NODES, undefined)).items.filter(isAwsNode).map((n) => n.metadata.name!);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    let node = await this.client.find<N>(NODES, undefined, name);
    const ref = parseProviderId(node?.spec?.providerID);
    if (!node || !ref) return;
    const [containers, group] = await Promise.all([this.fleet.containerInstances(), this.fleet.group()]);
    const container = containers.get(ref.instanceId);
    const inGroup = group?.instances.find((i) => i.instanceId === ref.instanceId);
    const scaleDown = node.metadata.annotations?.[ANNOTATION_SCALE_DOWN] !== undefined;
    const terminating = inGroup?.lifecycleState.startsWith('Terminating') ?? false;
    const why =
      container?.status === 'DRAINING'
        ? `container instance ${container.arn} is DRAINING`
        : terminating
          ? `instance ${ref.instanceId} is terminating (${inGroup!.lifecycleState})`
          : scaleDown
            ? 'the node pool is scaling in'
            : undefined;

    if (!why) {
      this.draining.delete(name);
      if (drainedByUs(node)) {
        const { result } = await setUnschedulable(this.client, name, false, { by: DRAIN_CORDONER });
        if (result === 'changed')
          await this.recorder.record(node, 'Normal', 'NodeSchedulable', `Node ${name} status is now: NodeSchedulable (its container instance is ACTIVE again)`);
      }
      return { requeueAfterMs: this.pollMs };
    }

    this.draining.add(name);
    if (!isCordoned(node)) {
      const res = await setUnschedulable(this.client, name, true, { by: DRAIN_CORDONER, now: this.clock.now() });
      node = res.node;
      if (res.result === 'changed') await this.recorder.record(node, 'Normal', 'NodeNotSchedulable', `Draining node ${name}: ${why}`);
    }

    const holding = (await podsOnNode(this.client, name)).filter(mustMove);
    for (const pod of holding) {
      if (pod.metadata.deletionTimestamp) continue;
      const result = await evictPod(this.client, pod, { uid: true });
      if (result === 'evicted') await this.recorder.record(pod, 'Normal', 'Evicted', `Evicting pod from node ${name}: ${why}`);
    }
    if (holding.length > 0) return { requeueAfterMs: this.drainPollMs };

    // Empty: let the instance go.
    if (inGroup?.lifecycleState === 'Terminating:Wait' && this.fleet.lifecycleHook) {
      await this.fleet.completeLifecycleAction(ref.instanceId);
      await this.recorder.record(
        node,
        'Normal',
        'LifecycleActionCompleted',
        `Node ${name} is drained: lifecycle hook ${this.fleet.lifecycleHook} completed for instance ${ref.instanceId}`,
      );
    } else if (scaleDown && inGroup && !terminating) {
      await this.terminateForScaleDown(node, ref.instanceId);
    }
    return { requeueAfterMs: this.pollMs };
  }

  /** Removes an empty node the autoscaler chose, unless the group is at its minimum by now. */
  private async terminateForScaleDown(node: N, instanceId: string): Promise<void> {
    const group = await this.fleet.group();
    if (!group || group.desired <= group.min) {
      await this.cancelScaleDown(node, `the group is at its minimum size (${group?.min ?? 0})`);
      return;
    }
    try {
      await this.fleet.terminateInGroup(instanceId, true);
    } catch (err) {
      // The group refuses (e.g. its minimum moved): keep the node. Anything else is retried.
      if ((err as Error).name !== 'ValidationError') throw err;
      await this.cancelScaleDown(node, (err as Error).message);
      return;
    }
    await this.recorder.record(
      node,
      'Normal',
      'ScaleDown',
      `node removed by the node pool autoscaler: instance ${instanceId} terminated, group ${group.name} size ${group.desired} -> ${group.desired - 1}`,
    );
  }

  private async cancelScaleDown(node: N, why: string): Promise<void> {
    const name = node.metadata.name!;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.client.find<N>(NODES, undefined, name);
      if (!current) return;
      const annotations = { ...(current.metadata.annotations ?? {}) };
      delete annotations[ANNOTATION_SCALE_DOWN];
      try {
        await this.client.update(NODES, { ...current, metadata: { ...current.metadata, annotations } });
        break;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    await setUnschedulable(this.client, name, false, { by: DRAIN_CORDONER });
    await this.recorder.record(node, 'Warning', 'ScaleDownFailed', `node ${name} was not removed: ${why}`);
  }
}
