/**
 * Worker nodes: an ECS cluster on an EC2 Auto Scaling group (ECS-optimized
 * Amazon Linux 2023), with the kumo agent as a DAEMON service, one per
 * instance. The agent drives the instance's Docker engine through its
 * socket, like a kubelet. It starts with the node pool's bootstrap token
 * (injected by ECS from Secrets Manager), enrolls once for a token of its
 * own, kept on the instance, and from then on acts as `system:node:<instance
 * id>` (lib/cli/node-agent.ts). Pods are not ECS tasks: ECS only keeps one
 * agent running per instance; scaling the group adds or removes nodes.
 *
 * Scale-in waits for the node to drain: the group's termination lifecycle
 * hook (`kumo-drain`) holds an instance until the controllers have evicted
 * its pods and completed the hook (lib/cloudprovider/drain.ts), or until its
 * heartbeat timeout, after which the instance goes on anyway.
 *
 * Instances sit in public subnets with public IPs, so the pool needs no NAT
 * gateway (nothing listens on them from outside: the security group admits
 * only the API function, and only when it is in the VPC).
 */
import { readFileSync } from 'node:fs';
import { Duration, IgnoreMode, RemovalPolicy } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SETTINGS } from '../../lib/config/settings.js';
import { Construct } from 'constructs';
import { repoPath } from '../paths.js';
import type { TokenSecret } from './token-secret.js';

export interface NodePoolProps {
  readonly vpc: ec2.IVpc;
  /** The API server URL the agents talk to. */
  readonly apiUrl: string;
  /** The pool's shared bootstrap token (enrollment only). */
  readonly bootstrapToken: TokenSecret;
  /** The token agents require from the API server on their logs/exec endpoint. @default endpoint not served */
  readonly agentToken?: TokenSecret;
  /** Admitted to the agents' logs/exec port. @default nobody */
  readonly apiSecurityGroup?: ec2.ISecurityGroup;
  /** @default t4g.small (Graviton: the image is built for the instance type's architecture) */
  readonly instanceType?: ec2.InstanceType;
  /** @default 1 */
  readonly minNodes?: number;
  /** @default 3 */
  readonly maxNodes?: number;
  /** Nodes to start with; later deploys leave the group's current size alone when unset. @default minNodes */
  readonly desiredNodes?: number;
  /** The agents' logs/exec port. @default 10250 */
  readonly agentPort?: number;
  /** How long a terminating instance waits for its node to drain before it goes anyway. @default 10 minutes */
  readonly drainTimeout?: Duration;
  /** More environment for the agent container (the stack's cadence, cdk/cadence.ts). @default none */
  readonly agentEnvironment?: Record<string, string>;
}

/** The agent image's build context: the repository, narrowed by the Dockerfile's own ignore file. */
function agentImageExcludes(): string[] {
  return readFileSync(repoPath('docker', 'agent', 'Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export const AGENT_DATA_DIR = '/var/lib/kumo';
/** The group's size limit when the stack names none (the API's concurrency cap is sized from it too). */
export const DEFAULT_MAX_NODES = 3;

export class NodePool extends Construct {
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly service: ecs.Ec2Service;
  readonly securityGroup: ec2.SecurityGroup;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** The group's termination lifecycle hook the controllers complete once a node is drained. */
  readonly drainHookName = 'kumo-drain';

  constructor(scope: Construct, id: string, props: NodePoolProps) {
    super(scope, id);
    const instanceType = props.instanceType ?? new ec2.InstanceType('t4g.small');
    const arm = instanceType.architecture === ec2.InstanceArchitecture.ARM_64;
    const agentPort = props.agentPort ?? 10250;

    this.securityGroup = new ec2.SecurityGroup(this, 'Nodes', { vpc: props.vpc, description: 'kumo nodes', allowAllOutbound: true });
    if (props.apiSecurityGroup && props.agentToken) {
      this.securityGroup.addIngressRule(props.apiSecurityGroup, ec2.Port.tcp(agentPort), 'the API server reaches agents for logs');
    }

    const role = new iam.Role(this, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType,
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(arm ? ecs.AmiHardwareType.ARM : ecs.AmiHardwareType.STANDARD),
      userData: ec2.UserData.forLinux(),
      role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      // The agent uses the host's network: one hop to the instance metadata service is enough.
      httpPutResponseHopLimit: 1,
      associatePublicIpAddress: true,
    });
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: props.minNodes ?? 1,
      maxCapacity: props.maxNodes ?? DEFAULT_MAX_NODES,
      ...(props.desiredNodes !== undefined ? { desiredCapacity: props.desiredNodes } : {}),
    });

    this.autoScalingGroup.addLifecycleHook('DrainHook', {
      lifecycleHookName: this.drainHookName,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: props.drainTimeout ?? Duration.minutes(10),
      // A controller that never answers must not keep the pool from shrinking.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc });
    // Pods are not ECS tasks, so ECS cannot size the group for them: no managed scaling.
    const capacity = new ecs.AsgCapacityProvider(this, 'Capacity', {
      autoScalingGroup: this.autoScalingGroup,
      enableManagedScaling: false,
      enableManagedTerminationProtection: false,
      // ECS drains instances itself; no lifecycle-hook function of CDK's (the only task is the agent anyway).
      enableManagedDraining: true,
    });
    this.cluster.addAsgCapacityProvider(capacity);

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Agent', { networkMode: ecs.NetworkMode.HOST });
    this.taskDefinition.addVolume({ name: 'docker-socket', host: { sourcePath: '/var/run/docker.sock' } });
    this.taskDefinition.addVolume({ name: 'agent-data', host: { sourcePath: AGENT_DATA_DIR } });
    // The agent names its node after its EC2 instance, found through the ECS API (lib/cloud/ecs-host.ts).
    this.taskDefinition.addToTaskRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:DescribeContainerInstances'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    const logGroup = new logs.LogGroup(this, 'AgentLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const agentLinux = new ecs.LinuxParameters(this, 'AgentLinuxParameters');
    agentLinux.addCapabilities(ecs.Capability.NET_ADMIN);
    const container = this.taskDefinition.addContainer('agent', {
      image: ecs.ContainerImage.fromAsset(repoPath(), {
        file: 'docker/agent/Dockerfile',
        exclude: agentImageExcludes(),
        ignoreMode: IgnoreMode.DOCKER,
        platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      }),
      memoryReservationMiB: 256,
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'agent', logGroup }),
      environment: {
        [SETTINGS.server.env]: props.apiUrl,
        [SETTINGS.dataDir.env]: AGENT_DATA_DIR,
        [SETTINGS.runtime.env]: 'docker',
        [SETTINGS.agentPort.env]: String(agentPort),
        ...props.agentEnvironment,
      },
      secrets: {
        [SETTINGS.bootstrapTokenSecret.env]: ecs.Secret.fromSecretsManager(props.bootstrapToken.secret),
        ...(props.agentToken ? { [SETTINGS.agentTokenSecret.env]: ecs.Secret.fromSecretsManager(props.agentToken.secret) } : {}),
      },
      stopTimeout: Duration.seconds(30),
      // NET_ADMIN: the agent adds node-local addresses to the host's `lo` (host network): the cluster DNS
      // server's 169.254.20.10 and the proxy's ClusterIPs. It holds the Docker socket already, which is more.
      linuxParameters: agentLinux,
    });
    container.addMountPoints(
      { containerPath: '/var/run/docker.sock', sourceVolume: 'docker-socket', readOnly: false },
      { containerPath: AGENT_DATA_DIR, sourceVolume: 'agent-data', readOnly: false },
    );

    this.service = new ecs.Ec2Service(this, 'AgentService', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      daemon: true,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
    });
  }
}
