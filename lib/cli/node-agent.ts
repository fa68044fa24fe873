/**
 * The node agent container's main (docker/agent/Dockerfile): find the node's
 * name and labels (lib/cloud/ecs-host.ts), make sure the node has its own
 * token (what `kumo token enroll` does with the pool's bootstrap token, once;
 * the token is kept in the data directory on the instance), then run the
 * agent as `kumo agent` runs it (lib/assembly/agent.ts) as that node until
 * ECS stops the container.
 *
 * Environment (set by the CDK node pool):
 * - KUMO_SERVER: the API server URL.
 * - KUMO_BOOTSTRAP_TOKEN_SECRET: the bootstrap token's Secrets Manager value
 *   (injected by ECS), or KUMO_BOOTSTRAP_TOKEN: the token itself.
 * - KUMO_AGENT_TOKEN_SECRET: the logs endpoint token's Secrets Manager value
 *   (optional), or KUMO_AGENT_TOKEN.
 * - KUMO_DATA_DIR (/var/lib/kumo), KUMO_RUNTIME (docker), KUMO_AGENT_PORT
 *   (10250), KUMO_NODE_NAME (overrides discovery).
 * - KUMO_AGENT_POLL_INTERVAL, KUMO_LEASE_RENEW_INTERVAL, KUMO_LEASE_DURATION,
 *   KUMO_NODE_STATUS_REPORT_INTERVAL: the agent's timings, as `kumo agent`'s
 *   flags of those names take them (the stack's cadence, docs/cloud.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentRuntimeName, runAgent, standaloneAgentDirs } from '../assembly/agent.js';
import { discoverHost } from '../cloud/ecs-host.js';
import { tokenOfSecretString } from '../cloud/secrets.js';
import { agentClient, agentTimings, DEFAULT_TIMINGS, type TimingNames, type TimingSettings, untilSignal } from './commands/agent.js';
import { enrollNode } from './commands/token.js';
import { CliError, formatError } from './errors.js';
import { type CliIO, processIO } from './io.js';

/** The environment variables that set the agent's timings (cdk/cadence.ts sets them). */
export const TIMING_VARIABLES: TimingNames = {
  pollInterval: 'KUMO_AGENT_POLL_INTERVAL',
  leaseRenewInterval: 'KUMO_LEASE_RENEW_INTERVAL',
  leaseDuration: 'KUMO_LEASE_DURATION',
  nodeStatusReportInterval: 'KUMO_NODE_STATUS_REPORT_INTERVAL',
};

/** The agent's timings from the environment the stack sets, `kumo agent`'s defaults for those unset; a bad one is a one-line error naming it. */
export function agentCadence(env: Readonly<Record<string, string | undefined>>): ReturnType<typeof agentTimings> {
  const settings = Object.fromEntries(
    Object.entries(TIMING_VARIABLES).map(([key, variable]) => [key, env[variable] || DEFAULT_TIMINGS[key as keyof TimingSettings]]),
  ) as unknown as TimingSettings;
  return agentTimings(settings, TIMING_VARIABLES);
}

export async function runNodeAgent(io: CliIO = processIO): Promise<number> {
  const env = io.env;
  const server = env.KUMO_SERVER;
  if (!server) {
    io.err('kumo node agent: KUMO_SERVER (the API server URL) is not set\n');
    return 1;
  }
  const dataDir = env.KUMO_DATA_DIR || '/var/lib/kumo';
  const bootstrap = env.KUMO_BOOTSTRAP_TOKEN || (env.KUMO_BOOTSTRAP_TOKEN_SECRET ? tokenOfSecretString(env.KUMO_BOOTSTRAP_TOKEN_SECRET) : undefined);
  const agentToken = env.KUMO_AGENT_TOKEN || (env.KUMO_AGENT_TOKEN_SECRET ? tokenOfSecretString(env.KUMO_AGENT_TOKEN_SECRET) : undefined);
  let host;
  try {
    host = await discoverHost({ env });
  } catch (err) {
    io.err(`kumo node agent: cannot tell which node this is: ${(err as Error).message}\n`);
    return 1;
  }
  io.out(`kumo node agent: node ${host.nodeName}\n`);
  const out = (line: string) => io.out(`${line}\n`);
  try {
    const runtime = env.KUMO_RUNTIME || 'docker';
    if (!['docker', 'process', 'fake'].includes(runtime)) throw new CliError(`invalid KUMO_RUNTIME: ${runtime} (docker, process or fake)`);
    const port = Number(env.KUMO_AGENT_PORT || '10250');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid KUMO_AGENT_PORT: ${env.KUMO_AGENT_PORT}`);
    const timings = agentCadence(env);
    const tokenFile = join(dataDir, 'node-token');
    const outcome = await enrollNode({ server, nodeName: host.nodeName, tokenFile }, bootstrap);
    out(outcome === 'enrolled' ? `node ${host.nodeName} enrolled: token written to ${tokenFile}` : `node ${host.nodeName}: using the token in ${tokenFile}`);
    const stopped = untilSignal();
    const running = await runAgent({
      client: agentClient(server, readFileSync(tokenFile, 'utf8').trim()),
      nodeName: host.nodeName,
      runtime: runtime as AgentRuntimeName,
      ...standaloneAgentDirs(dataDir, host.nodeName),
      agent: { labels: host.labels, annotations: host.annotations ?? {}, ...(host.providerID ? { providerID: host.providerID } : {}), ...timings },
      ...(agentToken ? { endpoint: { token: agentToken, address: '0.0.0.0', port } } : {}),
      proxy: { nodePortAddresses: ['0.0.0.0'], ...(timings.pollIntervalMs ? { pollIntervalMs: timings.pollIntervalMs } : {}) },
      log: out,
      announce: (line) => out(`kumo agent: ${line}`),
      until: stopped,
    });
    out(`kumo agent: ${await stopped} received, stopping${running.agent ? ' (containers keep running)' : ''}`);
    await running.stop();
    return 0;
  } catch (err) {
    io.err(formatError(err, server));
    return 1;
  }
}
