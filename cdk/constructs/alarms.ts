/**
 * The alarms every kumo function gets, wired to one SNS topic: any error,
 * any throttle; and for stream consumers, how far behind the stream they are
 * (iterator age) and whether batches were given up on (dead-letter queue).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

function alarm(scope: Construct, id: string, topic: sns.ITopic, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
  const a = new cloudwatch.Alarm(scope, id, props);
  a.addAlarmAction(new actions.SnsAction(topic));
  return a;
}

export function functionAlarms(scope: Construct, fn: lambda.IFunction, topic: sns.ITopic, what: string): cloudwatch.Alarm[] {
  const period = Duration.minutes(5);
  return [
    alarm(scope, 'ErrorAlarm', topic, {
      alarmDescription: `kumo ${what}: the function failed (a thrown error or timeout, not a Kubernetes Status)`,
      metric: fn.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    alarm(scope, 'ThrottleAlarm', topic, {
      alarmDescription: `kumo ${what}: invocations were throttled (account or reserved concurrency exhausted)`,
      metric: fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  ];
}

export function streamAlarms(
  scope: Construct,
  fn: lambda.IFunction,
  dlq: sqs.IQueue,
  topic: sns.ITopic,
  what: string,
  maxIteratorAge: Duration,
): cloudwatch.Alarm[] {
  return [
    alarm(scope, 'IteratorAgeAlarm', topic, {
      alarmDescription: `kumo ${what}: stream records wait longer than ${maxIteratorAge.toHumanString()} before they are processed`,
      metric: fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: maxIteratorAge.toMilliseconds(),
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    alarm(scope, 'DeadLetterAlarm', topic, {
      alarmDescription: `kumo ${what}: stream batches were given up on (retries or record age exhausted); the scheduled resync repairs their keys, the queue says which`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  ];
}
