/**
 * The cloud provider's reconcilers (docs/cloudprovider.md): cloud node
 * lifecycle, draining, and the node pool autoscaler, over an injected
 * CloudFleet. Assembled by lib/assembly/control-plane.ts when the control plane
 * is given a fleet (the cloud functions, from their environment); `kumo up`
 * runs without them.
 */
import type { KubeClient } from '../client/client.js';
import type { Recorder } from '../client/events.js';
import type { Reconciler } from '../controller-runtime/reconciler.js';
import { type Clock, systemClock } from '../util/clock.js';
import { NodePoolAutoscaler, type NodePoolAutoscalerOptions } from './autoscaler.js';
import { CloudNodeDrainController, type CloudNodeDrainOptions } from './drain.js';
import type { CloudFleet } from './fleet.js';
import { CloudNodeLifecycleController, type CloudNodeLifecycleOptions } from './lifecycle.js';

/** The names of the cloud provider's reconcilers. */
export const CLOUD_PROVIDER_RECONCILERS: readonly string[] = ['cloud-node-lifecycle', 'cloud-node-drain', 'nodepool-autoscaler'];

export interface CloudProviderOptions {
  fleet: CloudFleet;
  lifecycle?: CloudNodeLifecycleOptions;
  drain?: CloudNodeDrainOptions;
  /** The node pool autoscaler (runs when the fleet names a group); false turns it off. */
  autoscaler?: NodePoolAutoscalerOptions | false;
}

export function cloudProviderReconcilers(
  client: KubeClient,
  recorder: (component: string) => Recorder,
  opts: CloudProviderOptions,
  clock: Clock = systemClock,
): Reconciler[] {
  const out: Reconciler[] = [
    new CloudNodeLifecycleController(client, opts.fleet, recorder('cloud-node-lifecycle-controller'), clock, opts.lifecycle),
    new CloudNodeDrainController(client, opts.fleet, recorder('cloud-node-drain-controller'), clock, opts.drain),
  ];
  if (opts.fleet.groupName && opts.autoscaler !== false)
    out.push(new NodePoolAutoscaler(client, opts.fleet, recorder('cluster-autoscaler'), clock, opts.autoscaler || {}));
  return out;
}
