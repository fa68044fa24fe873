/**
 * The node agent container's main (docker/agent/Dockerfile): find the node's
 * name and labels (ecs-host.ts), make sure the node has its own token
 * (`kumo token enroll` with the pool's bootstrap token, once; the token is
 * kept in the data directory on the instance), then run `kumo agent` as that
 * node until ECS stops the container.
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
 *   KUMO_NODE_STATUS_REPORT_INTERVAL: `kumo agent`'s flags of those names
 *   (the stack's cadence, docs/cloud.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import { type CliIO, processIO } from '../cli/io.js';
import { discoverHost } from './ecs-host.js';
import { tokenOfSecretString } from './secrets.js';

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
  const tokenFile = join(dataDir, 'node-token');
  // The bootstrap and logs tokens reach the commands through their environment; the node token goes in
  // `kumo agent --token`, the one way the agent takes it (visible only inside this container).
  const childEnv = { ...env, ...(bootstrap ? { KUMO_BOOTSTRAP_TOKEN: bootstrap } : {}), ...(agentToken ? { KUMO_AGENT_TOKEN: agentToken } : {}) };
  const childIO: CliIO = { ...io, env: childEnv };
  const enrolled = await main(['token', 'enroll', '--server', server, '--node-name', host.nodeName, '--token-file', tokenFile], childIO);
  if (enrolled !== 0) return enrolled;
  const nodeToken = readFileSync(tokenFile, 'utf8').trim();
  const labels = Object.entries(host.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const annotations = Object.entries(host.annotations ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return main(
    [
      'agent',
      '--server',
      server,
      '--token',
      nodeToken,
      '--node-name',
      host.nodeName,
      '--runtime',
      env.KUMO_RUNTIME || 'docker',
      '--data-dir',
      dataDir,
      '--port',
      env.KUMO_AGENT_PORT || '10250',
      ...(labels ? ['--labels', labels] : []),
      ...(annotations ? ['--annotations', annotations] : []),
      ...(host.providerID ? ['--provider-id', host.providerID] : []),
      ...cadenceFlags(env),
    ],
    childIO,
  );
}

const CADENCE_FLAGS: Record<string, string> = {
  KUMO_AGENT_POLL_INTERVAL: '--poll-interval',
  KUMO_LEASE_RENEW_INTERVAL: '--lease-renew-interval',
  KUMO_LEASE_DURATION: '--lease-duration',
  KUMO_NODE_STATUS_REPORT_INTERVAL: '--node-status-report-interval',
};

/** The agent's timing flags from the environment the stack sets (`kumo agent` validates them). */
export function cadenceFlags(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(CADENCE_FLAGS).flatMap(([name, flag]) => (env[name] ? [flag, env[name]] : []));
}
