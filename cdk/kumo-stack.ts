/**
 * kumo in one AWS account: the store table, the API server behind a Function
 * URL, the controller manager and the scheduler fed by the table's stream
 * and a one-minute resync schedule (and, for CronJobs, one Scheduler
 * schedule armed at the earliest due time), the tokens in Secrets Manager, alarms,
 * and a node pool of ECS instances running the agent. docs/cloud.md explains
 * the choices; README.md's "Deploying to AWS" how to use it.
 */
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { PodSecurityConfiguration } from '../lib/apiserver/podsecurity/config.js';
import { stackPodSecurity } from '../lib/cloud/config.js';
import { STACK_OUTPUTS } from '../lib/cloud/stack-outputs.js';
import { SETTINGS } from '../lib/config/settings.js';
import { CONTROLLER_FILTERS, SCHEDULER_FILTERS } from '../lib/cloud/stream-filters.js';
import { type Cadence, cadenceSettings } from './cadence.js';
import { concurrencySettings, DEFAULT_RESERVABLE, reservedTotal } from './concurrency.js';
import { ApiEndpoint } from './constructs/api-endpoint.js';
import { CronWakeupSchedules } from './constructs/cron-wakeup.js';
import { DEFAULT_MAX_NODES, NodePool } from './constructs/node-pool.js';
import { NodePoolController } from './constructs/node-pool-controller.js';
import { StoreTable } from './constructs/store-table.js';
import { StreamConsumer } from './constructs/stream-consumer.js';
import { TokenSecret } from './constructs/token-secret.js';

/** The deploy-time admin token's id: its holder is `kumo:token:admin`, whom Pod Security exempts by default. */
export const ADMIN_TOKEN_ID = 'admin';

export interface KumoStackProps extends StackProps {
  /**
   * Protect the table from deletion (it then outlives `cdk destroy`).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Create the node pool. Without it the control plane runs alone and nodes
   * join from anywhere with `kumo agent` and a node token.
   * @default true
   */
  readonly nodePool?: boolean;
  /** @default t4g.small */
  readonly nodeInstanceType?: string;
  /** @default 1 */
  readonly minNodes?: number;
  /** @default 3 */
  readonly maxNodes?: number;
  /** @default minNodes on creation, untouched afterwards */
  readonly desiredNodes?: number;
  /**
   * Let the controllers grow the node pool for pods that fit nowhere and
   * shrink it when nodes sit idle (between minNodes and maxNodes;
   * docs/cloudprovider.md). Draining and terminated-instance cleanup run
   * either way.
   * @default true
   */
  readonly nodeAutoscaling?: boolean;
  /**
   * Put the API function in the nodes' VPC so `kubectl logs` reaches the
   * agents. Costs a Secrets Manager interface endpoint (about $7 a month per
   * availability zone); off, the cluster at rest costs cents.
   * @default false
   */
  readonly podLogs?: boolean;
  /** Email address subscribed to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** Memory of the API function (MB). @default 1024 */
  readonly apiMemorySize?: number;
  /**
   * Encrypt Secrets at rest with data keys from a customer-managed KMS key
   * (lib/store/encryption.ts), on top of DynamoDB's own encryption. A key
   * costs about $1 a month.
   * @default false
   */
  readonly secretsEncryption?: boolean;
  /**
   * How often agents talk to the control plane at rest: `economy` (polls,
   * 60 s leases: cents a month) or `kubernetes` (watches, 10 s leases: about
   * $90 a month per agent in API function time). cdk/cadence.ts.
   * @default economy
   */
  readonly cadence?: Cadence;
  /**
   * CloudWatch metrics of the control loops: the controller and scheduler
   * functions write each invocation's reconciles, errors and durations as
   * EMF to their logs, in namespace `kumo/<stack>` (docs/cloud.md,
   * "Metrics"). Six custom metrics, about $1.80 a month.
   * @default true
   */
  readonly controlLoopMetrics?: boolean;
  /**
   * Pod Security Admission's cluster defaults and exemptions, for the API and
   * the control loops (whose pod creates are admitted like anyone's).
   * @default enforce baseline, warn restricted, the admin token's user exempt (stackPodSecurity)
   */
  readonly podSecurity?: PodSecurityConfiguration;
  /**
   * Reserve concurrency for the controllers and the scheduler and cap the
   * API function's (cdk/concurrency.ts). Turn off only in an account whose
   * concurrency quota is too small to reserve anything (Lambda keeps 100
   * unreserved): the control loops then share the account's pool with
   * everything else, floods at the API included.
   * @default true
   */
  readonly reservedConcurrency?: boolean;
  /**
   * Most API function environments at once: what a flood can occupy and,
   * at Lambda's 10 requests a second per environment, what it can cost.
   * Each watch held open (kubectl get -w, agents with cadence=kubernetes)
   * occupies one for as long as it lasts.
   * @default 50, plus 4 per node (maxNodes) with cadence=kubernetes
   */
  readonly apiConcurrency?: number;
  /**
   * Concurrency reserved for the controllers function: its stream batches
   * (one per shard at a time), the resync and the node pool's events.
   * @default 10
   */
  readonly controllersConcurrency?: number;
  /** Concurrency reserved for the scheduler function (its stream batches and the resync). @default 5 */
  readonly schedulerConcurrency?: number;
}

export class KumoStack extends Stack {
  readonly table: StoreTable;
  readonly api: ApiEndpoint;
  readonly controllers: StreamConsumer;
  /** The schedule group and role of the CronJobs' wake-up. */
  readonly cronWakeup: CronWakeupSchedules;
  readonly scheduler: StreamConsumer;
  readonly adminToken: TokenSecret;
  readonly bootstrapToken: TokenSecret;
  readonly agentToken: TokenSecret | undefined;
  readonly alarmTopic: sns.Topic;
  readonly resync: events.Rule;
  readonly vpc: ec2.Vpc | undefined;
  readonly nodes: NodePool | undefined;
  readonly nodePoolController: NodePoolController | undefined;
  readonly secretsKey: kms.Key | undefined;

  constructor(scope: Construct, id: string, props: KumoStackProps = {}) {
    super(scope, id, props);
    const withNodes = props.nodePool ?? true;
    const cadence = cadenceSettings(props.cadence ?? 'economy');
    const podLogs = (props.podLogs ?? false) && withNodes;
    const concurrency = concurrencySettings({
      reserved: props.reservedConcurrency ?? true,
      watchingAgents: (props.cadence ?? 'economy') === 'kubernetes',
      ...(withNodes ? { maxNodes: props.maxNodes ?? DEFAULT_MAX_NODES } : {}),
      ...(props.apiConcurrency !== undefined ? { api: props.apiConcurrency } : {}),
      ...(props.controllersConcurrency !== undefined ? { controllers: props.controllersConcurrency } : {}),
      ...(props.schedulerConcurrency !== undefined ? { scheduler: props.schedulerConcurrency } : {}),
    });
    const reserved = reservedTotal(concurrency);
    if (!reserved.fitsDefaultQuota) {
      Annotations.of(this).addWarning(
        `the functions reserve ${reserved.total} concurrent executions: more than an account with the default quota of 1,000 may reserve (${DEFAULT_RESERVABLE}); raise the account's quota or lower apiConcurrency`,
      );
    }

    this.table = new StoreTable(this, 'Store', { deletionProtection: props.deletionProtection ?? true });
    const table = this.table.table;
    this.alarmTopic = new sns.Topic(this, 'Alarms', { displayName: `kumo ${id} alarms` });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.adminToken = new TokenSecret(this, 'AdminToken', { tokenId: ADMIN_TOKEN_ID, description: `kumo ${id}: the cluster admin bearer token` });
    this.bootstrapToken = new TokenSecret(this, 'BootstrapToken', {
      tokenId: 'bootstrap',
      description: `kumo ${id}: the node pool's bootstrap token (enrolls new nodes only)`,
    });
    this.agentToken = podLogs
      ? new TokenSecret(this, 'AgentToken', { tokenId: 'agent', description: `kumo ${id}: what agents require from the API server for logs` })
      : undefined;

    let apiSecurityGroup: ec2.SecurityGroup | undefined;
    if (withNodes) {
      this.vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [
          { name: 'nodes', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          ...(podLogs ? [{ name: 'api', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }] : []),
        ],
      });
      if (podLogs) {
        // The API function in isolated subnets reaches DynamoDB and Secrets Manager through endpoints, not the internet.
        this.vpc.addGatewayEndpoint('DynamoDb', {
          service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
          subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
        });
        this.vpc.addInterfaceEndpoint('SecretsManager', {
          service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
          subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        });
        apiSecurityGroup = new ec2.SecurityGroup(this, 'ApiSecurityGroup', { vpc: this.vpc, description: 'kumo API function', allowAllOutbound: true });
      }
    }

    if (props.secretsEncryption) {
      this.secretsKey = new kms.Key(this, 'SecretsKey', {
        description: `kumo ${id}: wraps the data keys Secrets are encrypted with`,
        enableKeyRotation: true,
        // The table outlives the stack when protected; so must the key that opens its Secrets.
        removalPolicy: (props.deletionProtection ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      if (podLogs && this.vpc)
        this.vpc.addInterfaceEndpoint('Kms', { service: ec2.InterfaceVpcEndpointAwsService.KMS, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    }
    const common: Record<string, string> = {
      [SETTINGS.table.env]: table.tableName,
      [SETTINGS.podSecurity.env]: JSON.stringify(props.podSecurity ?? stackPodSecurity(ADMIN_TOKEN_ID)),
      ...(this.secretsKey ? { [SETTINGS.secretsKmsKey.env]: this.secretsKey.keyArn } : {}),
    };
    this.api = new ApiEndpoint(this, 'Api', {
      table,
      adminToken: this.adminToken,
      bootstrapToken: this.bootstrapToken,
      ...(this.agentToken ? { agentToken: this.agentToken } : {}),
      alarmTopic: this.alarmTopic,
      environment: common,
      ...(concurrency.api !== undefined ? { maxConcurrency: concurrency.api } : {}),
      ...(props.apiMemorySize ? { memorySize: props.apiMemorySize } : {}),
      ...(podLogs && this.vpc && apiSecurityGroup
        ? { vpc: this.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: [apiSecurityGroup] }
        : {}),
    });

    // Powertools Metrics' settings: the functions publish only where a namespace is set (lib/cloud/reconcile-metrics.ts).
    const loopMetrics = (service: string): Record<string, string> =>
      (props.controlLoopMetrics ?? true) ? { [SETTINGS.metricsNamespace.env]: `kumo/${id}`, [SETTINGS.serviceName.env]: service } : {};
    // Two consumers: DynamoDB Streams serves at most two readers per shard, and watches read the change log by Query, not the stream.
    // CronJobs fire from one Scheduler schedule the controllers arm at the earliest due time, not from a poll.
    this.cronWakeup = new CronWakeupSchedules(this, 'CronJobWakeup');
    this.controllers = new StreamConsumer(this, 'Controllers', {
      entry: 'controllers',
      description: 'kumo controller manager (stream-driven reconciles, scheduled resync and compaction)',
      table,
      filters: CONTROLLER_FILTERS,
      environment: { ...common, ...cadence.controllers, ...loopMetrics('controllers'), ...this.cronWakeup.environment },
      alarmTopic: this.alarmTopic,
      compaction: true,
      ...(concurrency.controllers !== undefined ? { reservedConcurrency: concurrency.controllers } : {}),
    });
    this.cronWakeup.allow(this.controllers.fn);
    this.scheduler = new StreamConsumer(this, 'Scheduler', {
      entry: 'scheduler',
      description: 'kumo scheduler (binds pods to nodes)',
      table,
      filters: SCHEDULER_FILTERS,
      environment: { ...common, ...loopMetrics('scheduler') },
      alarmTopic: this.alarmTopic,
      ...(concurrency.scheduler !== undefined ? { reservedConcurrency: concurrency.scheduler } : {}),
    });

    // Every function reads Secrets (the API, the agents' volumes through it, the controllers' in-process API):
    // data keys only for this store, by the encryption context the store sends (lib/cloud/kms-keys.ts).
    if (this.secretsKey) {
      for (const fn of [this.api.fn, this.controllers.fn, this.scheduler.fn]) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [this.secretsKey.keyArn],
            conditions: { StringEquals: { 'kms:EncryptionContext:kumo.io/store': table.tableName } },
          }),
        );
      }
    }

    // Level-triggered repair: every key of every loop once a minute (lost batches, requeues longer than an invocation, node leases).
    this.resync = new events.Rule(this, 'Resync', { schedule: events.Schedule.rate(Duration.minutes(1)), description: 'kumo: resync the control loops' });
    for (const c of [this.controllers, this.scheduler]) {
      this.resync.addTarget(new targets.LambdaFunction(c.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }));
    }

    if (withNodes && this.vpc) {
      this.nodes = new NodePool(this, 'Nodes', {
        vpc: this.vpc,
        apiUrl: this.api.url.url,
        bootstrapToken: this.bootstrapToken,
        ...(this.agentToken ? { agentToken: this.agentToken } : {}),
        ...(apiSecurityGroup ? { apiSecurityGroup } : {}),
        ...(props.nodeInstanceType ? { instanceType: new ec2.InstanceType(props.nodeInstanceType) } : {}),
        ...(props.minNodes !== undefined ? { minNodes: props.minNodes } : {}),
        ...(props.maxNodes !== undefined ? { maxNodes: props.maxNodes } : {}),
        ...(props.desiredNodes !== undefined ? { desiredNodes: props.desiredNodes } : {}),
        agentEnvironment: cadence.agent,
      });
      // The cloud provider's reconcilers run in the controller function: the fleet, its permissions and its events.
      this.nodePoolController = new NodePoolController(this, 'NodePoolController', {
        fn: this.controllers.fn,
        nodePool: this.nodes,
        autoscaling: props.nodeAutoscaling ?? true,
      });
    }

    const out = (key: string, value: string, description: string) => new CfnOutput(this, key, { value, description });
    out(STACK_OUTPUTS.apiUrl, this.api.url.url, 'The Kubernetes API server (kumo kubeconfig --stack writes a context for it)');
    out(STACK_OUTPUTS.adminTokenSecretArn, this.adminToken.secret.secretArn, 'Secrets Manager secret with the admin token: {"id","secret"} → <id>.<secret>');
    out(STACK_OUTPUTS.tableName, table.tableName, 'The store table');
    out(STACK_OUTPUTS.alarmTopicArn, this.alarmTopic.topicArn, 'SNS topic of the alarms');
    if (this.nodes) {
      out(STACK_OUTPUTS.clusterName, this.nodes.cluster.clusterName, 'ECS cluster of the node pool');
      out(
        STACK_OUTPUTS.nodeGroupName,
        this.nodes.autoScalingGroup.autoScalingGroupName,
        'Auto Scaling group of the node pool (scale it to add or remove nodes)',
      );
    }
  }
}
