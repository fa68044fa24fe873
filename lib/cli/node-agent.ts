/**
 * The node agent container's main (docker/agent/Dockerfile): find the node's
 * name and labels (lib/cloud/ecs-host.ts), make sure the node has its own
 * token (what `kumo token enroll` does with the pool's bootstrap token, once;
 * the token is kept in the data directory on the instance), then run the
 * agent as `kumo agent` runs it (lib/assembly/agent.ts) as that node until
 * ECS stops the container.
 *
 * Environment (set by the CDK node pool; declared in lib/config/settings.ts):
 * - KUMO_SERVER: the API server URL.
 * - KUMO_BOOTSTRAP_TOKEN_SECRET: the bootstrap token's Secrets Manager value
 *   (injected by ECS), or KUMO_BOOTSTRAP_TOKEN: the token itself.
 * - KUMO_AGENT_TOKEN_SECRET: the logs endpoint token's Secrets Manager value
 *   (optional), or KUMO_AGENT_TOKEN.
 * - KUMO_SERVICE_TLS_SECRET: the `kubernetes` Service's certificate from the
 *   cluster CA (optional): the node proxy then answers the Service for pods
 *   and forwards to KUMO_SERVER (lib/agent/proxy/api-front.ts).
 * - KUMO_DATA_DIR (/var/lib/kumo), KUMO_RUNTIME (docker), KUMO_AGENT_PORT
 *   (10250), KUMO_NODE_NAME (overrides discovery).
 * - KUMO_AGENT_POLL_INTERVAL, KUMO_LEASE_RENEW_INTERVAL, KUMO_LEASE_DURATION,
 *   KUMO_NODE_STATUS_REPORT_INTERVAL: the agent's timings, as `kumo agent`'s
 *   flags of those names take them (the stack's cadence, docs/cloud.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAgent, standaloneAgentDirs } from '../assembly/agent.js';
import { discoverHost } from '../cloud/ecs-host.js';
import { serviceTlsOfSecretString, tokenOfSecretString } from '../cloud/secrets.js';
import { ConfigError, type Env, logLevelOf, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import { jsonLogger } from '../log/logger.js';
import { agentClient, agentTimings, TIMING_SETTINGS, untilSignal } from './commands/agent.js';
import { enrollNode } from './commands/token.js';
import { formatError } from './errors.js';
import { type CliIO, processIO } from './io.js';

/** The agent's timings from the environment the stack sets (cdk/cadence.ts), `kumo agent`'s defaults for those unset; a bad one is a one-line error naming its variable. */
export function agentCadence(env: Env): ReturnType<typeof agentTimings> {
  return agentTimings(
    (key) => readSetting(env, TIMING_SETTINGS[key]),
    (key) => [TIMING_SETTINGS[key].env, env[TIMING_SETTINGS[key].env] || TIMING_SETTINGS[key].default],
  );
}

/** The token in a Secrets Manager value ECS injected, if one was. */
function secretToken(value: string | undefined): string | undefined {
  return value ? tokenOfSecretString(value) : undefined;
}

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
  // Every setting is read before anything is asked of ECS or the API server: a bad one stops the container in one line.
  const dataDir = readSetting(env, SETTINGS.dataDir);
  const runtime = readSetting(env, SETTINGS.runtime);
  const port = readSetting(env, SETTINGS.agentPort);
  const timings = agentCadence(env);
  const clusterDns = readSetting(env, SETTINGS.clusterDns);
  const logger = jsonLogger({ service: 'kumo-agent', level: logLevelOf(env), sink: (line) => io.err(`${line}\n`) });
  const bootstrap = readSetting(env, SETTINGS.bootstrapToken) ?? secretToken(readSetting(env, SETTINGS.bootstrapTokenSecret));
  const agentToken = readSetting(env, SETTINGS.agentToken) ?? secretToken(readSetting(env, SETTINGS.agentTokenSecret));
  const serviceTlsSecret = readSetting(env, SETTINGS.serviceTlsSecret);
  let serviceTls: { cert: string; key: string } | undefined;
  try {
    serviceTls = serviceTlsSecret ? serviceTlsOfSecretString(serviceTlsSecret) : undefined;
  } catch (err) {
    io.err(`kumo node agent: ${SETTINGS.serviceTlsSecret.env}: ${(err as Error).message}\n`);
    return 1;
  }
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
    const tokenFile = join(dataDir, 'node-token');
    const outcome = await enrollNode({ server, nodeName: host.nodeName, tokenFile }, bootstrap);
    out(outcome === 'enrolled' ? `node ${host.nodeName} enrolled: token written to ${tokenFile}` : `node ${host.nodeName}: using the token in ${tokenFile}`);
    const stopped = untilSignal();
    const running = await runAgent({
      client: agentClient(server, readFileSync(tokenFile, 'utf8').trim()),
      nodeName: host.nodeName,
      runtime,
      ...standaloneAgentDirs(dataDir, host.nodeName),
      agent: { labels: host.labels, annotations: host.annotations ?? {}, ...(host.providerID ? { providerID: host.providerID } : {}), ...timings },
      ...(agentToken ? { endpoint: { token: agentToken, address: '0.0.0.0', port } } : {}),
      proxy: {
        nodePortAddresses: ['0.0.0.0'],
        ...(timings.pollIntervalMs ? { pollIntervalMs: timings.pollIntervalMs } : {}),
        ...(serviceTls ? { apiServer: { upstream: server, ...serviceTls } } : {}),
      },
      // Services and the rest at 4x the pods' interval, as the agent relists Services.
      ...(clusterDns ? { dns: { address: clusterDns, ...(timings.pollIntervalMs ? { pollIntervalMs: timings.pollIntervalMs * 4 } : {}) } } : {}),
      logger,
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
