/**
 * The Kubernetes API server on the internet: the `api` function behind a
 * Lambda Function URL with response streaming (docs/cloud.md says why not
 * API Gateway). The URL takes no AWS signature (AuthType NONE): every
 * request is authenticated by kumo's bearer tokens instead, as kubectl sends
 * them, and the key of their MACs (lib/auth/token-mac.ts) is generated at
 * deploy time in Secrets Manager, readable by this function alone, as is the
 * random string the ServiceAccount token signing key is derived from. The
 * function's concurrency cap bounds what a flood can use and cost.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SETTINGS } from '../../lib/config/settings.js';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { functionAlarms } from './alarms.js';
import { grantStore, KumoFunction } from './kumo-function.js';
import type { TokenSecret } from './token-secret.js';

export interface ApiEndpointProps {
  readonly table: dynamodb.ITable;
  readonly adminToken: TokenSecret;
  readonly bootstrapToken: TokenSecret;
  /** The token agents accept for logs and exec; only when the function can reach them. */
  readonly agentToken?: TokenSecret;
  readonly alarmTopic: sns.ITopic;
  readonly environment: Record<string, string>;
  /** Run in this VPC (to reach agents for logs). @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * The longest a watch or a log follow stays open before the client
   * re-watches from its last resourceVersion (the function's timeout).
   * @default 15 minutes (Lambda's maximum)
   */
  readonly maxStreamDuration?: Duration;
  /**
   * Most execution environments at once (the function's reserved
   * concurrency): what a flood can occupy, and with Lambda's 10 requests a
   * second per environment, what it can cost (cdk/concurrency.ts).
   * @default no cap: the account's unreserved pool
   */
  readonly maxConcurrency?: number;
}

export class ApiEndpoint extends Construct {
  readonly fn: lambda.IFunction;
  readonly url: lambda.FunctionUrl;
  /** The key of stored tokens' MACs: 64 letters and digits, never leaving Secrets Manager but for this function. */
  readonly tokenKey: secretsmanager.Secret;
  /** What the ServiceAccount token signing key (ES256) is derived from: 64 letters and digits, read by this function alone. */
  readonly serviceAccountKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ApiEndpointProps) {
    super(scope, id);
    this.tokenKey = new secretsmanager.Secret(this, 'TokenKey', {
      description: 'kumo: the key of the MACs that make stored tokens self-verifying (read by the API function alone)',
      generateSecretString: { excludePunctuation: true, includeSpace: false, passwordLength: 64 },
      // Replacing the key invalidates every token issued under it: it lives and dies with the stack, as the tokens do.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.serviceAccountKey = new secretsmanager.Secret(this, 'ServiceAccountKey', {
      description: 'kumo: what the ServiceAccount token signing key is derived from (read by the API function alone)',
      generateSecretString: { excludePunctuation: true, includeSpace: false, passwordLength: 64 },
      // Replacing it invalidates every ServiceAccount token issued: it lives and dies with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const f = new KumoFunction(this, 'Handler', {
      entry: 'api',
      handler: 'streamingHandler',
      description: 'kumo API server (Kubernetes API over a Function URL)',
      memorySize: props.memorySize ?? 1024,
      timeout: props.maxStreamDuration ?? Duration.minutes(15),
      environment: {
        ...props.environment,
        [SETTINGS.auth.env]: 'tokens',
        [SETTINGS.adminTokenSecretArn.env]: props.adminToken.secret.secretArn,
        [SETTINGS.bootstrapTokenSecretArn.env]: props.bootstrapToken.secret.secretArn,
        [SETTINGS.tokenKeySecretArn.env]: this.tokenKey.secretArn,
        [SETTINGS.serviceAccountKeySecretArn.env]: this.serviceAccountKey.secretArn,
        ...(props.agentToken ? { [SETTINGS.agentTokenSecretArn.env]: props.agentToken.secret.secretArn } : {}),
      },
      ...(props.vpc ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups } : {}),
      ...(props.maxConcurrency !== undefined ? { reservedConcurrentExecutions: props.maxConcurrency } : {}),
    });
    this.fn = f.fn;
    grantStore(f.fn, props.table);
    const secrets = [
      props.adminToken.secret,
      props.bootstrapToken.secret,
      this.tokenKey,
      this.serviceAccountKey,
      ...(props.agentToken ? [props.agentToken.secret] : []),
    ];
    f.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets.map((s) => s.secretArn) }));
    this.url = f.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });
    functionAlarms(this, f.fn, props.alarmTopic, 'api');
  }
}
