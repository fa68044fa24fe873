/**
 * `kumo agent`: the node agent (kubelet) for one host, talking to any kumo
 * API server through the API (the kubeconfig's current context, or --server
 * and --token). It registers the node, runs the pods bound to it with the
 * chosen runtime and serves logs and exec on --port for the API server,
 * which must present --agent-token. Stopping the agent leaves the
 * containers running; the next agent for the node adopts them.
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Taint } from '../../api/core/v1/node.js';
import { parseQuantity } from '../../api/quantity.js';
import { runAgent, standaloneAgentDirs } from '../../assembly/agent.js';
import { KubeClient } from '../../client/client.js';
import { HttpTransport } from '../../client/transport.js';
import { CliError } from '../errors.js';
import { flagOf, logLevelOf, parseFlag, readSetting } from '../../config/read.js';
import { SETTINGS } from '../../config/settings.js';
import { positiveInteger } from '../../config/values.js';
import { jsonLogger } from '../../log/logger.js';
import type { Cli } from '../session.js';

interface AgentFlags extends TimingSettings {
  nodeName?: string;
  runtime?: string;
  server?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  nodeIp?: string;
  address: string;
  port: string;
  agentToken?: string;
  agentTokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  labels?: string;
  annotations?: string;
  providerId?: string;
  taints?: string;
  reservedCpu?: string;
  reservedMemory?: string;
  maxPods: string;
  dataDir: string;
  dockerSocket?: string;
  proxy: boolean;
  nodeportAddresses: string;
  clusterDns?: string;
  logLevel?: string;
}

/** The agent's timing settings as text, keyed as the Agent's settings are: `kumo agent`'s flags or the node agent container's environment. */
export const TIMING_SETTINGS = {
  pollInterval: SETTINGS.pollInterval,
  leaseRenewInterval: SETTINGS.leaseRenewInterval,
  leaseDuration: SETTINGS.leaseDuration,
  nodeStatusReportInterval: SETTINGS.nodeStatusReportInterval,
} as const;
export type TimingKey = keyof typeof TIMING_SETTINGS;
export type TimingSettings = Record<TimingKey, string>;

/**
 * The timings as the Agent takes them. `read` parses one setting (a flag's or a variable's parser, so a bad
 * value is one line naming what the user set); `named` says how the user set it, for the one check across two
 * settings: the lease outlasts its renewal.
 */
export function agentTimings(read: (key: TimingKey) => number, named: (key: TimingKey) => readonly [name: string, text: string]) {
  const pollIntervalMs = read('pollInterval');
  const leaseRenewMs = read('leaseRenewInterval');
  const leaseDurationMs = read('leaseDuration');
  if (leaseDurationMs <= leaseRenewMs) {
    const [lease, renew] = [named('leaseDuration'), named('leaseRenewInterval')];
    throw new CliError(`invalid ${lease[0]}: ${lease[1]} (longer than ${renew[0]} ${renew[1]})`);
  }
  const nodeStatusReportMs = read('nodeStatusReportInterval');
  return {
    leaseRenewMs,
    nodeStatusIntervalMs: leaseRenewMs,
    leaseDurationSeconds: Math.round(leaseDurationMs / 1000),
    nodeStatusReportMs,
    ...(pollIntervalMs ? { pollIntervalMs } : {}),
  };
}

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

/** A client for an agent given --server (and --token): it talks to that API server, not the kubeconfig's. */
export function agentClient(server: string, token: string | undefined, insecureSkipTLSVerify = false): KubeClient {
  return new KubeClient(
    new HttpTransport({
      server,
      ...(token ? { token } : {}),
      ...(insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
      userAgent: 'kumo-agent/0.1.0',
    }),
  );
}

/** Resolves with the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** `k=v,k2=v2` */
export function parseLabels(text: string | undefined, what = 'label'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid ${what} "${part}": expected key=value`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** `key=value:Effect,key:Effect` */
export function parseTaints(text: string | undefined): Taint[] {
  const out: Taint[] = [];
  for (const part of (text ?? '').split(',').filter((p) => p.trim() !== '')) {
    const m = part.trim().match(/^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/);
    if (!m) throw new CliError(`invalid taint "${part}": expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    out.push({ key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3]! });
  }
  return out;
}

export function agentCommand(cli: Cli): Command {
  return new Command('agent')
    .description('run the node agent: register this host as a node and run the pods bound to it')
    .option('--node-name <name>', 'the node name (default: the host name)')
    .option('--runtime <runtime>', 'docker, process or fake (default: docker when a Docker engine answers, else process)')
    .option('--server <url>', 'the API server (default: the kubeconfig context)')
    .option('--token <token>', 'bearer token for --server')
    .option('--insecure-skip-tls-verify', "do not verify the API server's certificate (with --server)")
    .option('--node-ip <ip>', "the node's InternalIP (default: the first non-loopback IPv4)")
    .option('--address <ip>', 'address the logs/exec endpoint listens on', '0.0.0.0')
    .option('--port <port>', 'port of the logs/exec endpoint (0: any free port)', SETTINGS.agentPort.default)
    .option('--agent-token <token>', 'the token the API server presents to the endpoint (or KUMO_AGENT_TOKEN)')
    .option('--agent-token-file <file>', 'read --agent-token from a file (kumo up writes ~/.kumo/agent-token)')
    .option('--tls-cert <file>', 'serve the endpoint over TLS with this certificate')
    .option('--tls-key <file>', 'the key of --tls-cert')
    .option('--labels <k=v,...>', 'node labels')
    .option('--annotations <k=v,...>', 'node annotations')
    .option('--provider-id <id>', "the node's spec.providerID (e.g. aws:///<zone>/<instance-id>)")
    .option('--taints <k=v:Effect,...>', 'node taints, set when the node registers')
    .option('--reserved-cpu <cpu>', 'CPU kept back from pods (capacity - reserved = allocatable)')
    .option('--reserved-memory <memory>', 'memory kept back from pods')
    .option('--max-pods <n>', 'pods this node accepts', '110')
    .option('--data-dir <dir>', 'where the agent keeps its data', join(homedir(), '.kumo', 'agent'))
    .option('--docker-socket <path>', 'the Docker engine socket (default: DOCKER_HOST or /var/run/docker.sock)')
    .option('--no-proxy', 'do not run the node proxy for Services (docs/services.md)')
    .option('--nodeport-addresses <ips>', 'addresses node ports listen on, comma-separated', '0.0.0.0')
    .option(
      '--cluster-dns <ip|none>',
      "where the cluster DNS server listens (port 53, docker runtime) and what pods' resolv.conf names; none: no server (default: KUMO_CLUSTER_DNS, else 169.254.20.10)",
    )
    .option(
      '--poll-interval <duration>',
      'relist pods (Services and EndpointSlices at 4x) at this interval instead of holding watches; 0: watch (for the cloud API, where a held watch is billed by the second)',
      SETTINGS.pollInterval.default,
    )
    .option('--lease-renew-interval <duration>', "how often the node's Lease is renewed (and its conditions checked)", SETTINGS.leaseRenewInterval.default)
    .option('--lease-duration <duration>', "the Lease's leaseDurationSeconds (the control plane's node grace should match)", SETTINGS.leaseDuration.default)
    .option(
      '--node-status-report-interval <duration>',
      'longest the node status goes unwritten when nothing changed',
      SETTINGS.nodeStatusReportInterval.default,
    )
    .option(
      '--log-level <level>',
      'the least severe log records written, as JSON on stderr: debug, info, warn or error (default: POWERTOOLS_LOG_LEVEL or LOG_LEVEL, else info)',
    )
    .action(async function (this: Command) {
      const f = this.opts<AgentFlags>();
      const out = (line: string) => cli.io.out(`${line}\n`);
      const nodeName = f.nodeName ?? hostname().toLowerCase();
      const port = flagOf(SETTINGS.agentPort, f.port);
      const maxPods = parseFlag('--max-pods', positiveInteger, f.maxPods);
      if (f.reservedCpu && parseQuantity(f.reservedCpu) === undefined) throw new CliError(`invalid --reserved-cpu: ${f.reservedCpu}`);
      if (f.reservedMemory && parseQuantity(f.reservedMemory) === undefined) throw new CliError(`invalid --reserved-memory: ${f.reservedMemory}`);
      const runtime = f.runtime !== undefined ? flagOf(SETTINGS.runtime, f.runtime) : undefined;
      const timings = agentTimings(
        (key) => flagOf(TIMING_SETTINGS[key], f[key]),
        (key) => [TIMING_SETTINGS[key].flag, f[key]],
      );
      const logger = jsonLogger({
        service: 'kumo-agent',
        level: logLevelOf(cli.io.env, f.logLevel),
        sink: (line) =>
          cli.io.err(`${line}
`),
      });
      const labels = parseLabels(f.labels);
      const annotations = parseLabels(f.annotations, 'annotation');
      const providerID = f.providerId || undefined;
      const taints = parseTaints(f.taints);
      const clusterDns = f.clusterDns !== undefined ? flagOf(SETTINGS.clusterDns, f.clusterDns) : readSetting(cli.io.env, SETTINGS.clusterDns);
      const client = f.server ? agentClient(f.server, f.token, f.insecureSkipTlsVerify) : cli.session(this).client();
      const token =
        f.agentToken ?? (f.agentTokenFile ? readFileSync(f.agentTokenFile, 'utf8').trim() : undefined) ?? readSetting(cli.io.env, SETTINGS.agentToken);
      const tls = f.tlsCert && f.tlsKey ? { cert: readFileSync(f.tlsCert), key: readFileSync(f.tlsKey) } : undefined;
      const stopped = untilSignal();
      const running = await runAgent({
        client,
        nodeName,
        ...(runtime ? { runtime } : {}),
        ...(f.dockerSocket ? { dockerSocket: f.dockerSocket } : {}),
        ...(f.nodeIp ? { nodeIP: f.nodeIp } : {}),
        ...standaloneAgentDirs(f.dataDir, nodeName),
        agent: {
          labels,
          annotations,
          ...(providerID ? { providerID } : {}),
          taints,
          reserved: { ...(f.reservedCpu ? { cpu: f.reservedCpu } : {}), ...(f.reservedMemory ? { memory: f.reservedMemory } : {}) },
          maxPods,
          ...timings,
        },
        ...(token ? { endpoint: { token, address: f.address, port, ...(tls ? { tls } : {}) } } : {}),
        ...(f.proxy
          ? { proxy: { nodePortAddresses: commaList(f.nodeportAddresses), ...(timings.pollIntervalMs ? { pollIntervalMs: timings.pollIntervalMs } : {}) } }
          : {}),
        ...(clusterDns ? { dns: { address: clusterDns, ...(timings.pollIntervalMs ? { pollIntervalMs: timings.pollIntervalMs * 4 } : {}) } } : {}),
        logger,
        announce: (line) => out(`kumo agent: ${line}`),
        until: stopped,
      });
      out(`kumo agent: ${await stopped} received, stopping${running.agent ? ' (containers keep running)' : ''}`);
      await running.stop();
      if (!f.server) cli.close();
    });
}
