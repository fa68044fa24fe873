/**
 * The node agent container's main (docker/agent/Dockerfile): find the node's
 * name and labels (ecs-host.ts), make sure the node has its own token
 * (`kumo token enroll` with the pool's bootstrap token, once; the token is
 * kept in the data directory on the instance), then run `kumo agent` as that
 * node until ECS stops the container.
 *
 * Environment (set by the CDK node pool; declared in lib/config/settings.ts):
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
import { ConfigError, type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import { discoverHost } from './ecs-host.js';
import { tokenOfSecretString } from './secrets.js';

export async function runNodeAgent(io: CliIO = processIO): Promise<number> {
  try {
    return await run(io);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`kumo node agent: ${err.message}\n`);
    return 1;
  }
}

async function run(io: CliIO): Promise<number> {
  const env = io.env;
  const server = readSetting(env, SETTINGS.server);
  if (!server) {
    io.err(`kumo node agent: ${SETTINGS.server.env} (the API server URL) is not set\n`);
    return 1;
  }
  const dataDir = readSetting(env, SETTINGS.dataDir);
  const runtime = readSetting(env, SETTINGS.runtime);
  const port = readSetting(env, SETTINGS.agentPort);
  const cadence = cadenceFlags(env);
  const bootstrap = readSetting(env, SETTINGS.bootstrapToken) ?? secretToken(readSetting(env, SETTINGS.bootstrapTokenSecret));
  const agentToken = readSetting(env, SETTINGS.agentToken) ?? secretToken(readSetting(env, SETTINGS.agentTokenSecret));
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
  const childEnv = {
    ...env,
    ...(bootstrap ? { [SETTINGS.bootstrapToken.env]: bootstrap } : {}),
    ...(agentToken ? { [SETTINGS.agentToken.env]: agentToken } : {}),
  };
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
      runtime,
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      ...(labels ? ['--labels', labels] : []),
      ...(annotations ? ['--annotations', annotations] : []),
      ...(host.providerID ? ['--provider-id', host.providerID] : []),
      ...cadence,
    ],
    childIO,
  );
}

/** The token in a Secrets Manager value ECS injected, if one was. */
function secretToken(value: string | undefined): string | undefined {
  return value ? tokenOfSecretString(value) : undefined;
}

const CADENCE = [SETTINGS.pollInterval, SETTINGS.leaseRenewInterval, SETTINGS.leaseDuration, SETTINGS.nodeStatusReportInterval];

/** The agent's timing flags from the environment the stack sets, each checked under its variable's name first. */
export function cadenceFlags(env: Env): string[] {
  return CADENCE.flatMap((setting) => {
    const raw = env[setting.env];
    if (!raw) return [];
    readSetting(env, setting);
    return [setting.flag, raw];
  });
}
