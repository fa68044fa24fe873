/**
 * A simulated node pool on an AWS API emulator (tests and benchmarks): the
 * machines are the emulator's EC2 instances (the Auto Scaling group's, and
 * any adopted by hand), and each running one gets what an ECS host would
 * have: a container instance registered in the cluster, and an agent (a
 * simulated node, lib/sim/fake-nodes.ts) named after the instance and
 * labelled from its container instance exactly as the real agent labels its
 * node (node-facts.ts). An instance that terminates takes its agent with
 * it: the simulated node goes silent, like a dead host, and (with
 * `deregisterEnded`, as ECS does for a terminated instance) its container
 * instance is deregistered.
 */
import { AttachInstancesCommand, type AutoScalingClient, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  RegisterContainerInstanceCommand,
} from '@aws-sdk/client-ecs';
import type { KubeClient } from '../client/client.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type FakeNodeOptions, FakeNodes } from '../sim/fake-nodes.js';
import { ANNOTATION_CONTAINER_INSTANCE, factsOfContainerInstance, type NodeFacts } from './node-facts.js';

/** Where provisionFleet puts the fleet: an ECS cluster and an Auto Scaling group of t3.xlarge instances in two zones. */
export interface FleetLayout {
  cluster: string;
  group: string;
  maxSize: number;
  /** One instance started and attached to the group per entry, in that zone. */
  zones: readonly string[];
}

/**
 * Provisions on the emulator what a node pool stands on: the ECS cluster, a
 * launch template, an empty Auto Scaling group over us-east-1a and 1b, and
 * one running instance per zone given, attached to the group.
 */
export async function provisionFleet(
  clients: { ec2: EC2Client; ecs: ECSClient; autoScaling: AutoScalingClient },
  layout: FleetLayout,
): Promise<{ imageId: string; instances: { id: string; zone: string }[] }> {
  const { ec2, ecs, autoScaling } = clients;
  await ecs.send(new CreateClusterCommand({ clusterName: layout.cluster }));
  const imageId = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => !i.Platform)!.ImageId!;
  await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: layout.group, LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.xlarge' } }));
  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: layout.group,
      LaunchTemplate: { LaunchTemplateName: layout.group },
      MinSize: 0,
      MaxSize: layout.maxSize,
      DesiredCapacity: 0,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
    }),
  );
  const instances: { id: string; zone: string }[] = [];
  for (const zone of layout.zones) {
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.xlarge', Placement: { AvailabilityZone: zone } }),
    );
    instances.push({ id: run.Instances![0]!.InstanceId!, zone });
  }
  await autoScaling.send(new AttachInstancesCommand({ AutoScalingGroupName: layout.group, InstanceIds: instances.map((i) => i.id) }));
  return { imageId, instances };
}

export interface FleetSimOptions {
  /** The API the simulated agents use. */
  client: KubeClient;
  ec2: EC2Client;
  ecs: ECSClient;
  cluster: string;
  /** Run agents on this group's instances as they come. */
  autoScaling?: AutoScalingClient;
  groupName?: string;
  /** How often the emulator is polled for instances that started or ended. @default 200 ms */
  pollMs?: number;
  /** Deregister the container instance of an instance that ended, as ECS does. @default true */
  deregisterEnded?: boolean;
  /** Settings of the simulated agents (lease renewal, pod start delay, capacity). */
  agents?: Omit<FakeNodeOptions, 'names' | 'labels' | 'annotations' | 'providerID' | 'logger'>;
  /** The simulation's records and its agents'. @default silent */
  logger?: Logger;
}

interface Host {
  agent: FakeNodes;
  facts: NodeFacts;
  dead: boolean;
}

export class FleetSim {
  private readonly adopted = new Set<string>();
  private readonly hosts = new Map<string, Host>();
  private readonly starting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: FleetSimOptions) {}

  private get logger(): Logger {
    return this.opts.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch((err: Error) => this.logger.error(`kumo fleet-sim: ${err.message}`))
        .finally(() => (this.polling = undefined));
    }, this.opts.pollMs ?? 200);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await Promise.all([...this.hosts.values()].map((h) => h.agent.stop()));
  }

  /** Runs an agent on an instance outside the group too. */
  async adopt(instanceId: string): Promise<void> {
    this.adopted.add(instanceId);
    await this.poll();
  }

  /** The instances that have (or had) agents, with the facts their nodes carry. */
  nodes(): Map<string, NodeFacts> {
    return new Map([...this.hosts].map(([id, h]) => [id, h.facts]));
  }

  /** Whether the instance's agent is running (false once the instance ended). */
  alive(instanceId: string): boolean {
    const h = this.hosts.get(instanceId);
    return !!h && !h.dead;
  }

  /** Whether the instance's container instance is registered in the cluster (ACTIVE or DRAINING). */
  async registered(instanceId: string): Promise<boolean> {
    const arn = this.hosts.get(instanceId)?.facts.annotations[ANNOTATION_CONTAINER_INSTANCE];
    if (!arn) return false;
    const res = await this.opts.ecs.send(new ListContainerInstancesCommand({ cluster: this.opts.cluster }));
    return (res.containerInstanceArns ?? []).includes(arn);
  }

  /** One look at the emulator: agents for new running instances, silence for ended ones. */
  async poll(): Promise<void> {
    if (this.stopped) return;
    const ids = new Set(this.adopted);
    if (this.opts.autoScaling && this.opts.groupName) {
      const res = await this.opts.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.opts.groupName] }));
      for (const i of res.AutoScalingGroups?.[0]?.Instances ?? []) if (i.InstanceId) ids.add(i.InstanceId);
    }
    for (const id of this.hosts.keys()) ids.add(id);
    if (ids.size === 0) return;
    const res = await this.opts.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [...ids] }] }));
    const state = new Map<string, { state: string; zone?: string; type?: string }>();
    for (const r of res.Reservations ?? []) {
      for (const i of r.Instances ?? [])
        if (i.InstanceId)
          state.set(i.InstanceId, {
            state: i.State?.Name ?? 'pending',
            ...(i.Placement?.AvailabilityZone ? { zone: i.Placement.AvailabilityZone } : {}),
            ...(i.InstanceType ? { type: i.InstanceType } : {}),
          });
    }
    for (const id of ids) {
      const s = state.get(id);
      const host = this.hosts.get(id);
      const running = s?.state === 'running' || s?.state === 'pending';
      if (running && !host && !this.starting.has(id)) {
        this.starting.add(id);
        try {
          await this.boot(id, s!.zone, s!.type);
        } finally {
          this.starting.delete(id);
        }
      } else if (!running && host && !host.dead) {
        host.dead = true;
        host.agent.stopNode(id);
        this.logger.info(`kumo fleet-sim: instance ${id} is ${s?.state ?? 'gone'}: its agent stopped`);
        const arn = host.facts.annotations[ANNOTATION_CONTAINER_INSTANCE];
        if (arn && this.opts.deregisterEnded !== false) {
          await this.opts.ecs
            .send(new DeregisterContainerInstanceCommand({ cluster: this.opts.cluster, containerInstance: arn, force: true }))
            .catch((err: Error) => this.logger.warn(`kumo fleet-sim: deregister ${arn}: ${err.message}`));
        }
      }
    }
  }

  /** What an ECS host does when it boots: the ECS agent registers the container instance, then the kumo agent starts. */
  private async boot(instanceId: string, zone: string | undefined, instanceType: string | undefined): Promise<void> {
    const { ecs, cluster } = this.opts;
    const region = (await ecs.config.region()) ?? 'us-east-1';
    const doc = JSON.stringify({ instanceId, region, ...(zone ? { availabilityZone: zone } : {}), ...(instanceType ? { instanceType } : {}) });
    const registered = await ecs.send(new RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: doc }));
    const arn = registered.containerInstance?.containerInstanceArn;
    const described = arn ? await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] })) : undefined;
    const facts = factsOfContainerInstance(described?.containerInstances?.[0] ?? registered.containerInstance ?? { ec2InstanceId: instanceId }, zone);
    if (this.stopped) return;
    const agent = new FakeNodes(this.opts.client, {
      ...(this.opts.agents ?? {}),
      names: [instanceId],
      labels: () => facts.labels,
      annotations: () => facts.annotations,
      providerID: () => facts.providerID,
      logger: this.logger,
    });
    this.hosts.set(instanceId, { agent, facts, dead: false });
    await agent.start();
    this.logger.info(`kumo fleet-sim: instance ${instanceId} (${zone ?? '?'}) joined as node ${instanceId}`);
  }
}
