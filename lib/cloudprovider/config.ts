/**
 * The cloud provider's settings from the controller function's environment
 * (set by the CDK stack; declared in lib/config/settings.ts), with the AWS
 * clients it needs. Without KUMO_ECS_CLUSTER and KUMO_NODE_GROUP there is no
 * fleet to watch and the cloud provider does not run.
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
import { type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import { AwsFleet } from './aws-fleet.js';
import type { CloudProviderOptions } from './index.js';

export function cloudProviderFromEnv(env: Env = process.env): CloudProviderOptions | undefined {
  const cluster = readSetting(env, SETTINGS.ecsCluster);
  const groupName = readSetting(env, SETTINGS.nodeGroup);
  if (!cluster && !groupName) return undefined;
  const lifecycleHook = readSetting(env, SETTINGS.nodeLifecycleHook);
  // Every value is read (and a bad one refused) before any client is made.
  const askAfterMs = readSetting(env, SETTINGS.cloudNodeAskAfter);
  const scaleUpDelayMs = readSetting(env, SETTINGS.scaleUpDelay);
  const scaleDownUnneededMs = readSetting(env, SETTINGS.scaleDownUnneeded);
  const intervalMs = readSetting(env, SETTINGS.autoscalerInterval);
  const autoscaling = readSetting(env, SETTINGS.nodeAutoscaling);
  const fleet = new AwsFleet({
    ec2: new EC2Client({}),
    ...(cluster ? { ecs: new ECSClient({}), cluster } : {}),
    ...(groupName ? { autoScaling: new AutoScalingClient({}), groupName } : {}),
    ...(lifecycleHook ? { lifecycleHook } : {}),
  });
  return {
    fleet,
    ...(askAfterMs !== undefined ? { lifecycle: { askAfterMs } } : {}),
    autoscaler: !autoscaling
      ? false
      : {
          ...(scaleUpDelayMs !== undefined ? { scaleUpDelayMs } : {}),
          ...(scaleDownUnneededMs !== undefined ? { scaleDownUnneededMs } : {}),
          ...(intervalMs !== undefined ? { intervalMs } : {}),
        },
  };
}
