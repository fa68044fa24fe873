/**
 * Every environment variable kumo reads, declared once: its name, the kind
 * of value (values.ts: type and unit), its default, who sets it, who reads
 * it, the `kumo` flag that sets the same thing (sharing the parser) and
 * what it does. The CDK stack takes the names from here; read.ts reads them;
 * docs/configuration.md's table is this list (a test keeps them equal, and
 * another that the stack sets exactly the `KUMO_*` settings marked
 * `setBy: 'stack'`).
 *
 * No default means unset leaves the choice to the code that reads it (its
 * own default, named in the doc); an empty variable counts as unset.
 */
import {
  boolean,
  duration,
  ipv4Cidr,
  ipv4OrNone,
  json,
  milliseconds,
  oneOf,
  oneOfUpper,
  port,
  positiveSeconds,
  seconds,
  text,
  type ValueType,
} from './values.js';

/** The processes that read settings. */
export type Reader = 'api' | 'controllers' | 'scheduler' | 'node agent' | 'kumo up' | 'kumo agent' | 'kumo CLI' | 'simulators';

export interface Setting<T = unknown> {
  /** The environment variable. */
  readonly env: string;
  readonly type: ValueType<T>;
  /** The text unset means, parsed like a value. */
  readonly default?: string;
  /** The flag (of `kumo up` or `kumo agent`, or `kumo token enroll`) that sets the same thing. */
  readonly flag?: string;
  /** Who sets it in a deployment: the CDK stack, AWS itself, or whoever runs kumo. */
  readonly setBy: 'stack' | 'aws' | 'user';
  readonly readBy: readonly Reader[];
  readonly doc: string;
}

/** Powertools' log levels (case-insensitive in the variables and `--log-level`). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const FUNCTIONS: readonly Reader[] = ['api', 'controllers', 'scheduler'];
const CONTROL_LOOPS: readonly Reader[] = ['controllers', 'scheduler'];

export const SETTINGS = {
  // The store (lib/cloud/store-from-env.ts).
  table: { env: 'KUMO_TABLE', type: text, setBy: 'stack', readBy: FUNCTIONS, doc: 'The DynamoDB table of the store.' },
  sqlitePath: {
    env: 'KUMO_SQLITE_PATH',
    type: text,
    setBy: 'user',
    readBy: FUNCTIONS,
    doc: 'A SQLite file (or `:memory:`) as the store instead of the table, to run the function code locally and in tests.',
  },
  secretsKmsKey: {
    env: 'KUMO_SECRETS_KMS_KEY',
    type: text,
    setBy: 'stack',
    readBy: FUNCTIONS,
    doc: 'A KMS key id or ARN: Secrets are encrypted at rest with data keys from it (docs/services.md). Unset: not encrypted.',
  },

  // The API's authentication and flow control (lib/cloud/api-from-env.ts).
  auth: {
    env: 'KUMO_AUTH',
    type: oneOf(['tokens', 'none']),
    setBy: 'stack',
    readBy: ['api'],
    doc: '`tokens`: bearer tokens (lib/auth); `none`: no authentication. Unset: `tokens` whenever `KUMO_TABLE` is set, so a deployed API never runs open by omission.',
  },
  adminTokenSecretArn: {
    env: 'KUMO_ADMIN_TOKEN_SECRET_ARN',
    type: text,
    setBy: 'stack',
    readBy: ['api'],
    doc: 'The deploy-time admin token (Secrets Manager).',
  },
  bootstrapTokenSecretArn: {
    env: 'KUMO_BOOTSTRAP_TOKEN_SECRET_ARN',
    type: text,
    setBy: 'stack',
    readBy: ['api'],
    doc: "The node pool's bootstrap token (Secrets Manager).",
  },
  tokenKeySecretArn: {
    env: 'KUMO_TOKEN_KEY_SECRET_ARN',
    type: text,
    setBy: 'stack',
    readBy: ['api'],
    doc: "The key of the stored tokens' MACs (Secrets Manager); required with token authentication (lib/auth/token-mac.ts).",
  },
  serviceAccountKeySecretArn: {
    env: 'KUMO_SERVICE_ACCOUNT_KEY_SECRET_ARN',
    type: text,
    setBy: 'stack',
    readBy: ['api'],
    doc: 'The random string the ServiceAccount token signing key is derived from (Secrets Manager; lib/auth/serviceaccount/signing-key.ts). Unset: no TokenRequest and no ServiceAccount tokens.',
  },
  serviceAccountMaxTokenExpiration: {
    env: 'KUMO_SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION',
    type: positiveSeconds,
    setBy: 'user',
    readBy: ['api'],
    doc: "The longest token a TokenRequest gets, longer requests are shortened (kube-apiserver's --service-account-max-token-expiration). Unset: no maximum.",
  },
  agentTokenSecretArn: {
    env: 'KUMO_AGENT_TOKEN_SECRET_ARN',
    type: text,
    setBy: 'stack',
    readBy: ['api'],
    doc: "The token agents accept for logs and exec (Secrets Manager); set when the API function runs in the agents' VPC. Unset: no logs or exec.",
  },
  flowBurst: {
    env: 'KUMO_FLOW_BURST_MS',
    type: milliseconds,
    setBy: 'user',
    readBy: ['api'],
    doc: 'API time a caller may use at once before flow control holds it to its share (lib/apiserver/flow-control.ts; its default 5000).',
  },
  watchPoll: {
    env: 'KUMO_WATCH_POLL_SECONDS',
    type: positiveSeconds,
    default: '10',
    setBy: 'user',
    readBy: ['api'],
    doc: 'How long a buffered watch (a long-poll) is held open.',
  },

  // Admission and the control loops (lib/cloud/config.ts).
  podSecurity: {
    env: 'KUMO_POD_SECURITY',
    type: json('a PodSecurityConfiguration in JSON'),
    setBy: 'stack',
    readBy: FUNCTIONS,
    doc: "Pod Security Admission's defaults and exemptions: a PodSecurityConfiguration (or AdmissionConfiguration). Unset: everything privileged.",
  },
  serviceClusterIPRange: {
    env: 'KUMO_SERVICE_CLUSTER_IP_RANGE',
    type: ipv4Cidr,
    setBy: 'user',
    readBy: FUNCTIONS,
    doc: "Where Services' ClusterIPs come from (kube-apiserver's --service-cluster-ip-range; its default 10.96.0.0/12); the `kubernetes` Service takes the first address.",
  },
  defaultTolerationSeconds: {
    env: 'KUMO_DEFAULT_TOLERATION_SECONDS',
    type: seconds,
    setBy: 'user',
    readBy: FUNCTIONS,
    doc: "DefaultTolerationSeconds admission's toleration of not-ready and unreachable nodes (its default 300).",
  },
  nodeGrace: {
    env: 'KUMO_NODE_GRACE_SECONDS',
    type: seconds,
    setBy: 'stack',
    readBy: CONTROL_LOOPS,
    doc: "Lease age before a node is unreachable (the node lifecycle's default 40; the economy cadence sets 240).",
  },
  jobBackoff: {
    env: 'KUMO_JOB_BACKOFF_MS',
    type: milliseconds,
    setBy: 'user',
    readBy: CONTROL_LOOPS,
    doc: "First delay before failed Job pods are re-created (the Job controller's default 10000).",
  },

  // The CronJobs' wake-up (lib/cloud/cron-wakeup.ts): without both, CronJobs run at the scheduled resync.
  cronScheduleGroup: {
    env: 'KUMO_CRON_SCHEDULE_GROUP',
    type: text,
    setBy: 'stack',
    readBy: ['controllers'],
    doc: 'The EventBridge Scheduler group holding the one schedule that invokes the controllers function when the earliest CronJob is due.',
  },
  cronSchedulerRoleArn: {
    env: 'KUMO_CRON_SCHEDULER_ROLE_ARN',
    type: text,
    setBy: 'stack',
    readBy: ['controllers'],
    doc: 'The role EventBridge Scheduler assumes to invoke the controllers function for the CronJobs.',
  },

  // The cloud provider (lib/cloudprovider/config.ts): without a cluster or group it does not run.
  ecsCluster: { env: 'KUMO_ECS_CLUSTER', type: text, setBy: 'stack', readBy: ['controllers'], doc: "The node pool's ECS cluster (name or ARN)." },
  nodeGroup: { env: 'KUMO_NODE_GROUP', type: text, setBy: 'stack', readBy: ['controllers'], doc: "The node pool's Auto Scaling group." },
  nodeLifecycleHook: {
    env: 'KUMO_NODE_LIFECYCLE_HOOK',
    type: text,
    setBy: 'stack',
    readBy: ['controllers'],
    doc: "The group's termination hook kumo completes once a node is drained.",
  },
  nodeAutoscaling: {
    env: 'KUMO_NODE_AUTOSCALING',
    type: boolean,
    default: 'true',
    setBy: 'stack',
    readBy: ['controllers'],
    doc: "`false` turns the node pool's autoscaler off.",
  },
  cloudNodeAskAfter: {
    env: 'KUMO_CLOUD_NODE_ASK_AFTER_SECONDS',
    type: seconds,
    setBy: 'stack',
    readBy: ['controllers'],
    doc: 'How long a node is unreachable before EC2 is asked whether its instance still runs (default 15; the economy cadence sets 90).',
  },
  scaleUpDelay: {
    env: 'KUMO_SCALE_UP_DELAY_SECONDS',
    type: seconds,
    setBy: 'user',
    readBy: ['controllers'],
    doc: 'How long a pod is unschedulable before the autoscaler adds a node (default 10).',
  },
  scaleDownUnneeded: {
    env: 'KUMO_SCALE_DOWN_UNNEEDED_SECONDS',
    type: seconds,
    setBy: 'user',
    readBy: ['controllers'],
    doc: 'How long a node is unneeded before the autoscaler removes it (default 600).',
  },
  autoscalerInterval: {
    env: 'KUMO_AUTOSCALER_INTERVAL_SECONDS',
    type: seconds,
    setBy: 'user',
    readBy: ['controllers'],
    doc: "The autoscaler's resync interval (default 60).",
  },

  // Powertools (lib/cloud/reconcile-metrics.ts, lib/log/).
  metricsNamespace: {
    env: 'POWERTOOLS_METRICS_NAMESPACE',
    type: text,
    setBy: 'stack',
    readBy: CONTROL_LOOPS,
    doc: "CloudWatch namespace of the control loops' metrics (docs/metrics.md). Unset: none published.",
  },
  serviceName: {
    env: 'POWERTOOLS_SERVICE_NAME',
    type: text,
    setBy: 'stack',
    readBy: FUNCTIONS,
    doc: "The `service` of a function's log records (unset: `api`, `controllers` or `scheduler`) and of its metrics.",
  },
  powertoolsLogLevel: {
    env: 'POWERTOOLS_LOG_LEVEL',
    type: oneOfUpper(LOG_LEVELS),
    flag: '--log-level',
    setBy: 'user',
    readBy: [...FUNCTIONS, 'node agent', 'kumo up', 'kumo agent'],
    doc: 'The least severe level logged, in any case (docs/logging.md). Unset: `LOG_LEVEL`.',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    type: oneOfUpper(LOG_LEVELS),
    default: 'INFO',
    flag: '--log-level',
    setBy: 'user',
    readBy: [...FUNCTIONS, 'node agent', 'kumo up', 'kumo agent'],
    doc: 'The same, when `POWERTOOLS_LOG_LEVEL` is unset (Powertools reads both, in that order).',
  },

  // The node agent container (lib/cloud/node-agent.ts) and the `kumo` flags that mirror its settings.
  server: { env: 'KUMO_SERVER', type: text, flag: '--server', setBy: 'stack', readBy: ['node agent'], doc: 'The API server URL (required).' },
  bootstrapToken: {
    env: 'KUMO_BOOTSTRAP_TOKEN',
    type: text,
    flag: '--bootstrap-token',
    setBy: 'user',
    readBy: ['node agent', 'kumo CLI'],
    doc: "The node pool's bootstrap token, to enroll the node once (`kumo token enroll`).",
  },
  bootstrapTokenSecret: {
    env: 'KUMO_BOOTSTRAP_TOKEN_SECRET',
    type: text,
    setBy: 'stack',
    readBy: ['node agent'],
    doc: "The bootstrap token's Secrets Manager value, injected by ECS (`KUMO_BOOTSTRAP_TOKEN` wins).",
  },
  agentToken: {
    env: 'KUMO_AGENT_TOKEN',
    type: text,
    flag: '--agent-token',
    setBy: 'user',
    readBy: ['node agent', 'kumo agent'],
    doc: 'The token the API server presents to the agent for logs and exec. Unset: not served.',
  },
  agentTokenSecret: {
    env: 'KUMO_AGENT_TOKEN_SECRET',
    type: text,
    setBy: 'stack',
    readBy: ['node agent'],
    doc: "That token's Secrets Manager value, injected by ECS (`KUMO_AGENT_TOKEN` wins).",
  },
  serviceTlsSecret: {
    env: 'KUMO_SERVICE_TLS_SECRET',
    type: text,
    setBy: 'user',
    readBy: ['node agent'],
    doc: "The `kubernetes` Service's serving certificate from the cluster CA, a Secrets Manager value injected by ECS: JSON with `tls.crt` and `tls.key` (PEM). Set: the node proxy answers the Service and forwards to the API server URL. Unset: pods on the node cannot reach the API through the Service.",
  },
  dataDir: {
    env: 'KUMO_DATA_DIR',
    type: text,
    default: '/var/lib/kumo',
    flag: '--data-dir',
    setBy: 'stack',
    readBy: ['node agent'],
    doc: "Where the agent keeps the node's token and its pods' state (`kumo agent --data-dir` defaults to ~/.kumo/agent).",
  },
  runtime: {
    env: 'KUMO_RUNTIME',
    type: oneOf(['docker', 'process', 'fake']),
    default: 'docker',
    flag: '--runtime',
    setBy: 'stack',
    readBy: ['node agent'],
    doc: 'How pods run (`kumo up` and `kumo agent` pick docker when a Docker engine answers, else process).',
  },
  agentPort: {
    env: 'KUMO_AGENT_PORT',
    type: port,
    default: '10250',
    flag: '--port',
    setBy: 'stack',
    readBy: ['node agent'],
    doc: "The port of the agent's logs and exec endpoint.",
  },
  nodeName: {
    env: 'KUMO_NODE_NAME',
    type: text,
    flag: '--node-name',
    setBy: 'user',
    readBy: ['node agent'],
    doc: 'The node name, instead of the one discovered (the EC2 instance id on ECS, else the host name).',
  },
  pollInterval: {
    env: 'KUMO_AGENT_POLL_INTERVAL',
    type: duration({ minMs: 1000, zero: true }),
    default: '0',
    flag: '--poll-interval',
    setBy: 'stack',
    readBy: ['node agent', 'kumo agent'],
    doc: 'Relist pods (Services and EndpointSlices at 4x) at this interval instead of holding watches; `0`: watch. The economy cadence sets 15s.',
  },
  leaseRenewInterval: {
    env: 'KUMO_LEASE_RENEW_INTERVAL',
    type: duration({ minMs: 1000 }),
    default: '10s',
    flag: '--lease-renew-interval',
    setBy: 'stack',
    readBy: ['node agent', 'kumo agent'],
    doc: "How often the node's Lease is renewed (and its conditions checked). The economy cadence sets 60s.",
  },
  leaseDuration: {
    env: 'KUMO_LEASE_DURATION',
    type: duration({ minMs: 1000 }),
    default: '40s',
    flag: '--lease-duration',
    setBy: 'stack',
    readBy: ['node agent', 'kumo agent'],
    doc: "The Lease's leaseDurationSeconds, longer than the renew interval (the control plane's node grace should match). The economy cadence sets 240s.",
  },
  nodeStatusReportInterval: {
    env: 'KUMO_NODE_STATUS_REPORT_INTERVAL',
    type: duration({ minMs: 1000 }),
    default: '1m',
    flag: '--node-status-report-interval',
    setBy: 'stack',
    readBy: ['node agent', 'kumo agent'],
    doc: 'Longest the node status goes unwritten when nothing changed. The economy cadence sets 5m.',
  },
  clusterDns: {
    env: 'KUMO_CLUSTER_DNS',
    type: ipv4OrNone,
    default: '169.254.20.10',
    flag: '--cluster-dns',
    setBy: 'user',
    readBy: ['node agent', 'kumo up', 'kumo agent'],
    doc: "Where a docker node's cluster DNS server listens (port 53) and what its pods' resolv.conf names (docs/dns.md): a node-local address added to `lo` (CAP_NET_ADMIN; without it the Docker bridge's gateway is used); `none`: no server, pods get the host's resolvers.",
  },
  ecsMetadataUri: {
    env: 'ECS_CONTAINER_METADATA_URI_V4',
    type: text,
    setBy: 'aws',
    readBy: ['node agent'],
    doc: "ECS's task metadata endpoint, where the agent learns its instance (lib/cloud/ecs-host.ts). Unset: not on ECS.",
  },

  // Local tools.
  dockerHost: {
    env: 'DOCKER_HOST',
    type: text,
    flag: '--docker-socket',
    setBy: 'user',
    readBy: ['kumo up', 'kumo agent', 'node agent'],
    doc: 'The Docker engine, `unix://<socket>` (others are ignored). Unset: /var/run/docker.sock.',
  },
  kubeconfig: {
    env: 'KUBECONFIG',
    type: text,
    setBy: 'user',
    readBy: ['kumo CLI', 'kumo up', 'kumo agent'],
    doc: 'The kubeconfig files, as kubectl reads them (`kumo up` writes its context into the first). Unset: ~/.kube/config.',
  },
  home: {
    env: 'HOME',
    type: text,
    setBy: 'user',
    readBy: ['kumo CLI', 'kumo up', 'kumo agent'],
    doc: "The directory of the default kubeconfig's `.kube`. Unset: the user's home directory.",
  },
  awsRegion: {
    env: 'AWS_REGION',
    type: text,
    default: 'us-east-1',
    setBy: 'aws',
    readBy: ['simulators'],
    doc: "The region the stream poller (lib/sim/) writes into the records it delivers, as Lambda's event source mapping does. The AWS SDK reads it too.",
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
