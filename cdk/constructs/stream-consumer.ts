/**
 * A control-loop function fed by the store table's stream, with the safe
 * stream defaults of aws-solutions-constructs: partial batch responses, bisect
 * on error, bounded retries and record age, an SQS dead-letter queue for
 * batches given up on, and event filters so records no reconciler cares about
 * never invoke it (lib/cloud/stream-filters.ts).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FilterPattern } from '../../lib/cloud/stream-filters.js';
import { functionAlarms, streamAlarms } from './alarms.js';
import { grantStore, KumoFunction } from './kumo-function.js';

export interface StreamConsumerProps {
  /** functions/<entry>.ts */
  readonly entry: string;
  readonly description: string;
  readonly table: dynamodb.ITable;
  readonly filters: readonly FilterPattern[];
  readonly environment: Record<string, string>;
  readonly alarmTopic: sns.ITopic;
  /** The function also compacts the store's change log. @default false */
  readonly compaction?: boolean;
  /** @default 100 */
  readonly batchSize?: number;
  /** Gather records this long before invoking (fewer, larger batches). @default 1 s */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch (after bisecting) before it goes to the dead-letter queue. @default 5 */
  readonly retryAttempts?: number;
  /** Records older than this are given up on; the scheduled resync repairs their keys. @default 1 hour */
  readonly maxRecordAge?: Duration;
  /** Concurrent batches per shard. @default 1 */
  readonly parallelizationFactor?: number;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default 5 minutes */
  readonly timeout?: Duration;
  /** Concurrency held for the function alone (cdk/concurrency.ts). @default none: the account's unreserved pool */
  readonly reservedConcurrency?: number;
}

export class StreamConsumer extends Construct {
  readonly fn: lambda.IFunction;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    const f = new KumoFunction(this, 'Handler', {
      entry: props.entry,
      description: props.description,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(5),
      environment: props.environment,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
    });
    this.fn = f.fn;
    grantStore(f.fn, props.table, { compaction: props.compaction ?? false });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    f.fn.addEventSource(
      new DynamoEventSource(props.table, {
        // From the oldest record still on the stream: nothing written between table and mapping creation is missed.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 100,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 5,
        maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
        parallelizationFactor: props.parallelizationFactor ?? 1,
        onFailure: new SqsDlq(this.deadLetterQueue),
        filters: props.filters.map((p) => lambda.FilterCriteria.filter(p as Record<string, unknown>)),
      }),
    );
    functionAlarms(this, f.fn, props.alarmTopic, props.entry);
    streamAlarms(this, f.fn, this.deadLetterQueue, props.alarmTopic, props.entry, Duration.minutes(2));
  }
}
