/**
 * The cloud provider's reconcilers against the emulator's EC2, ECS and Auto
 * Scaling APIs: a node group of three instances (two in us-east-1a, one in
 * us-east-1b), each a container instance with a simulated agent
 * (lib/cloudprovider/fleet-sim.ts), and `kumo up`'s control plane with the
 * cloud provider given an AwsFleet over the emulator. The scenarios run in
 * order on one cluster, as a fleet lives: spread, lose an instance, drain
 * one, grow for pending pods, shrink when idle.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ECSClient, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '#lib/api/core/v1/event';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { DEPLOYMENTS, EVENTS, NODES, PODS } from '#lib/kinds/resources';
import { TAINT_UNSCHEDULABLE } from '#lib/api/taints';
import { STATUS_CONFIGMAP, STATUS_NAMESPACE } from '#lib/cloudprovider/autoscaler';
import { AwsFleet } from '#lib/cloudprovider/aws-fleet';
import { FleetSim, provisionFleet } from '#lib/cloudprovider/fleet-sim';
import { ANNOTATION_CONTAINER_INSTANCE } from '#lib/cloudprovider/node-facts';
import { startCluster } from '../helpers/cluster.js';
import { ensureEmulator } from '../helpers/moto.js';
import { waitFor } from '../helpers/wait.js';

type N = Node & KObject;
type P = Pod & KObject;

const CLUSTER = 'kumo-nodes';
const GROUP = 'kumo-nodes';
const ZONE = 'topology.kubernetes.io/zone';

const emulator = await ensureEmulator();

function deployment(name: string, replicas: number, cpu?: string): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'app', image: 'nginx:1.27', ...(cpu ? { resources: { requests: { cpu } } } : {}) }] },
      },
    },
  } as KObject;
}

describe.runIf(emulator)('the cloud node controller on the ECS, EC2 and Auto Scaling APIs', () => {
  let ec2: EC2Client;
  let ecs: ECSClient;
  let asg: AutoScalingClient;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let sim: FleetSim;
  const instances: { id: string; zone: string }[] = [];

  const client = () => cluster.client;
  const nodes = async () => (await client().listAll<N>(NODES, undefined)).items;
  const pods = async (app: string) => (await client().listAll<P>(PODS, 'default', { labelSelector: `app=${app}` })).items;
  const running = (ps: P[]) => ps.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
  const group = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }))).AutoScalingGroups![0]!;
  const events = async (reason: string) => (await client().listAll<Event & KObject>(EVENTS, undefined)).items.filter((e) => e.reason === reason);

  beforeAll(async () => {
    ec2 = new EC2Client({});
    ecs = new ECSClient({});
    asg = new AutoScalingClient({});
    // Two instances in one zone, one in the other, put into the group.
    const fleet = await provisionFleet(
      { ec2, ecs, autoScaling: asg },
      { cluster: CLUSTER, group: GROUP, maxSize: 6, zones: ['us-east-1a', 'us-east-1a', 'us-east-1b'] },
    );
    instances.push(...fleet.instances);
    // min 3: the group may not shrink below what the scenarios start with.
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, MinSize: 3 }));

    cluster = await startCluster({
      resyncIntervalMs: 2_000,
      controlPlane: {
        cloudProvider: {
          fleet: new AwsFleet({ ec2, ecs, cluster: CLUSTER, autoScaling: asg, groupName: GROUP, maxAgeMs: 100 }),
          lifecycle: { askAfterMs: 1_500, pollMs: 500 },
          drain: { pollMs: 300, drainPollMs: 200 },
          autoscaler: { scaleUpDelayMs: 1_000, scaleDownUnneededMs: 1_500, intervalMs: 2_000, pollMs: 500 },
        },
      },
    });
    sim = new FleetSim({
      client: cluster.client,
      ec2,
      ecs,
      cluster: CLUSTER,
      autoScaling: asg,
      groupName: GROUP,
      agents: { leaseRenewMs: 300, startDelayMs: 50, stopDelayMs: 50 },
    });
    await sim.start();
  });

  afterAll(async () => {
    await sim?.stop();
    await cluster?.dispose();
    for (const c of [ec2, ecs, asg]) c?.destroy();
    await emulator?.stop();
  });

  it('labels each node from its instance and spreads a Deployment over the zones', async () => {
    const joined = await waitFor(async () => ((await nodes()).length === 3 ? nodes() : undefined), { what: 'three nodes' });
    for (const { id, zone } of instances) {
      const node = joined.find((n) => n.metadata.name === id)!;
      expect(node.spec?.providerID).toBe(`aws:///${zone}/${id}`);
      expect(node.metadata.labels).toMatchObject({
        [ZONE]: zone,
        'topology.kubernetes.io/region': 'us-east-1',
        'node.kubernetes.io/instance-type': 't3.xlarge',
        'kubernetes.io/os': 'linux',
      });
      expect(node.metadata.annotations?.[ANNOTATION_CONTAINER_INSTANCE]).toMatch(/^arn:aws:ecs:us-east-1:\d+:container-instance\//);
    }
    await client().create(DEPLOYMENTS, 'default', deployment('web', 6));
    const placed = await waitFor(
      async () => {
        const r = running(await pods('web'));
        return r.length === 6 ? r : undefined;
      },
      { what: '6 web pods Running' },
    );
    const zoneOf = new Map(joined.map((n) => [n.metadata.name!, n.metadata.labels?.[ZONE]]));
    const perZone = new Map<string, number>();
    for (const p of placed) perZone.set(zoneOf.get(p.spec!.nodeName!)!, (perZone.get(zoneOf.get(p.spec!.nodeName!)!) ?? 0) + 1);
    expect(Object.fromEntries(perZone)).toEqual({ 'us-east-1a': 3, 'us-east-1b': 3 });
  });

  it('deletes the node of a terminated instance at once, so its pods run elsewhere well within the grace', async () => {
    const victim = instances[2]!.id;
    const before = (await pods('web')).filter((p) => p.spec?.nodeName === victim);
    expect(before.length).toBeGreaterThan(0);
    const t0 = Date.now();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim] }));
    await waitFor(async () => !(await client().find(NODES, undefined, victim)), { timeoutMs: 20_000, what: `node ${victim} deleted` });
    await waitFor(
      async () => {
        const r = running(await pods('web'));
        return r.length === 6 && r.every((p) => p.spec?.nodeName !== victim);
      },
      { timeoutMs: 20_000, what: '6 web pods Running on the other nodes' },
    );
    // The node lifecycle grace alone would take 40 s, and the pods' unreachable toleration 300 s more.
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await events('DeletingNode')).map((e) => e.message)).toContain(`Deleting node ${victim} because its instance ${victim} is terminated`);
    // The group replaced the instance (the emulator does at once what a health check does): a new instance, a new node.
    await waitFor(async () => ((await nodes()).length === 3 && (await group()).Instances!.every((i) => sim.alive(i.InstanceId!)) ? true : undefined), {
      what: 'a replacement node',
    });
  });

  it('cordons the node of a DRAINING container instance, moves its pods and keeps new pods off it', async () => {
    const all = await nodes();
    const web = await pods('web');
    const target = all.find((n) => web.some((p) => p.spec?.nodeName === n.metadata.name))!;
    const name = target.metadata.name!;
    const arn = target.metadata.annotations![ANNOTATION_CONTAINER_INSTANCE]!;
    await ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arn], status: 'DRAINING' }));
    const cordoned = await waitFor(
      async () => {
        const n = await client().get<N>(NODES, undefined, name);
        return n.spec?.unschedulable ? n : undefined;
      },
      { what: `node ${name} cordoned` },
    );
    expect(cordoned.spec?.taints).toContainEqual(expect.objectContaining({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }));
    await waitFor(
      async () => {
        const r = running(await pods('web'));
        return r.length === 6 && (await pods('web')).every((p) => p.spec?.nodeName !== name);
      },
      { what: `web pods moved off ${name}` },
    );
    const evicted = await events('Evicted');
    expect(evicted.some((e) => e.message?.includes(`from node ${name}: container instance ${arn} is DRAINING`))).toBe(true);
    // New pods stay off it.
    await client().patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 9 } });
    const nine = await waitFor(
      async () => {
        const r = running(await pods('web'));
        return r.length === 9 ? r : undefined;
      },
      { what: '9 web pods Running' },
    );
    expect(nine.filter((p) => p.spec?.nodeName === name)).toEqual([]);
    // ACTIVE again: back in service.
    await ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arn], status: 'ACTIVE' }));
    const back = await waitFor(
      async () => {
        const n = await client().get<N>(NODES, undefined, name);
        return n.spec?.unschedulable ? undefined : n;
      },
      { what: `node ${name} uncordoned` },
    );
    expect(back.spec?.taints ?? []).not.toContainEqual(expect.objectContaining({ key: TAINT_UNSCHEDULABLE }));
  });

  it('raises the group for pods that fit nowhere, bounded by its max', async () => {
    // 2 CPUs each on 4-CPU nodes: two per node, 14 of 20 left over.
    await client().create(DEPLOYMENTS, 'default', deployment('big', 20, '2'));
    await waitFor(async () => ((await group()).DesiredCapacity === 6 ? true : undefined), { timeoutMs: 20_000, what: 'desired capacity 6' });
    // Under load the scheduler may report the pods that fit nowhere over more than one pass, so the group can be
    // raised in steps (3->4->6, as cluster-autoscaler would); the step that reaches the max says so.
    const scaled = await waitFor(
      async () => {
        const e = (await events('ScaledUpGroup')).filter((x) => x.message?.includes('size to 6 '));
        return e.length > 0 ? e : undefined;
      },
      { what: 'a ScaledUpGroup event to 6' },
    );
    expect(scaled[0]!.message).toMatch(new RegExp(`^Scale-up: setting group ${GROUP} size to 6 instead of [345] \\(max: 6\\)$`));
    expect(scaled[0]!.involvedObject).toMatchObject({ kind: 'ConfigMap', namespace: STATUS_NAMESPACE, name: STATUS_CONFIGMAP });
    expect((await events('TriggeredScaleUp')).map((e) => e.message)).toContainEqual(
      expect.stringMatching(new RegExp(`^pod triggered scale-up: \\[\\{${GROUP} [345]->6 \\(max: 6\\)\\}\\]$`)),
    );
    // The new instances join as nodes and take what fits: 12 of 20.
    await waitFor(async () => (running(await pods('big')).length === 12 ? true : undefined), { timeoutMs: 20_000, what: '12 big pods Running on 6 nodes' });
    const capped = await waitFor(
      async () => {
        const e = await events('NotTriggerScaleUp');
        return e.length > 0 ? e : undefined;
      },
      { what: 'a NotTriggerScaleUp event' },
    );
    expect(capped[0]!.message).toBe(`pod didn't trigger scale-up: max node group size reached (group ${GROUP} at 6, max 6)`);
    expect((await group()).DesiredCapacity).toBe(6);
  });

  it('scales in idle nodes, down to the group minimum', async () => {
    await client().delete(DEPLOYMENTS, 'default', 'big');
    await client().patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 3 } });
    await waitFor(async () => ((await group()).DesiredCapacity === 3 ? true : undefined), { timeoutMs: 30_000, what: 'desired capacity back to 3' });
    const left = await waitFor(
      async () => {
        const n = await nodes();
        return n.length === 3 ? n : undefined;
      },
      { timeoutMs: 20_000, what: 'three nodes left' },
    );
    const inGroup = new Set((await group()).Instances!.map((i) => i.InstanceId));
    expect(left.every((n) => inGroup.has(n.metadata.name))).toBe(true);
    expect(running(await pods('web'))).toHaveLength(3);
    expect((await events('ScaleDownEmpty')).length).toBeGreaterThanOrEqual(3);
  });
});
