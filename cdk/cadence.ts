/**
 * How often the cluster's parts talk when nothing happens: the one setting
 * that decides what kumo costs at rest (bench/README.md's cost model).
 *
 * - `kubernetes`: the kubelet's timings. Agents hold watches on their pods,
 *   the Services and the EndpointSlices, and renew their Lease every 10 s
 *   (40 s grace). Through a Function URL every held watch keeps an API
 *   function invocation open, billed by the second: about $90 a month per
 *   agent at 1,024 MB.
 * - `economy` (default): agents relist their pods every 15 s and the
 *   Services and EndpointSlices every 60 s instead of watching, renew their
 *   Lease every 60 s (240 s grace, so a dead agent on a live instance is
 *   noticed after 4 minutes instead of 40 s) and write an unchanged node
 *   status every 5 minutes (kubelet's nodeStatusReportFrequency). A pod
 *   bound to a node starts up to 15 s later, and an endpoint's readiness
 *   change reaches the other nodes' proxies up to 60 s later; a terminated
 *   instance is still noticed at once from ECS's events (docs/cloudprovider.md).
 */
import { SETTINGS } from '../lib/config/settings.js';

export type Cadence = 'economy' | 'kubernetes';

export const CADENCES: readonly Cadence[] = ['economy', 'kubernetes'];

export interface CadenceSettings {
  /** The node agent container's environment (lib/cli/node-agent.ts). */
  agent: Record<string, string>;
  /** The controllers function's environment (lib/cloud/config.ts, lib/cloudprovider/config.ts). */
  controllers: Record<string, string>;
}

export function cadenceSettings(cadence: Cadence): CadenceSettings {
  if (cadence === 'kubernetes') return { agent: {}, controllers: {} };
  return {
    agent: {
      [SETTINGS.pollInterval.env]: '15s',
      [SETTINGS.leaseRenewInterval.env]: '60s',
      [SETTINGS.leaseDuration.env]: '240s',
      [SETTINGS.nodeStatusReportInterval.env]: '5m',
    },
    // The node lifecycle's grace matches the lease; the cloud provider asks EC2 after one and a half renewals.
    controllers: { [SETTINGS.nodeGrace.env]: '240', [SETTINGS.cloudNodeAskAfter.env]: '90' },
  };
}
