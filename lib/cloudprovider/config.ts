/**
 * The cloud provider's settings from the controller function's environment
 * (set by the CDK stack), with the AWS clients it needs. Without
 * KUMO_ECS_CLUSTER and KUMO_NODE_GROUP there is no fleet to watch and the
 * cloud provider does not run.
 *
 * - KUMO_ECS_CLUSTER: the node pool's ECS cluster (name or ARN)
 * - KUMO_NODE_GROUP: its Auto Scaling group
 * - KUMO_NODE_LIFECYCLE_HOOK: the group's termination hook kumo completes once a node is drained
 * - KUMO_NODE_AUTOSCALING: `false` turns the node pool autoscaler off (default on with a group)
 * - KUMO_CLOUD_NODE_ASK_AFTER_SECONDS (15), KUMO_SCALE_UP_DELAY_SECONDS (10),
 *   KUMO_SCALE_DOWN_UNNEEDED_SECONDS (600), KUMO_AUTOSCALER_INTERVAL_SECONDS (60)
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { AwsFleet } from './aws-fleet.js';
import type { CloudProviderOptions } from './index.js';

type Env = Readonly<Record<string, string | undefined>>;

function seconds(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number of seconds, got "${raw}"`);
  return v * 1000;
}

export function cloudProviderFromEnv(env: Env = process.env): CloudProviderOptions | undefined {
  const cluster = env.KUMO_ECS_CLUSTER || undefined;
  const groupName = env.KUMO_NODE_GROUP || undefined;
  if (!cluster && !groupName) return undefined;
  const fleet = new AwsFleet({
    ec2: new EC2Client({}),
    ...(cluster ? { ecs: new ECSClient({}), cluster } : {}),
    ...(groupName ? { autoScaling: new AutoScalingClient({}), groupName } : {}),
    ...(env.KUMO_NODE_LIFECYCLE_HOOK ? { lifecycleHook: env.KUMO_NODE_LIFECYCLE_HOOK } : {}),
  });
  const askAfterMs = seconds(env, 'KUMO_CLOUD_NODE_ASK_AFTER_SECONDS');
  const scaleUpDelayMs = seconds(env, 'KUMO_SCALE_UP_DELAY_SECONDS');
  const scaleDownUnneededMs = seconds(env, 'KUMO_SCALE_DOWN_UNNEEDED_SECONDS');
  const intervalMs = seconds(env, 'KUMO_AUTOSCALER_INTERVAL_SECONDS');
  return {
    fleet,
    ...(askAfterMs !== undefined ? { lifecycle: { askAfterMs } } : {}),
    autoscaler:
      env.KUMO_NODE_AUTOSCALING === 'false'
        ? false
        : {
            ...(scaleUpDelayMs !== undefined ? { scaleUpDelayMs } : {}),
            ...(scaleDownUnneededMs !== undefined ? { scaleDownUnneededMs } : {}),
            ...(intervalMs !== undefined ? { intervalMs } : {}),
          },
  };
}
