/**
 * The node fleet as the cloud sees it: EC2 instances, the ECS cluster's
 * container instances and the Auto Scaling group, behind one narrow
 * interface so the reconcilers never hold an AWS client themselves (the
 * cloud functions inject lib/cloudprovider/aws-fleet.ts; `kumo up` runs
 * without any).
 */

/** EC2 instance states (DescribeInstances' `State.Name`). */
export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface InstanceInfo {
  instanceId: string;
  state: InstanceStateName | string;
  zone?: string;
  instanceType?: string;
  /** ms since the epoch */
  launchTime?: number;
}

export interface ContainerInstanceInfo {
  arn: string;
  instanceId: string;
  /** ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED, INACTIVE */
  status: string;
  agentConnected: boolean;
}

export interface GroupInstance {
  instanceId: string;
  /** Pending, InService, Terminating:Wait, Terminating:Proceed, ... */
  lifecycleState: string;
  zone?: string;
}

export interface GroupInfo {
  name: string;
  min: number;
  max: number;
  desired: number;
  instances: GroupInstance[];
}

export interface CloudFleet {
  /** The Auto Scaling group of the nodes, when one is configured. */
  readonly groupName?: string | undefined;
  /** The group's termination lifecycle hook that waits for a node to drain, when one is configured. */
  readonly lifecycleHook?: string | undefined;
  /** EC2 facts of these instances. An id missing from the answer no longer exists. */
  instances(ids: readonly string[]): Promise<Map<string, InstanceInfo>>;
  /** The cluster's container instances (all states but INACTIVE), by EC2 instance id; empty without an ECS cluster. */
  containerInstances(): Promise<Map<string, ContainerInstanceInfo>>;
  /** The group, or undefined when none is configured. */
  group(): Promise<GroupInfo | undefined>;
  setDesiredCapacity(desired: number): Promise<void>;
  /** Terminates one instance of the group, optionally lowering its desired capacity (so it is not replaced). */
  terminateInGroup(instanceId: string, decrementDesired: boolean): Promise<void>;
  /** Lets a terminating instance go on (CONTINUE) through the configured hook. */
  completeLifecycleAction(instanceId: string): Promise<void>;
  /** Forgets cached answers (after this process changed the fleet). */
  invalidate(): void;
}

/** Instance states in which the machine is gone or going, never to run the agent again. */
export function instanceGone(info: InstanceInfo | undefined): boolean {
  return !info || info.state === 'terminated' || info.state === 'shutting-down';
}

export function instanceStopped(info: InstanceInfo | undefined): boolean {
  return info?.state === 'stopped' || info?.state === 'stopping';
}
