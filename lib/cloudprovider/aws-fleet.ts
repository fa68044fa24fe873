/**
 * CloudFleet over the AWS SDK (EC2, ECS, Auto Scaling), with the clients
 * injected. Answers are cached for a few seconds and concurrent questions
 * share one request: a resync reconciles every node at once, and each asks
 * about its own instance, so N nodes cost one DescribeInstances (and one
 * ListContainerInstances + DescribeContainerInstances per 100), not N.
 */
import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, type ECSClient, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { CloudFleet, ContainerInstanceInfo, GroupInfo, InstanceInfo } from './fleet.js';

export interface AwsFleetOptions {
  ec2: EC2Client;
  /** With `cluster`: the node pool's ECS cluster (DRAINING container instances drain their nodes). */
  ecs?: ECSClient;
  cluster?: string;
  /** With `groupName`: the node pool's Auto Scaling group (grown and shrunk by the autoscaler). */
  autoScaling?: AutoScalingClient;
  groupName?: string;
  /** The group's termination lifecycle hook kumo completes once a node is drained. */
  lifecycleHook?: string;
  /** How long an answer is reused. @default 5 s */
  maxAgeMs?: number;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

const DESCRIBE_BATCH = 100;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class AwsFleet implements CloudFleet {
  readonly groupName: string | undefined;
  readonly lifecycleHook: string | undefined;
  private readonly maxAgeMs: number;
  private readonly instanceCache = new Map<string, { at: number; info: InstanceInfo | undefined }>();
  /** Instance ids asked for in this tick, described together. */
  private batch: { ids: Set<string>; done: Promise<void> } | undefined;
  private containerCache: Cached<Map<string, ContainerInstanceInfo>> | undefined;
  private groupCache: Cached<GroupInfo | undefined> | undefined;

  constructor(private readonly opts: AwsFleetOptions) {
    this.groupName = opts.autoScaling ? opts.groupName : undefined;
    this.lifecycleHook = this.groupName ? opts.lifecycleHook : undefined;
    this.maxAgeMs = opts.maxAgeMs ?? 5_000;
  }

  invalidate(): void {
    this.instanceCache.clear();
    this.containerCache = undefined;
    this.groupCache = undefined;
  }

  async instances(ids: readonly string[]): Promise<Map<string, InstanceInfo>> {
    const now = Date.now();
    const stale = ids.filter((id) => {
      const c = this.instanceCache.get(id);
      return !c || now - c.at > this.maxAgeMs;
    });
    if (stale.length > 0) await this.describe(stale);
    const out = new Map<string, InstanceInfo>();
    for (const id of ids) {
      const info = this.instanceCache.get(id)?.info;
      if (info) out.set(id, info);
    }
    return out;
  }

  /** Joins this tick's batch (one DescribeInstances per 100 ids for every caller of the tick). */
  private describe(ids: string[]): Promise<void> {
    let batch = this.batch;
    if (!batch) {
      const set = new Set<string>();
      batch = {
        ids: set,
        done: new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
          this.batch = undefined;
          const at = Date.now();
          const found = new Map<string, InstanceInfo>();
          for (const part of chunks([...set], DESCRIBE_BATCH)) {
            let token: string | undefined;
            do {
              // A filter (unlike InstanceIds) answers for the ids that exist and ignores the rest.
              const res = await this.opts.ec2.send(
                new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: part }], ...(token ? { NextToken: token } : {}) }),
              );
              for (const r of res.Reservations ?? []) {
                for (const i of r.Instances ?? []) {
                  if (!i.InstanceId) continue;
                  found.set(i.InstanceId, {
                    instanceId: i.InstanceId,
                    state: i.State?.Name ?? 'pending',
                    ...(i.Placement?.AvailabilityZone ? { zone: i.Placement.AvailabilityZone } : {}),
                    ...(i.InstanceType ? { instanceType: i.InstanceType } : {}),
                    ...(i.LaunchTime ? { launchTime: i.LaunchTime.getTime() } : {}),
                  });
                }
              }
              token = res.NextToken;
            } while (token);
          }
          for (const id of set) this.instanceCache.set(id, { at, info: found.get(id) });
        }),
      };
      this.batch = batch;
    }
    for (const id of ids) batch.ids.add(id);
    return batch.done;
  }

  containerInstances(): Promise<Map<string, ContainerInstanceInfo>> {
    const { ecs, cluster } = this.opts;
    if (!ecs || !cluster) return Promise.resolve(new Map());
    if (this.containerCache && Date.now() - this.containerCache.at <= this.maxAgeMs) return this.containerCache.value;
    const value = (async () => {
      const arns: string[] = [];
      let token: string | undefined;
      do {
        const res = await ecs.send(new ListContainerInstancesCommand({ cluster, ...(token ? { nextToken: token } : {}) }));
        arns.push(...(res.containerInstanceArns ?? []));
        token = res.nextToken;
      } while (token);
      const out = new Map<string, ContainerInstanceInfo>();
      for (const part of chunks(arns, DESCRIBE_BATCH)) {
        const res = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: part }));
        for (const ci of res.containerInstances ?? []) {
          if (!ci.ec2InstanceId || !ci.containerInstanceArn) continue;
          out.set(ci.ec2InstanceId, {
            arn: ci.containerInstanceArn,
            instanceId: ci.ec2InstanceId,
            status: ci.status ?? 'ACTIVE',
            agentConnected: ci.agentConnected ?? false,
          });
        }
      }
      return out;
    })();
    this.containerCache = { at: Date.now(), value };
    // A failed answer is not reused.
    value.catch(() => {
      if (this.containerCache?.value === value) this.containerCache = undefined;
    });
    return value;
  }

  group(): Promise<GroupInfo | undefined> {
    const { autoScaling } = this.opts;
    const name = this.groupName;
    if (!autoScaling || !name) return Promise.resolve(undefined);
    if (this.groupCache && Date.now() - this.groupCache.at <= this.maxAgeMs) return this.groupCache.value;
    const value = (async (): Promise<GroupInfo | undefined> => {
      const res = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
      const g = res.AutoScalingGroups?.[0];
      if (!g) return undefined;
      return {
        name,
        min: g.MinSize ?? 0,
        max: g.MaxSize ?? 0,
        desired: g.DesiredCapacity ?? 0,
        instances: (g.Instances ?? []).flatMap((i) =>
          i.InstanceId
            ? [{ instanceId: i.InstanceId, lifecycleState: i.LifecycleState ?? 'InService', ...(i.AvailabilityZone ? { zone: i.AvailabilityZone } : {}) }]
            : [],
        ),
      };
    })();
    this.groupCache = { at: Date.now(), value };
    value.catch(() => {
      if (this.groupCache?.value === value) this.groupCache = undefined;
    });
    return value;
  }

  private requireGroup(): { autoScaling: AutoScalingClient; name: string } {
    if (!this.opts.autoScaling || !this.groupName) throw new Error('no Auto Scaling group is configured');
    return { autoScaling: this.opts.autoScaling, name: this.groupName };
  }

  async setDesiredCapacity(desired: number): Promise<void> {
    const { autoScaling, name } = this.requireGroup();
    await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: desired, HonorCooldown: false }));
    this.groupCache = undefined;
  }

  async terminateInGroup(instanceId: string, decrementDesired: boolean): Promise<void> {
    const { autoScaling } = this.requireGroup();
    await autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesired }));
    this.invalidate();
  }

  async completeLifecycleAction(instanceId: string): Promise<void> {
    const { autoScaling, name } = this.requireGroup();
    if (!this.lifecycleHook) throw new Error('no lifecycle hook is configured');
    try {
      await autoScaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: name,
          LifecycleHookName: this.lifecycleHook,
          InstanceId: instanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
    } catch (err) {
      // Completed already (by an earlier reconcile whose answer was lost, or another process): the instance goes on anyway.
      if (!((err as Error).name === 'ValidationError' && /No active Lifecycle Action/i.test((err as Error).message))) throw err;
    }
    this.groupCache = undefined;
  }
}
