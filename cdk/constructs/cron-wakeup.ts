/**
 * Where the CronJobs' wake-up lives (lib/cloud/cron-wakeup.ts): an
 * EventBridge Scheduler group for the one schedule the controllers function
 * arms at the earliest CronJob due time, and the role Scheduler assumes to
 * invoke that function. The function gets the group and role in its
 * environment ({@link CronWakeupSchedules.environment}) and, through
 * {@link CronWakeupSchedules.allow}, the right to write schedules in that
 * group only and to pass that role only.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { SETTINGS } from '../../lib/config/settings.js';

export class CronWakeupSchedules extends Construct {
  readonly group: scheduler.ScheduleGroup;
  /** Assumed by EventBridge Scheduler (of this account only) to invoke the function. */
  readonly role: iam.Role;
  /** The controllers function's settings for it. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'kumo: EventBridge Scheduler invokes the controllers function when the earliest CronJob is due',
    });
    this.environment = { [SETTINGS.cronScheduleGroup.env]: this.group.scheduleGroupName, [SETTINGS.cronSchedulerRoleArn.env]: this.role.roleArn };
  }

  /** The function the schedule invokes, and which arms it: invoke for the role; write, read and delete schedules of the group and pass the role for the function. */
  allow(fn: lambda.IFunction): void {
    fn.grantInvoke(this.role);
    this.group.grantReadSchedules(fn);
    this.group.grantWriteSchedules(fn);
    this.group.grantDeleteSchedules(fn);
    this.role.grantPassRole(fn.grantPrincipal);
  }
}
