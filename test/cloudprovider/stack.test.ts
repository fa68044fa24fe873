/**
 * The stack's wiring of the cloud provider (cdk/constructs/node-pool-controller.ts):
 * the controller function told where the fleet is, allowed exactly what the
 * reconcilers do to it, woken by the fleet's events; the pool's lifecycle
 * hook; and the function's environment read back the way it runs.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KumoStack, type KumoStackProps } from '../../cdk/kumo-stack.js';
import { cloudProviderFromEnv } from '#lib/cloudprovider/config';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function synth(props: KumoStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KumoStack(app, 'Kumo', props);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const id = (c: unknown) => stack.getLogicalId((c as { node: { defaultChild: never } }).node.defaultChild);
  const fnId = id(stack.controllers.fn);
  const role = { Ref: (resources[fnId]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0] };
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([role]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const statementOf = (action: string) => statements.find((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
  return { stack, template, resources, id, fnId, statementOf };
}

describe('the node pool controller in the stack', () => {
  const { stack, template, resources, id, fnId, statementOf } = synth();
  const clusterId = id(stack.nodes!.cluster);
  const groupId = id(stack.nodes!.autoScalingGroup);

  it('tells the controller function where the fleet is', () => {
    const env = (resources[fnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.KUMO_ECS_CLUSTER).toEqual({ Ref: clusterId });
    expect(env.KUMO_NODE_GROUP).toEqual({ Ref: groupId });
    expect(env.KUMO_NODE_LIFECYCLE_HOOK).toBe('kumo-drain');
    expect(env.KUMO_NODE_AUTOSCALING).toBeUndefined();
  });

  it('lets it read the fleet, and change only its own group', () => {
    expect(statementOf('ec2:DescribeInstances')!.Resource).toBe('*');
    expect(statementOf('ecs:ListContainerInstances')!.Resource).toEqual({ 'Fn::GetAtt': [clusterId, 'Arn'] });
    expect(statementOf('ecs:DescribeContainerInstances')!.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } });
    const change = statementOf('autoscaling:SetDesiredCapacity')!;
    expect([...(change.Action as string[])].sort()).toEqual([
      'autoscaling:CompleteLifecycleAction',
      'autoscaling:SetDesiredCapacity',
      'autoscaling:TerminateInstanceInAutoScalingGroup',
    ]);
    expect(JSON.stringify(change.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/');
    expect(JSON.stringify(change.Resource)).toContain(`{"Ref":"${groupId}"}`);
  });

  it('holds terminating instances for the drain, and lets them go if nobody answers', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: { Ref: groupId },
      LifecycleHookName: 'kumo-drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 600,
      DefaultResult: 'CONTINUE',
    });
  });

  it('wakes it on container instance state changes and on instances held for termination', () => {
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern);
    const patterns = rules.map((r) => r.Properties.EventPattern);
    expect(patterns).toEqual(
      expect.arrayContaining([
        { source: ['aws.ecs'], 'detail-type': ['ECS Container Instance State Change'], detail: { clusterArn: [{ 'Fn::GetAtt': [clusterId, 'Arn'] }] } },
        { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'], detail: { AutoScalingGroupName: [{ Ref: groupId }] } },
      ]),
    );
    for (const r of rules) expect((r.Properties.Targets as { Arn: unknown }[]).map((t) => t.Arn)).toEqual([{ 'Fn::GetAtt': [fnId, 'Arn'] }]);
  });

  it('without autoscaling, neither grows nor shrinks the group (draining still runs)', () => {
    const off = synth({ nodeAutoscaling: false });
    const env = (off.resources[off.fnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.KUMO_NODE_AUTOSCALING).toBe('false');
    expect(off.statementOf('autoscaling:SetDesiredCapacity')).toBeUndefined();
    expect(off.statementOf('autoscaling:CompleteLifecycleAction')).toBeDefined();
    expect(cloudProviderFromEnv({ KUMO_ECS_CLUSTER: 'c', KUMO_NODE_GROUP: 'g', KUMO_NODE_AUTOSCALING: 'false' })!.autoscaler).toBe(false);
  });

  it('is read back from the environment the way the function runs', () => {
    expect(cloudProviderFromEnv({})).toBeUndefined();
    const opts = cloudProviderFromEnv({
      KUMO_ECS_CLUSTER: 'pool',
      KUMO_NODE_GROUP: 'pool-asg',
      KUMO_NODE_LIFECYCLE_HOOK: 'kumo-drain',
      KUMO_SCALE_UP_DELAY_SECONDS: '30',
      KUMO_CLOUD_NODE_ASK_AFTER_SECONDS: '5',
    })!;
    expect(opts.fleet.groupName).toBe('pool-asg');
    expect(opts.fleet.lifecycleHook).toBe('kumo-drain');
    expect(opts.autoscaler).toEqual({ scaleUpDelayMs: 30_000 });
    expect(opts.lifecycle).toEqual({ askAfterMs: 5_000 });
    expect(() => cloudProviderFromEnv({ KUMO_NODE_GROUP: 'g', KUMO_SCALE_UP_DELAY_SECONDS: 'soon' })).toThrow(
      'KUMO_SCALE_UP_DELAY_SECONDS must be a non-negative number of seconds, got "soon"',
    );
  });
});
