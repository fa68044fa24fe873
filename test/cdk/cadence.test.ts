/**
 * The stack's cadence (cdk/cadence.ts): what the agents and the controllers
 * are told, and how `kumo agent` takes it (bad settings are one plain line
 * and start nothing).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KumoStack, type KumoStackProps } from '../../cdk/kumo-stack.js';
import { memoryIO } from '#lib/cli/io';
import { main } from '#lib/cli/main';
import { TIMING_SETTINGS } from '#lib/cli/commands/agent';
import { agentCadence } from '#lib/cli/node-agent';
import { controlPlaneFromEnv } from '#lib/cloud/config';
import { cloudProviderFromEnv } from '#lib/cloudprovider/config';

type Env = Record<string, unknown>;

function environments(props: KumoStackProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KumoStack(app, 'Kumo', props);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const fnId = stack.getLogicalId(stack.controllers.fn.node.defaultChild as never);
  const controllers = (resources[fnId]!.Properties.Environment as { Variables: Env }).Variables;
  const task = Object.values(resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition')!;
  const container = (task.Properties.ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>)[0]!;
  const agent = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
  return { controllers, agent };
}

describe('the cadence of a deployed cluster', () => {
  it('is economy by default: agents poll and renew their lease every minute, and the node grace matches', () => {
    const { controllers, agent } = environments({});
    expect(agent).toMatchObject({
      KUMO_AGENT_POLL_INTERVAL: '15s',
      KUMO_LEASE_RENEW_INTERVAL: '60s',
      KUMO_LEASE_DURATION: '240s',
      KUMO_NODE_STATUS_REPORT_INTERVAL: '5m',
    });
    expect(controlPlaneFromEnv(controllers as Record<string, string>).nodeLifecycle).toEqual({ gracePeriodMs: 240_000 });
    // The template names the pool's cluster and group by reference (resolved at deploy time): plain names stand in for them.
    expect(cloudProviderFromEnv({ ...(controllers as Record<string, string>), KUMO_ECS_CLUSTER: 'c', KUMO_NODE_GROUP: 'g' })!.lifecycle).toEqual({
      askAfterMs: 90_000,
    });
    // The node agent takes them as `kumo agent --poll-interval 15s --lease-renew-interval 60s --lease-duration 240s --node-status-report-interval 5m`.
    expect(agentCadence(agent as Record<string, string>)).toEqual({
      pollIntervalMs: 15_000,
      leaseRenewMs: 60_000,
      nodeStatusIntervalMs: 60_000,
      leaseDurationSeconds: 240,
      nodeStatusReportMs: 300_000,
    });
  });

  it("is Kubernetes' own with cadence kubernetes: watches, 10 s leases, 40 s grace", () => {
    const { controllers, agent } = environments({ cadence: 'kubernetes' });
    // None of the timing variables is set: the node agent runs with `kumo agent`'s defaults.
    expect(Object.values(TIMING_SETTINGS).filter((setting) => agent[setting.env] !== undefined)).toEqual([]);
    expect(agentCadence(agent as Record<string, string>)).toEqual({
      leaseRenewMs: 10_000,
      nodeStatusIntervalMs: 10_000,
      leaseDurationSeconds: 40,
      nodeStatusReportMs: 60_000,
    });
    expect(controllers.KUMO_NODE_GRACE_SECONDS).toBeUndefined();
    expect(controllers.KUMO_CLOUD_NODE_ASK_AFTER_SECONDS).toBeUndefined();
  });
});

describe('kumo agent timing flags', () => {
  for (const [args, line] of [
    [['--poll-interval', 'soon'], 'error: invalid --poll-interval: soon (a duration such as 10s or 5m)'],
    [['--lease-renew-interval', '100ms'], 'error: invalid --lease-renew-interval: 100ms (at least 1s)'],
    [['--lease-renew-interval', '60s', '--lease-duration', '40s'], 'error: invalid --lease-duration: 40s (longer than --lease-renew-interval 60s)'],
  ] as const) {
    it(`refuses ${args.join(' ')} in one line, starting nothing`, async () => {
      const io = memoryIO();
      const code = await main(['agent', '--server', 'http://127.0.0.1:1', '--runtime', 'process', ...args], io);
      expect({ code, stdout: io.stdout, stderr: io.stderr }).toEqual({ code: 1, stdout: '', stderr: `${line}\n` });
    });
  }
});
