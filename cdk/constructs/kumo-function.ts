/**
 * The project's Lambda functions: NodejsFunction bundled locally by esbuild
 * (no Docker), arm64, Node.js 22, ESM. The bundles are self-contained (the
 * AWS SDK included, so the deployed code runs the SDK version the tests
 * ran), and `#lib/*` imports resolve to the TypeScript sources through the
 * `source` condition, as in the tests. The native SQLite module is left out
 * (a deployed function never opens SQLite) and replaced by the agent image's
 * stand-in: an external import would be a static import of the bundle, which
 * Lambda, with no node_modules, fails to load.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { repoPath } from '../paths.js';

/** esbuild settings shared by every function (exported for the tests that load the bundles). */
export const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  platform: 'node',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  bundleAwsSDK: true,
  externalModules: ['bufferutil', 'utf-8-validate'],
  // CommonJS dependencies call require(); an ESM bundle has none of its own.
  banner: "import { createRequire as __kumoCreateRequire } from 'node:module'; const require = __kumoCreateRequire(import.meta.url);",
  esbuildArgs: { '--conditions': 'source', '--alias:better-sqlite3': repoPath('docker', 'agent', 'no-sqlite.mjs') },
  logLevel: 'warning' as BundlingOptions['logLevel'],
};

export interface KumoFunctionProps {
  /** functions/<entry>.ts */
  readonly entry: string;
  /** The exported handler. @default handler */
  readonly handler?: string;
  readonly description: string;
  /** @default 512 */
  readonly memorySize?: number;
  readonly timeout: Duration;
  readonly environment?: Record<string, string>;
  /** @default 1 month */
  readonly logRetention?: logs.RetentionDays;
  readonly vpc?: lambda.FunctionProps['vpc'];
  readonly vpcSubnets?: lambda.FunctionProps['vpcSubnets'];
  readonly securityGroups?: lambda.FunctionProps['securityGroups'];
  /** Concurrency held for this function alone, which is also its ceiling (cdk/concurrency.ts). @default none: the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
}

export class KumoFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: KumoFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: repoPath('functions', `${props.entry}.ts`),
      handler: props.handler ?? 'handler',
      projectRoot: repoPath(),
      depsLockFilePath: repoPath('package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      description: props.description,
      logGroup,
      bundling: BUNDLING,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      ...(props.vpc ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups } : {}),
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
    });
  }
}

/** The DynamoDB actions the store makes (lib/store/dynamodb.ts): reads, conditional writes and transactions of them. */
export const STORE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'] as const;
/** Compaction also deletes old change-log entries in batches. */
export const COMPACTION_ACTIONS = ['dynamodb:BatchWriteItem'] as const;

/**
 * Grants exactly the store's actions on the table and its indexes (no Scan,
 * no table management, no stream: the stream is read by the event source
 * mapping's own grant).
 */
export function grantStore(fn: lambda.IFunction, table: dynamodb.ITable, opts: { compaction?: boolean } = {}): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [...STORE_ACTIONS, ...(opts.compaction ? COMPACTION_ACTIONS : [])],
      resources: [table.tableArn, `${table.tableArn}/index/*`],
    }),
  );
}
