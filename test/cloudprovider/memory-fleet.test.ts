/**
 * Fleet states the emulator cannot produce, on an in-memory stand-in for
 * the fleet (the API server, controllers and simulated nodes are the real
 * ones):
 * - a node whose instance the Auto Scaling group is terminating (held in
 *   Terminating:Wait by the stack's lifecycle hook) is drained, and the hook
 *   completed only once its last pod is gone (moto 5.2.1 never holds an
 *   instance in Terminating:Wait and does not serve CompleteLifecycleAction),
 *   its evictions held back by a PodDisruptionBudget;
 * - a node whose container instance ECS has deregistered is deleted as soon
 *   as the controllers look (the stack wakes them on container instance
 *   events), its lease still fresh (moto keeps a terminated instance's
 *   container instance connected).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '#lib/api/core/v1/event';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, EVENTS, NODES, POD_DISRUPTION_BUDGETS, PODS } from '#lib/kinds/resources';
import type { PodDisruptionBudget } from '#lib/api/policy/v1/poddisruptionbudget';
import { PodTracker } from '../controllers/scenarios.js';
import type { CloudFleet, ContainerInstanceInfo, GroupInfo, InstanceInfo } from '#lib/cloudprovider/fleet';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const IDS = ['i-0a', 'i-0b'];
const arnOf = (id: string) => `arn:aws:ecs:us-east-1:1:container-instance/pool/${id}`;

class MemoryFleet implements CloudFleet {
  readonly groupName = 'pool';
  readonly states = new Map(IDS.map((id) => [id, 'running']));
  readonly registered = new Set(IDS);
  readonly lifecycleHook = 'kumo-drain';
  readonly completed: { instanceId: string; podsLeft: number }[] = [];
  group_: GroupInfo = { name: 'pool', min: 1, max: 3, desired: 2, instances: IDS.map((id) => ({ instanceId: id, lifecycleState: 'InService' })) };
  podsLeft: () => Promise<number> = async () => 0;
  async instances(ids: readonly string[]): Promise<Map<string, InstanceInfo>> {
    return new Map(ids.filter((id) => this.states.has(id)).map((id) => [id, { instanceId: id, state: this.states.get(id)! }]));
  }
  async containerInstances(): Promise<Map<string, ContainerInstanceInfo>> {
    return new Map([...this.registered].map((id) => [id, { arn: arnOf(id), instanceId: id, status: 'ACTIVE', agentConnected: true }]));
  }
  async group(): Promise<GroupInfo> {
    return this.group_;
  }
  async setDesiredCapacity(desired: number): Promise<void> {
    this.group_ = { ...this.group_, desired };
  }
  async terminateInGroup(): Promise<void> {
    throw new Error('not expected');
  }
  async completeLifecycleAction(instanceId: string): Promise<void> {
    this.completed.push({ instanceId, podsLeft: await this.podsLeft() });
    // As the group does: the instance goes on to terminate.
    this.group_ = {
      ...this.group_,
      instances: this.group_.instances.map((i) => (i.instanceId === instanceId ? { ...i, lifecycleState: 'Terminating:Proceed' } : i)),
    };
  }
  invalidate(): void {}
}

describe('nodes on fleet states the emulator does not produce', () => {
  const fleet = new MemoryFleet();
  let cluster: Awaited<ReturnType<typeof startCluster>>;

  beforeAll(async () => {
    cluster = await startCluster({
      resyncIntervalMs: 1_000,
      // Pods take a second to stop: the hook must wait for that.
      fakeNodes: {
        names: IDS,
        startDelayMs: 50,
        stopDelayMs: 1_000,
        leaseRenewMs: 500,
        providerID: (name) => `aws:///us-east-1a/${name}`,
        annotations: (name) => ({ 'ecs.kumo.io/container-instance-arn': arnOf(name) }),
      },
      // Silence alone would take a minute to act on here: only ECS's word can be quick.
      controlPlane: { cloudProvider: { fleet, lifecycle: { askAfterMs: 60_000 }, drain: { pollMs: 200, drainPollMs: 100 }, autoscaler: false } },
    });
    fleet.podsLeft = async () => (await cluster.client.listAll<Pod & KObject>(PODS, undefined, { fieldSelector: 'spec.nodeName=i-0a' })).items.length;
  });
  afterAll(async () => {
    await cluster.dispose();
  });

  it('drains a node whose instance is terminating behind the lifecycle hook, and completes the hook once it is empty', async () => {
    await cluster.client.create(DEPLOYMENTS, 'default', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      },
    } as KObject);
    await waitFor(
      async () => {
        const pods = (await cluster.client.listAll<Pod & KObject>(PODS, 'default')).items;
        return pods.filter((p) => p.status?.phase === 'Running').length === 4 && pods.some((p) => p.spec?.nodeName === 'i-0a');
      },
      { what: 'pods Running on both nodes' },
    );

    // One of the four may be down at a time: the drain's evictions wait for each replacement to be Ready.
    await cluster.client.create(POD_DISRUPTION_BUDGETS, 'default', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    await waitFor(
      async () => (await cluster.client.get<PodDisruptionBudget & KObject>(POD_DISRUPTION_BUDGETS, 'default', 'web')).status?.disruptionsAllowed === 1,
      { what: 'the budget allowing one disruption' },
    );
    const tracker = new PodTracker(cluster.client, 'default', 'app=web');
    await tracker.start();

    fleet.group_ = {
      ...fleet.group_,
      instances: fleet.group_.instances.map((i) => (i.instanceId === 'i-0a' ? { ...i, lifecycleState: 'Terminating:Wait' } : i)),
    };
    await waitFor(async () => (fleet.completed.length > 0 ? true : undefined), { what: 'the lifecycle action completed' });
    await tracker.stop();
    expect(fleet.completed).toEqual([{ instanceId: 'i-0a', podsLeft: 0 }]);
    // Ready and not being deleted, at every change the watch saw (without the budget both pods of i-0a go at once).
    expect(tracker.minReady).toBeGreaterThanOrEqual(3);
    const node = await cluster.client.get<Node & KObject>(NODES, undefined, 'i-0a');
    expect(node.spec?.unschedulable).toBe(true);
    const pods = (await cluster.client.listAll<Pod & KObject>(PODS, 'default')).items;
    expect(pods.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp).map((p) => p.spec?.nodeName)).toEqual([
      'i-0b',
      'i-0b',
      'i-0b',
      'i-0b',
    ]);
    const events = (await cluster.client.listAll<Event & KObject>(EVENTS, undefined)).items;
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['NodeNotSchedulable', 'Evicted', 'LifecycleActionCompleted']));
  });

  it('deletes the node of a deregistered container instance whose instance is terminated when the controllers look, lease or not', async () => {
    fleet.states.set('i-0b', 'terminated');
    fleet.registered.delete('i-0b');
    // What the stack's container instance event does in the cloud: the cloud provider's loops look at every node.
    await cluster.driver!.resync();
    await waitFor(async () => !(await cluster.client.find(NODES, undefined, 'i-0b')), { timeoutMs: 5_000, what: 'node i-0b deleted' });
    const events = (await cluster.client.listAll<Event & KObject>(EVENTS, undefined)).items.filter((e) => e.reason === 'DeletingNode');
    expect(events.map((e) => e.message)).toEqual(['Deleting node i-0b because its instance i-0b is terminated']);
  });
});
