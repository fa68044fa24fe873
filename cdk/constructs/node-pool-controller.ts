/**
 * Wires the controller function to the node pool for the cloud provider's
 * reconcilers (lib/cloudprovider/, docs/cloudprovider.md): where the fleet
 * is (environment), what it may do to it (least privilege: read instances,
 * container instances and the group; set the group's size, terminate one
 * of its instances, complete its lifecycle hook), and the events that
 * should wake it at once rather than at the next minute's resync: a
 * container instance changing state (DRAINING) and an instance held for
 * termination by the pool's lifecycle hook.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Duration } from 'aws-cdk-lib';
import { SETTINGS } from '../../lib/config/settings.js';
import { Construct } from 'constructs';
import type { NodePool } from './node-pool.js';

export interface NodePoolControllerProps {
  /** The controller manager function. */
  readonly fn: lambda.IFunction;
  readonly nodePool: NodePool;
  /** Grow and shrink the group for pending pods and idle nodes. @default true */
  readonly autoscaling?: boolean;
}

export class NodePoolController extends Construct {
  /** ECS container instance state changes and the group's termination lifecycle actions → the controller function. */
  readonly rules: events.Rule[];

  constructor(scope: Construct, id: string, props: NodePoolControllerProps) {
    super(scope, id);
    const { fn, nodePool } = props;
    if (!(fn instanceof lambda.Function)) throw new Error('NodePoolController needs a lambda.Function (its environment is set)');
    const group = nodePool.autoScalingGroup;
    const cluster = nodePool.cluster;

    fn.addEnvironment(SETTINGS.ecsCluster.env, cluster.clusterName);
    fn.addEnvironment(SETTINGS.nodeGroup.env, group.autoScalingGroupName);
    fn.addEnvironment(SETTINGS.nodeLifecycleHook.env, nodePool.drainHookName);
    if (props.autoscaling === false) fn.addEnvironment(SETTINGS.nodeAutoscaling.env, 'false');

    // Describe* calls have no resource-level permissions (EC2, Auto Scaling); ECS's are scoped to the cluster.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingGroups'], resources: ['*'] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:ListContainerInstances'], resources: [cluster.clusterArn] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeContainerInstances'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }),
    );
    const groupArn = `arn:${group.stack.partition}:autoscaling:${group.stack.region}:${group.stack.account}:autoScalingGroup:*:autoScalingGroupName/${group.autoScalingGroupName}`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'autoscaling:CompleteLifecycleAction',
          ...(props.autoscaling === false ? [] : ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']),
        ],
        resources: [groupArn],
      }),
    );

    const target = new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(5) });
    this.rules = [
      new events.Rule(this, 'ContainerInstanceChanges', {
        description: 'kumo: a node pool container instance changed state (DRAINING drains its node)',
        eventPattern: { source: ['aws.ecs'], detailType: ['ECS Container Instance State Change'], detail: { clusterArn: [cluster.clusterArn] } },
        targets: [target],
      }),
      new events.Rule(this, 'TerminatingInstances', {
        description: 'kumo: a node pool instance is held for termination (its node is drained, then the hook completed)',
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: ['EC2 Instance-terminate Lifecycle Action'],
          detail: { AutoScalingGroupName: [group.autoScalingGroupName] },
        },
        targets: [target],
      }),
    ];
  }
}
