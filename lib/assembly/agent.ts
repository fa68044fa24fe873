/**
 * The one way a node agent is assembled, for `kumo agent`, for `kumo up`'s
 * in-process agents and for the ECS node agent container: which container
 * runtime (or the simulated node of `fake`), the Agent over it, and for a
 * standalone agent its logs and exec endpoint and its node proxy. The callers
 * differ only in where the settings come from (flags, the cluster's options,
 * the container's environment) and in what they do when it is time to stop.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentOptions } from '../agent/agent.js';
import { DockerEngine } from '../agent/docker/engine.js';
import { DockerRuntime } from '../agent/docker/runtime.js';
import { defaultNodeIP } from '../agent/node.js';
import { ProcessRuntime, processRuntimeWarning } from '../agent/process-runtime.js';
import { NodeDns, type NodeDnsOptions } from '../agent/dns/node-dns.js';
import { NodeProxy, type NodeProxyOptions } from '../agent/proxy/proxy.js';
import { createAgentServer } from '../agent/server.js';
import type { KubeClient } from '../client/client.js';
import type { Logger } from '../log/logger.js';
import { FakeNodes } from '../sim/fake-nodes.js';
import { type Encryptor, localKeyEncryptor } from '../store/encryption.js';

export type AgentRuntimeName = 'docker' | 'process' | 'fake';

export interface AgentConfig {
  client: KubeClient;
  nodeName: string;
  /** How pods run; `fake` simulates the node instead. @default docker when a Docker engine answers, else process */
  runtime?: AgentRuntimeName;
  /** The Docker engine socket. @default DOCKER_HOST or /var/run/docker.sock */
  dockerSocket?: string;
  /** The node's InternalIP. @default the host's first non-loopback IPv4 */
  nodeIP?: string;
  /** Where the process runtime keeps its containers' state, output and volumes. */
  runtimeDir: string;
  /** Where the agent keeps its own data (the disk-pressure check, secret volumes' fallback). */
  agentDir: string;
  /** Seals the process runtime's container env; called only when that runtime is chosen (it may create a key). */
  sealer: () => Encryptor;
  /** The rest of the Agent's settings: labels, taints, reservations, intervals. */
  agent?: Partial<Omit<AgentOptions, 'client' | 'nodeName' | 'runtime' | 'dataDir' | 'nodeIP' | 'logger'>>;
  /** Serves logs and exec to the API server, which presents `token` (a standalone agent; `kumo up` connects in process). */
  endpoint?: { token: string; address: string; port: number; tls?: { cert: Buffer; key: Buffer } };
  /** Runs a node proxy for Services beside the agent (a standalone agent; `kumo up` runs one for all its agents). */
  proxy?: Omit<NodeProxyOptions, 'client' | 'logger'>;
  /**
   * Runs the node's cluster DNS server beside a docker agent (a standalone agent; `kumo up` runs one for all
   * its agents) and makes it the pods' nameserver; the Docker bridge's gateway is the fallback address.
   * The process runtime runs none: a host process reads the host's resolv.conf (docs/dns.md).
   */
  dns?: Omit<NodeDnsOptions, 'client' | 'logger' | 'fallbackAddress'>;
  logger: Logger;
  /** Tells the operator of a standalone agent what it chose: the runtime, its warning, where logs and exec are served. */
  announce?: (line: string) => void;
  /** Called once the agent exists, before it starts: `kumo up` tracks it so that stopping the cluster mid-start stops it too. */
  created?: (agent: Agent) => void;
  /** Starting gives up waiting when this settles (a signal during start-up); what was started is stopped by stop(). */
  until?: Promise<unknown>;
}

export interface RunningAgent {
  /** The agent (none for a simulated node). */
  agent?: Agent;
  /** Stops the proxy, the agent and its endpoint. Containers keep running unless `stopPods`. */
  stop(opts?: { stopPods?: boolean }): Promise<void>;
}

/** The data directory layout of a standalone agent (`kumo agent --data-dir`, the node agent container): one runtime directory, one key, a directory per node. */
export function standaloneAgentDirs(dataDir: string, nodeName: string): Pick<AgentConfig, 'runtimeDir' | 'agentDir' | 'sealer'> {
  return { runtimeDir: dataDir, agentDir: join(dataDir, nodeName), sealer: () => localKeyEncryptor(join(dataDir, 'secrets-encryption-key')) };
}

export async function runAgent(config: AgentConfig): Promise<RunningAgent> {
  const announce = config.announce ?? (() => {});
  const started = <T>(p: Promise<T>) => (config.until ? Promise.race([p, config.until]) : p);
  const engine = new DockerEngine(config.dockerSocket);
  const runtimeName = config.runtime ?? ((await engine.ping(1_500)) ? 'docker' : 'process');
  announce(`runtime ${runtimeName}`);

  if (runtimeName === 'fake') {
    engine.close();
    const labels = config.agent?.labels ?? {};
    const annotations = config.agent?.annotations ?? {};
    const providerID = config.agent?.providerID;
    const fake = new FakeNodes(config.client, {
      names: [config.nodeName],
      labels: () => labels,
      annotations: () => annotations,
      providerID: () => providerID,
      logger: config.logger,
    });
    await fake.start();
    announce(`simulating node ${config.nodeName}`);
    return { stop: () => fake.stop() };
  }

  const { nodeName } = config;
  const nodeIP = config.nodeIP ?? defaultNodeIP();
  let runtime: DockerRuntime | ProcessRuntime;
  let dns: NodeDns | undefined;
  if (runtimeName === 'docker') {
    runtime = new DockerRuntime({ nodeName, nodeIP, engine });
    if (config.dns) dns = new NodeDns({ ...config.dns, client: config.client, logger: config.logger, fallbackAddress: () => engine.bridgeGateway() });
  } else {
    engine.close();
    for (const line of processRuntimeWarning(userInfo().username)) announce(line);
    runtime = new ProcessRuntime({ nodeName, nodeIP, rootDir: config.runtimeDir, sealer: config.sealer() });
  }
  // The DNS address is the pods' nameserver, so it is settled before the first pod starts.
  const dnsAddress = dns ? await started(dns.start()) : undefined;
  if (dns) announce(typeof dnsAddress === 'string' ? `cluster DNS served on ${dnsAddress}:53` : 'no cluster DNS: pods get the host resolvers');
  const clusterDNS = typeof dnsAddress === 'string' ? { clusterDNS: [dnsAddress] } : {};
  const agent = new Agent({
    ...config.agent,
    ...clusterDNS,
    client: config.client,
    nodeName,
    runtime,
    nodeIP,
    dataDir: config.agentDir,
    logger: config.logger,
  });
  config.created?.(agent);

  let server: Server | undefined;
  if (config.endpoint) {
    const { token, tls, port, address } = config.endpoint;
    const s = createAgentServer(agent, { token, ...(tls ? { tls } : {}) });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, address, () => resolve());
    });
    server = s;
    const bound = (s.address() as AddressInfo).port;
    agent.setPort(bound);
    announce(`logs and exec served on ${address}:${bound}`);
  } else if (config.announce) {
    announce('no --agent-token (or KUMO_AGENT_TOKEN): logs and exec are not served');
  }

  let proxy: NodeProxy | undefined;
  const stop = async (opts: { stopPods?: boolean } = {}) => {
    await proxy?.stop();
    await agent.stop(opts);
    await dns?.stop();
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
  };
  await started(agent.start());
  // The node proxy: Service ClusterIPs and node ports on this host, to ready endpoints anywhere.
  if (config.proxy) {
    proxy = new NodeProxy({ ...config.proxy, client: config.client, logger: config.logger });
    await started(proxy.start());
  }
  return { agent, stop };
}
