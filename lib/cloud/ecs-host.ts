/**
 * What the node agent learns about its host on the ECS node pool: its node
 * name (the EC2 instance id), its providerID (`aws:///<zone>/<instance-id>`),
 * the labels Kubernetes puts on cloud nodes (instance type, zone, region,
 * arch, os) and the container instance ARN as an annotation
 * (lib/cloudprovider/node-facts.ts). It asks the ECS task metadata endpoint
 * for its task, then the ECS API for the container instance the task runs on.
 * Outside ECS (no metadata endpoint) the name comes from KUMO_NODE_NAME, else
 * the host name.
 */
import { hostname } from 'node:os';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { factsOfContainerInstance } from '../cloudprovider/node-facts.js';
import { type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';

export interface HostFacts {
  nodeName: string;
  labels: Record<string, string>;
  /** On an EC2 host: `aws:///<zone>/<instance-id>`. */
  providerID?: string;
  annotations?: Record<string, string>;
}

export interface DiscoverOptions {
  env: Env;
  /** @default a client with the SDK's default configuration */
  ecs?: ECSClient;
  /** @default global fetch */
  fetch?: typeof fetch;
}

export class HostDiscoveryError extends Error {
  override name = 'HostDiscoveryError';
}

interface TaskMetadata {
  Cluster?: string;
  TaskARN?: string;
  AvailabilityZone?: string;
}

export async function discoverHost(opts: DiscoverOptions): Promise<HostFacts> {
  const env = opts.env;
  const nodeName = readSetting(env, SETTINGS.nodeName);
  if (nodeName) return { nodeName, labels: {} };
  const metadataUri = readSetting(env, SETTINGS.ecsMetadataUri);
  if (!metadataUri) return { nodeName: hostname().toLowerCase(), labels: {} };

  const res = await (opts.fetch ?? fetch)(`${metadataUri}/task`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new HostDiscoveryError(`ECS task metadata answered ${res.status}`);
  const task = (await res.json()) as TaskMetadata;
  if (!task.Cluster || !task.TaskARN) throw new HostDiscoveryError('ECS task metadata names no cluster or task');

  const { ECSClient: Client, DescribeTasksCommand, DescribeContainerInstancesCommand } = await import('@aws-sdk/client-ecs');
  const ecs = opts.ecs ?? new Client({});
  try {
    const tasks = await ecs.send(new DescribeTasksCommand({ cluster: task.Cluster, tasks: [task.TaskARN] }));
    const instanceArn = tasks.tasks?.[0]?.containerInstanceArn;
    if (!instanceArn) throw new HostDiscoveryError(`task ${task.TaskARN} runs on no container instance (not the EC2 launch type?)`);
    const described = await ecs.send(new DescribeContainerInstancesCommand({ cluster: task.Cluster, containerInstances: [instanceArn] }));
    const instance = described.containerInstances?.[0];
    if (!instance?.ec2InstanceId) throw new HostDiscoveryError(`container instance ${instanceArn} has no EC2 instance id`);
    const facts = factsOfContainerInstance(instance, task.AvailabilityZone);
    const clusterName = task.Cluster.split('/').pop()!;
    const labels: Record<string, string> = {
      ...facts.labels,
      ...(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(clusterName) ? { 'kumo.io/ecs-cluster': clusterName } : {}),
    };
    return {
      nodeName: instance.ec2InstanceId.toLowerCase(),
      labels,
      ...(facts.providerID ? { providerID: facts.providerID } : {}),
      annotations: facts.annotations,
    };
  } finally {
    if (!opts.ecs) ecs.destroy();
  }
}
