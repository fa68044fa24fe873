/**
 * Cloud node lifecycle (Kubernetes' cloud-node-lifecycle controller, for
 * nodes on EC2): when a node's heartbeats stop, or ECS loses its container
 * instance (deregistered, agent disconnected), the cloud is asked before
 * anyone waits. An instance that is terminated (or gone from EC2) will never
 * come back, so its Node is deleted at once and the pod garbage collector
 * lets its pods be recreated elsewhere, instead of the node lifecycle
 * controller's 40 s grace plus the pods' 300 s unreachable toleration. An
 * instance that still runs (an agent that lost its connection, a host under
 * load) gets the normal grace path, untouched. A stopped instance is tainted
 * `node.cloudprovider.kubernetes.io/shutdown:NoSchedule` until it runs again.
 *
 * Nodes without an `aws:///` providerID are not this controller's.
 */
import type { Lease } from '../api/coordination/v1/lease.js';
import type { Node, Taint } from '../api/core/v1/node.js';
import type { KObject } from '../api/object.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import { NODE_LEASE_NAMESPACE } from '../api/coordination/v1/lease.js';
import type { Reconciler, ReconcileResult, Watch } from '../controller-runtime/reconciler.js';
import { type Clock, rfc3339, systemClock } from '../util/clock.js';
import { type CloudFleet, instanceGone, instanceStopped } from './fleet.js';
import { lastHeartbeat } from './node-drain.js';
import { ANNOTATION_CONTAINER_INSTANCE, parseProviderId } from './node-facts.js';
import { LEASES, NODES } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

export const TAINT_SHUTDOWN = 'node.cloudprovider.kubernetes.io/shutdown';

export interface CloudNodeLifecycleOptions {
  /** Ask the cloud once a node has been silent this long. @default 15 s (one and a half lease renewals) */
  askAfterMs?: number;
  /** While a node stays silent, ask again this often. @default 10 s */
  pollMs?: number;
}

type N = Node & KObject;

function isAwsNode(obj: KObject): boolean {
  return parseProviderId((obj as N).spec?.providerID) !== undefined;
}

export class CloudNodeLifecycleController implements Reconciler {
  readonly name = 'cloud-node-lifecycle';
  // Lease renewals are not on the feed (only their absence matters): the requeue set from the last renewal finds silence.
  readonly watches: Watch[] = [{ resource: storeResource(NODES), keys: (e) => (e.type !== 'DELETED' && isAwsNode(e.object) ? [e.object.metadata.name!] : []) }];
  private readonly askAfterMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly fleet: CloudFleet,
    private readonly recorder: Recorder,
    private readonly clock: Clock = systemClock,
    opts: CloudNodeLifecycleOptions = {},
  ) {
    this.askAfterMs = opts.askAfterMs ?? 15_000;
    this.pollMs = opts.pollMs ?? 10_000;
  }

  async listKeys(): Promise<string[]> {
    return (await this.client.listAll<N>(NODES, undefined)).items.filter(isAwsNode).map((n) => n.metadata.name!);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const node = await this.client.find<N>(NODES, undefined, name);
    const ref = parseProviderId(node?.spec?.providerID);
    if (!node || !ref) return;
    const lease = await this.client.find<Lease & KObject>(LEASES, NODE_LEASE_NAMESPACE, name);
    const now = this.clock.now();
    const silentFor = now - lastHeartbeat(node, lease, now);
    const shutdownTainted = (node.spec?.taints ?? []).some((t) => t.key === TAINT_SHUTDOWN);
    if (silentFor < this.askAfterMs && !shutdownTainted && !(await this.ecsLostIt(node, ref.instanceId)))
      return { requeueAfterMs: this.askAfterMs - silentFor + 10 };

    const instance = (await this.fleet.instances([ref.instanceId])).get(ref.instanceId);
    if (instanceGone(instance)) {
      await this.deleteNode(node, instance ? `its instance ${ref.instanceId} is ${instance.state}` : `its instance ${ref.instanceId} no longer exists`);
      return;
    }
    await this.syncShutdownTaint(node, instanceStopped(instance));
    return { requeueAfterMs: silentFor < this.askAfterMs ? this.askAfterMs - silentFor + 10 : this.pollMs };
  }

  /**
   * Whether ECS has lost the node's container instance (deregistered, or its
   * ECS agent disconnected): the first sign of a terminated host, often
   * before the lease is even due, and what the stack's container instance
   * events wake this controller for.
   */
  private async ecsLostIt(node: N, instanceId: string): Promise<boolean> {
    const arn = node.metadata.annotations?.[ANNOTATION_CONTAINER_INSTANCE];
    if (!arn) return false;
    const ci = (await this.fleet.containerInstances()).get(instanceId);
    return !ci || ci.arn !== arn || !ci.agentConnected || ci.status === 'INACTIVE' || ci.status === 'DEREGISTERING';
  }

  private async deleteNode(node: N, why: string): Promise<void> {
    const name = node.metadata.name!;
    try {
      await this.client.delete(NODES, undefined, name, { preconditions: { uid: node.metadata.uid! } });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    await this.recorder.record(node, 'Normal', 'DeletingNode', `Deleting node ${name} because ${why}`);
  }

  private async syncShutdownTaint(node: N, stopped: boolean): Promise<void> {
    const taints: Taint[] = node.spec?.taints ?? [];
    const has = taints.some((t) => t.key === TAINT_SHUTDOWN);
    if (has === stopped) return;
    const next = stopped
      ? [...taints, { key: TAINT_SHUTDOWN, effect: 'NoSchedule', timeAdded: rfc3339(this.clock.now()) }]
      : taints.filter((t) => t.key !== TAINT_SHUTDOWN);
    try {
      await this.client.update(NODES, { ...node, spec: { ...(node.spec ?? {}), taints: next } });
    } catch (err) {
      if (!(isNotFound(err) || isConflict(err))) throw err;
    }
  }
}
