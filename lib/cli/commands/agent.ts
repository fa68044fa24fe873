/**
 * `kumo agent`: the node agent (kubelet) for one host, talking to any kumo
 * API server through the API (the kubeconfig's current context, or --server
 * and --token). It registers the node, runs the pods bound to it with the
 * chosen runtime and serves logs and exec on --port for the API server,
 * which must present --agent-token. Stopping the agent leaves the
 * containers running; the next agent for the node adopts them.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Agent } from '../../agent/agent.js';
import { DockerEngine } from '../../agent/docker/engine.js';
import { DockerRuntime } from '../../agent/docker/runtime.js';
import { defaultNodeIP } from '../../agent/node.js';
import { ProcessRuntime, processRuntimeWarning } from '../../agent/process-runtime.js';
import { createAgentServer } from '../../agent/server.js';
import type { Taint } from '../../api/core/v1/node.js';
import { parseQuantity } from '../../api/quantity.js';
import { KubeClient } from '../../client/client.js';
import { HttpTransport } from '../../client/transport.js';
import { NodeProxy } from '../../agent/proxy/proxy.js';
import { localKeyEncryptor } from '../../store/encryption.js';
import { FakeNodes } from '../../sim/fake-nodes.js';
import { CliError } from '../errors.js';
import { flagOf, logLevelOf, parseFlag, readSetting } from '../../config/read.js';
import { SETTINGS } from '../../config/settings.js';
import { positiveInteger } from '../../config/values.js';
import { jsonLogger } from '../../log/logger.js';
import type { Cli } from '../session.js';

interface AgentFlags {
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
  pollInterval: string;
  leaseRenewInterval: string;
  leaseDuration: string;
  nodeStatusReportInterval: string;
  logLevel?: string;
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
      const runtimeFlag = f.runtime !== undefined ? flagOf(SETTINGS.runtime, f.runtime) : undefined;
      const pollIntervalMs = flagOf(SETTINGS.pollInterval, f.pollInterval);
      const leaseRenewMs = flagOf(SETTINGS.leaseRenewInterval, f.leaseRenewInterval);
      const leaseDurationMs = flagOf(SETTINGS.leaseDuration, f.leaseDuration);
      if (leaseDurationMs <= leaseRenewMs)
        throw new CliError(`invalid --lease-duration: ${f.leaseDuration} (longer than --lease-renew-interval ${f.leaseRenewInterval})`);
      const nodeStatusReportMs = flagOf(SETTINGS.nodeStatusReportInterval, f.nodeStatusReportInterval);
      const logger = jsonLogger({ service: 'kumo-agent', level: logLevelOf(cli.io.env, f.logLevel), sink: (line) => cli.io.err(`${line}\n`) });
      const labels = parseLabels(f.labels);
      const annotations = parseLabels(f.annotations, 'annotation');
      const providerID = f.providerId || undefined;
      const taints = parseTaints(f.taints);
      let client: KubeClient;
      if (f.server) {
        client = new KubeClient(
          new HttpTransport({
            server: f.server,
            ...(f.token ? { token: f.token } : {}),
            ...(f.insecureSkipTlsVerify ? { insecureSkipTLSVerify: true } : {}),
            userAgent: 'kumo-agent/0.1.0',
          }),
        );
      } else {
        client = cli.session(this).client();
      }
      const engine = new DockerEngine(f.dockerSocket);
      let runtimeName = runtimeFlag;
      if (runtimeName === undefined) runtimeName = (await engine.ping(1_500)) ? 'docker' : 'process';
      out(`kumo agent: runtime ${runtimeName}`);

      const stopped = new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });

      if (runtimeName === 'fake') {
        engine.close();
        const fake = new FakeNodes(client, { names: [nodeName], labels: () => labels, annotations: () => annotations, providerID: () => providerID, logger });
        await fake.start();
        out(`kumo agent: simulating node ${nodeName}`);
        out(`kumo agent: ${await stopped} received, stopping`);
        await fake.stop();
        return;
      }

      const nodeIP = f.nodeIp ?? defaultNodeIP();
      let runtime: DockerRuntime | ProcessRuntime;
      if (runtimeName === 'docker') runtime = new DockerRuntime({ nodeName, nodeIP, engine });
      else {
        engine.close();
        for (const line of processRuntimeWarning(userInfo().username)) out(`kumo agent: ${line}`);
        runtime = new ProcessRuntime({ nodeName, nodeIP, rootDir: f.dataDir, sealer: localKeyEncryptor(join(f.dataDir, 'secrets-encryption-key')) });
      }
      const agent = new Agent({
        client,
        nodeName,
        runtime,
        nodeIP,
        dataDir: join(f.dataDir, nodeName),
        labels,
        annotations,
        ...(providerID ? { providerID } : {}),
        taints,
        reserved: { ...(f.reservedCpu ? { cpu: f.reservedCpu } : {}), ...(f.reservedMemory ? { memory: f.reservedMemory } : {}) },
        maxPods,
        leaseRenewMs,
        nodeStatusIntervalMs: leaseRenewMs,
        leaseDurationSeconds: Math.round(leaseDurationMs / 1000),
        nodeStatusReportMs,
        ...(pollIntervalMs ? { pollIntervalMs } : {}),
        logger,
      });
      const token =
        f.agentToken ?? (f.agentTokenFile ? readFileSync(f.agentTokenFile, 'utf8').trim() : undefined) ?? readSetting(cli.io.env, SETTINGS.agentToken);
      let server: ReturnType<typeof createAgentServer> | undefined;
      if (token) {
        const tls = f.tlsCert && f.tlsKey ? { cert: readFileSync(f.tlsCert), key: readFileSync(f.tlsKey) } : undefined;
        server = createAgentServer(agent, { token, ...(tls ? { tls } : {}) });
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(port, f.address, () => resolve());
        });
        const bound = (server.address() as AddressInfo).port;
        agent.setPort(bound);
        out(`kumo agent: logs and exec served on ${f.address}:${bound}`);
      } else {
        out('kumo agent: no --agent-token (or KUMO_AGENT_TOKEN): logs and exec are not served');
      }
      await Promise.race([agent.start(), stopped]);
      // The node proxy: Service ClusterIPs and node ports on this host, to ready endpoints anywhere.
      let proxy: NodeProxy | undefined;
      if (f.proxy) {
        proxy = new NodeProxy({
          client,
          nodePortAddresses: f.nodeportAddresses
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean),
          ...(pollIntervalMs ? { pollIntervalMs } : {}),
          logger,
        });
        await Promise.race([proxy.start(), stopped]);
      }
      out(`kumo agent: ${await stopped} received, stopping (containers keep running)`);
      await proxy?.stop();
      await agent.stop();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      if (!f.server) cli.close();
    });
}
