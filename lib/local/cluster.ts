/**
 * `kumo up`: the whole control plane in one process on the embedded store.
 * The same lib code the cloud functions run, wired in-process: the API
 * server behind an HTTPS server (or, asked for, plain HTTP on loopback), and
 * the controllers fed by the store's change feed.
 *
 * The data directory is the user's alone (0700, its state files 0600):
 * state.db, the keys, the tokens and the agents' state. `kumo.pid` in it
 * names the process serving it, for `kumo down` (lib/local/down.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentOptions } from '../agent/agent.js';
import { AgentConnector } from '../agent/connector.js';
import { DockerEngine } from '../agent/docker/engine.js';
import type { Node } from '../api/core/v1/node.js';
import type { KObject } from '../api/object.js';
import { isNotFound } from '../api/errors.js';
import { execUpgradeHandler } from '../apiserver/exec.js';
import { kubernetesServiceIP, reconcileKubernetesService } from '../apiserver/kubernetes-service.js';
import { kubernetesServiceNames } from '../api/core/v1/kubernetes-service.js';
import { bootstrap, createIfAbsent } from '../apiserver/bootstrap.js';
import { localDefaultClass } from '../kinds/storageclass.js';
import { createApiHttpServer } from '../apiserver/http.js';
import { ApiMetrics } from '../apiserver/metrics.js';
import type { PodSecurityConfig } from '../apiserver/podsecurity/config.js';
import { ADMIN, ApiServer } from '../apiserver/server.js';
import { newKindRegistry } from '../kinds/index.js';
import type { UserInfo } from '../api/request.js';
import { StaticTokenAuthenticator } from '../apiserver/token-auth.js';
import { reconcileDefaultRbac } from '../auth/rbac/reconcile.js';
import { serviceAccountChain, type TokenAuth, tokenAuth } from '../auth/assembly.js';
import { ensureTokenNamespace } from '../auth/bootstrap.js';
import { TokenMac } from '../auth/token-mac.js';
import { ServiceAccountJwt } from '../auth/serviceaccount/jwt.js';
import { localSigningKey } from '../auth/serviceaccount/signing-key.js';
import { KubeClient } from '../client/client.js';
import { InProcessTransport } from '../client/transport.js';
import { runAgent } from '../assembly/agent.js';
import { type ControlPlaneOptions, controllerReconcilers, schedulerReconciler } from '../assembly/control-plane.js';
import { LocalControllerDriver } from '../controller-runtime/local-driver.js';
import { ControllerMetrics } from '../controller-runtime/metrics.js';
import { NodeProxy, type NodeProxyOptions } from '../agent/proxy/proxy.js';
import { DnsMetrics } from '../agent/dns/metrics.js';
import { NodeDns, type NodeDnsOptions } from '../agent/dns/node-dns.js';
import { FakeNodes, type FakeNodeOptions } from '../sim/fake-nodes.js';
import { type Encryptor, EncryptingStore, localKeyEncryptor } from '../store/encryption.js';
import { InstrumentedStore } from '../store/instrumented.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { SqliteStore } from '../store/sqlite.js';
import { commandLine } from '../util/processes.js';
import { privateDir, privateFile, tightenFile, writePrivateFile } from '../util/private-files.js';
import { isLoopbackAddress, loopbackRefusal } from './loopback-guard.js';
import { localAdminToken, localTls, localToken } from './tls.js';
import type { Store } from '../store/types.js';
import { NODES, STORAGE_CLASSES } from '../kinds/resources.js';
import { LOCAL_DEFAULT_CLASS, LOCAL_PATH_PROVISIONER } from '../controllers/volumes.js';

export interface LocalClusterOptions {
  /** Directory for state.db (and, later, keys and volumes). */
  dataDir: string;
  /** @default 6443 */
  port?: number;
  /** The address to listen on; with `insecureHttp` a loopback one only. @default 127.0.0.1 */
  host?: string;
  /**
   * The startup and shutdown lines, for whoever started the cluster (`kumo
   * up` prints them on stdout: they are its output, not logs). @default none
   */
  print?: (line: string) => void;
  /**
   * The operational records of the API server, the control loops, the
   * agents, the node proxy and the simulated nodes. @default defaultLogger()
   */
  logger?: Logger;
  /** How often the change log is compacted. @default 60 s */
  compactIntervalMs?: number;
  /** Log retention for watches. @default 10 minutes */
  retentionMs?: number;
  /** Run the controllers and the scheduler. @default true */
  controllers?: boolean;
  /** Options for the reconcilers (timings are configurable for tests). */
  controlPlane?: ControlPlaneOptions;
  /** How often every key is re-queued. @default 30 s */
  resyncIntervalMs?: number;
  /** DefaultTolerationSeconds admission for pods. @default 300 */
  defaultTolerationSeconds?: number;
  /** Simulated nodes to start (the fake runtime). @default none */
  fakeNodes?: Omit<FakeNodeOptions, 'logger'>;
  /**
   * The runtime of the in-process agents: `docker` (the Docker engine),
   * `process` (host processes), or none. `kumo up` picks docker when an
   * engine answers, else process; `fake` goes through `fakeNodes`.
   * @default none
   */
  runtime?: 'docker' | 'process';
  /** Node names of the in-process agents. @default [the host name] */
  nodeNames?: string[];
  /** Agent settings (timings for tests). */
  agent?: Partial<Omit<AgentOptions, 'client' | 'nodeName' | 'runtime' | 'dataDir'>>;
  /** The token agents accept from this API server. @default read from, or created in, dataDir/agent-token */
  agentToken?: string;
  /**
   * Serve plain HTTP without authentication instead of HTTPS with a token.
   * Then `host` must be a loopback address, and requests must name a
   * loopback Host and come from no web page (lib/local/loopback-guard.ts).
   * The default is the same front door as `kumo up`'s, so no embedding of
   * LocalCluster is open by accident: HTTPS with a self-signed CA
   * (dataDir/tls/) and the admin bearer token (dataDir/admin-token); `caData`
   * and `adminToken` go into the kubeconfig. @default false
   */
  insecureHttp?: boolean;
  /** Longest life of a watch whose client names no timeoutSeconds. @default 30 minutes */
  watchTimeoutMs?: number;
  /**
   * The node proxy for Services (lib/agent/proxy/): one for this host, run
   * when in-process agents run pods (`runtime`). false: none.
   */
  proxy?: false | Omit<NodeProxyOptions, 'client' | 'logger'>;
  /**
   * The cluster DNS server (lib/agent/dns/): with the docker runtime, one for this host serves every
   * in-process node (as the one node proxy does), on 169.254.20.10:53 or the Docker bridge's gateway,
   * and is every pod's nameserver. false: none (pods get the host's resolvers).
   */
  dns?: false | Omit<NodeDnsOptions, 'client' | 'logger' | 'fallbackAddress' | 'metrics'>;
  /** ClusterIP range. @default 10.96.0.0/12 */
  serviceClusterIPRange?: string;
  /** NodePort range. @default 30000-32767 */
  serviceNodePortRange?: string;
  /**
   * Pod Security Admission's defaults and exemptions (`kumo up
   * --admission-config`). @default upstream's: everything privileged, so
   * only namespaces that ask (with labels) are checked
   */
  podSecurity?: PodSecurityConfig;
  /**
   * ServiceAccount admission mounts the kube-api-access-* token volume into
   * pods (AdmissionConfig.mountServiceAccountToken), as kube does. @default
   * true over HTTPS; false with `insecureHttp`, which has no CA for the
   * volume's ca.crt and no authentication for its token
   */
  mountServiceAccountToken?: boolean;
  /** How long the ServiceAccount token authenticator trusts what it read of a token's objects. @default 10 s */
  serviceAccountTokenCacheMs?: number;
}

/** Whether a Docker engine answers on the local socket. */
export async function dockerAnswers(): Promise<boolean> {
  const engine = new DockerEngine();
  try {
    return await engine.ping(1_500);
  } finally {
    engine.close();
  }
}

/** Who the in-process control loops are. */
const CONTROL_PLANE_USER: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:masters', 'system:authenticated'] };

/** The file in a data directory naming the process that serves it. */
export const PID_FILE = 'kumo.pid';

/** What `kumo.pid` records: the pid, and its command line to tell it from a later process given the same pid. */
export interface PidRecord {
  pid: number;
  command: string;
}

/** The record in a `kumo.pid` file, or undefined when there is none (a clean stop removes it) or it is unreadable. */
export function readPidRecord(file: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

export class LocalCluster {
  readonly store: Store;
  readonly api: ApiServer;
  /** An admin client that calls the API server in-process. */
  readonly client: KubeClient;
  /** The controllers' and the scheduler's client. */
  private readonly controlPlaneClient: KubeClient;
  private http: Server | undefined;
  driver: LocalControllerDriver | undefined;
  fake: FakeNodes | undefined;
  /** The in-process agents, by node name. */
  readonly agents = new Map<string, Agent>();
  /** The host's node proxy (with `runtime`). */
  proxy: NodeProxy | undefined;
  /** The host's cluster DNS server (with the docker runtime). */
  dns: NodeDns | undefined;
  /** The bearer token agents accept from this API server (for `kumo agent --agent-token`). */
  readonly agentToken: string;
  /** With TLS: stored tokens and the authorizer chain (lib/auth/assembly.ts). */
  readonly auth: TokenAuth | undefined;
  /** The data directory's key: Secrets in state.db and the process runtime's container env are sealed with it. */
  private readonly sealer: Encryptor;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly metrics: ApiMetrics;
  url = '';
  /** Over HTTPS (unless `insecureHttp`): the CA certificate (PEM, base64) clients trust, for kubeconfig's certificate-authority-data. */
  caData: string | undefined;
  /** Unless `insecureHttp`: the admin bearer token the API server accepts. */
  readonly adminToken: string | undefined;

  constructor(private readonly opts: LocalClusterOptions) {
    const host = opts.host ?? '127.0.0.1';
    if (opts.insecureHttp && !isLoopbackAddress(host)) {
      throw new Error(`plain HTTP has no authentication, so it listens on a loopback address only, not ${host}`);
    }
    privateDir(opts.dataDir);
    // SQLite gives state.db-wal and -shm the mode of state.db; older data directories may hold them already.
    const db = join(opts.dataDir, 'state.db');
    privateFile(db);
    for (const f of [`${db}-wal`, `${db}-shm`]) tightenFile(f);
    // Secrets are sealed before they reach state.db, with a key kept next to it (lib/store/encryption.ts).
    this.sealer = localKeyEncryptor(join(opts.dataDir, 'secrets-encryption-key'));
    // One registry for the process: the API server's requests, the store's operations and the control loops (GET /metrics).
    const metrics = new ApiMetrics();
    this.metrics = metrics;
    // The kinds the API server serves; the store labels its operations with their groups.
    const kinds = newKindRegistry();
    this.store = new InstrumentedStore(
      new EncryptingStore(new SqliteStore({ path: db, ...(opts.retentionMs ? { retentionMs: opts.retentionMs } : {}) }), this.sealer),
      metrics.registry,
      kinds,
    );
    this.agentToken = opts.agentToken ?? localToken(opts.dataDir, 'agent-token', 24);
    const connector = new AgentConnector({
      local: this.agents,
      token: this.agentToken,
      getNode: async (name) => {
        try {
          return (await this.api.rest.get(NODES, undefined, name)) as Node & KObject;
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
    });
    this.adminToken = opts.insecureHttp ? undefined : localAdminToken(opts.dataDir);
    // ServiceAccount tokens are signed with a key kept beside the state (0600), so they outlive restarts.
    const serviceAccountTokens = new ServiceAccountJwt({ key: localSigningKey(join(opts.dataDir, 'service-account-key.pem')) });
    // With TLS: the admin token (system:masters), stored kumo tokens under a MAC key kept beside state.db, ServiceAccount
    // tokens, and kube's authorizer chain with RBAC. Plain HTTP has no authentication, so everyone is admin.
    this.auth = this.adminToken ? tokenAuth(this.store, new TokenMac(localToken(opts.dataDir, 'token-mac-key', 32)), { logger: this.logger }) : undefined;
    this.api = new ApiServer({
      store: this.auth?.store ?? this.store,
      metrics,
      kinds,
      logger: this.logger,
      podConnector: connector,
      serviceAccountTokens,
      ...(this.adminToken && this.auth
        ? {
            authenticator: serviceAccountChain(
              this.store,
              {
                jwt: serviceAccountTokens,
                registry: metrics.registry,
                ...(opts.serviceAccountTokenCacheMs !== undefined ? { cacheMs: opts.serviceAccountTokenCacheMs } : {}),
              },
              [new StaticTokenAuthenticator(new Map([[this.adminToken, ADMIN]])), this.auth.tokens],
              { logger: this.logger },
            ),
            authorizer: this.auth.authorizer,
          }
        : {}),
      ...(opts.watchTimeoutMs !== undefined ? { watchTimeoutMs: opts.watchTimeoutMs } : {}),
      admission: {
        // Its in-process agents' nodes are 127.0.0.1, so host-process and hostNetwork pods' Endpoints are too.
        loopbackEndpoints: true,
        ...(opts.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: opts.defaultTolerationSeconds } : {}),
        ...(opts.serviceClusterIPRange ? { serviceClusterIPRange: opts.serviceClusterIPRange } : {}),
        ...(opts.serviceNodePortRange ? { serviceNodePortRange: opts.serviceNodePortRange } : {}),
        ...(opts.podSecurity ? { podSecurity: opts.podSecurity } : {}),
        ...((opts.mountServiceAccountToken ?? !opts.insecureHttp) ? { mountServiceAccountToken: true } : {}),
      },
    });
    this.client = new KubeClient(new InProcessTransport(this.api, ADMIN));
    // The control loops act as themselves, as kube-controller-manager does: admission exemptions that name the
    // admin (kubectl's user here) do not carry over to the pods a Deployment's controller creates.
    this.controlPlaneClient = new KubeClient(new InProcessTransport(this.api, CONTROL_PLANE_USER));
  }

  private print(line: string): void {
    this.opts.print?.(line);
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  /** Where this cluster keeps its state (state.db, keys, volumes). */
  get dataDir(): string {
    return this.opts.dataDir;
  }

  async start(): Promise<void> {
    await bootstrap(this.api.rest);
    await reconcileDefaultRbac(this.api.rest);
    if (this.auth) await ensureTokenNamespace(this.api.rest);
    // kumo up's default StorageClass, made again at start if deleted (as k3s does its local-path class).
    await createIfAbsent(this.api.rest, STORAGE_CLASSES, localDefaultClass(LOCAL_DEFAULT_CLASS, LOCAL_PATH_PROVISIONER) as KObject);
    const host = this.opts.host ?? '127.0.0.1';
    let tls: { key: string; cert: string } | undefined;
    let caPem: string | undefined;
    if (!this.opts.insecureHttp) {
      // Pods dial the `kubernetes` Service: its ClusterIP and names must be in the certificate too, as kube-apiserver's are.
      const hosts = [
        ...new Set([
          'localhost',
          '127.0.0.1',
          '::1',
          hostname(),
          ...(host === '0.0.0.0' || host === '::' ? [] : [host]),
          kubernetesServiceIP(this.opts.serviceClusterIPRange),
          ...kubernetesServiceNames(),
        ]),
      ];
      const t = localTls(this.opts.dataDir, hosts);
      tls = { key: t.keyPem, cert: t.certPem };
      caPem = t.caPem;
      this.caData = Buffer.from(t.caPem).toString('base64');
    }
    this.http = createApiHttpServer(this.api, {
      onUpgrade: execUpgradeHandler(this.api),
      logger: this.logger,
      ...(tls ? { tls } : { filter: (req) => loopbackRefusal(req, host) }),
    });
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.opts.port ?? 6443, host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    // Clients dial a wildcard address's loopback (which the certificate names).
    const dial = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    this.url = `${tls ? 'https' : 'http'}://${dial.includes(':') ? `[${dial}]` : dial}:${port}`;
    // Pods reach this server through the host's node proxy, which forwards the Service's ClusterIP to where clients dial.
    await reconcileKubernetesService(this.api.rest, {
      port,
      endpoint: { ip: dial, port },
      ...(this.opts.serviceClusterIPRange ? { serviceClusterIPRange: this.opts.serviceClusterIPRange } : {}),
    });
    const compact = setInterval(
      () => void this.store.compact().catch((err: Error) => this.logger.error(`compaction failed: ${err.message}`)),
      this.opts.compactIntervalMs ?? 60_000,
    );
    compact.unref();
    this.timers.push(compact);
    const me: PidRecord = { pid: process.pid, command: commandLine(process.pid) ?? '' };
    writePrivateFile(join(this.opts.dataDir, PID_FILE), `${JSON.stringify(me)}\n`);
    this.print(`kumo: API server listening on ${this.url}${tls ? '' : ' (plain HTTP without authentication: loopback only, no requests from web pages)'}`);
    this.print(`kumo: state in ${join(this.opts.dataDir, 'state.db')}`);
    if (this.opts.controllers !== false) {
      // Claims of the local-path class get a directory under the data dir (one host: every node can mount it).
      // The API server's kinds: the garbage collector follows those it adds at run time (custom resources).
      const controlPlane = {
        logger: this.logger,
        kinds: this.api.kinds,
        // Pods trust the API server's CA through kube-root-ca.crt (none over plain HTTP).
        ...(caPem ? { rootCaPem: caPem } : {}),
        ...this.opts.controlPlane,
        volumes: { localPathRoot: join(this.opts.dataDir, 'volumes'), ...this.opts.controlPlane?.volumes },
      };
      const reconcilers = [
        ...controllerReconcilers(this.controlPlaneClient, controlPlane),
        schedulerReconciler(this.controlPlaneClient, { logger: this.logger, ...this.opts.controlPlane }),
      ];
      this.driver = new LocalControllerDriver(this.store, reconcilers, {
        logger: this.logger,
        metrics: new ControllerMetrics(this.metrics.registry),
        ...(this.opts.resyncIntervalMs ? { resyncIntervalMs: this.opts.resyncIntervalMs } : {}),
      });
      await this.driver.start();
      this.print(`kumo: controllers and scheduler running (${reconcilers.map((r) => r.name).join(', ')})`);
    }
    if (this.opts.fakeNodes && this.opts.fakeNodes.names.length > 0) {
      this.fake = new FakeNodes(this.client, { ...this.opts.fakeNodes, logger: this.logger });
      await this.fake.start();
      this.print(
        `kumo: ${this.opts.fakeNodes.names.length} simulated node(s): ${this.opts.fakeNodes.names.slice(0, 5).join(', ')}${this.opts.fakeNodes.names.length > 5 ? ', ...' : ''}`,
      );
    }
    if (this.opts.runtime === 'docker' && this.opts.dns !== false) await this.startDns(this.opts.dns ?? {});
    if (this.opts.runtime) {
      for (const name of this.opts.nodeNames ?? [hostname()]) await this.startAgent(name, this.opts.runtime);
      if (this.opts.proxy !== false) {
        this.proxy = new NodeProxy({ ...(this.opts.proxy ?? {}), client: this.client, logger: this.logger });
        await this.proxy.start();
        this.print('kumo: node proxy running (Service ClusterIPs and node ports, docs/services.md)');
      }
    }
  }

  /** The DNS server every in-process docker node's pods use; its metrics join the process's /metrics. */
  private async startDns(opts: Omit<NodeDnsOptions, 'client' | 'logger' | 'fallbackAddress' | 'metrics'>): Promise<void> {
    const engine = new DockerEngine();
    this.dns = new NodeDns({
      ...opts,
      client: this.client,
      logger: this.logger,
      metrics: new DnsMetrics(this.metrics.registry),
      fallbackAddress: () => engine.bridgeGateway().finally(() => engine.close()),
    });
    const address = await this.dns.start();
    engine.close();
    this.print(
      address ? `kumo: cluster DNS on ${address}:53 (cluster.local, docs/dns.md)` : "kumo: no cluster DNS (see the log): pods get the host's resolvers",
    );
  }

  /** Starts an in-process agent for a node (tests add several, each with its own node name). */
  async startAgent(nodeName: string, runtimeName: 'docker' | 'process', extra: Partial<AgentOptions> = {}): Promise<Agent> {
    const dns = this.dns?.address ? { clusterDNS: [this.dns.address] } : {};
    const { nodeIP = '127.0.0.1', logger = this.logger, ...agent } = { ...dns, ...this.opts.agent, ...extra };
    const dataDir = join(this.opts.dataDir, 'agent', nodeName);
    const running = await runAgent({
      client: this.client,
      nodeName,
      runtime: runtimeName,
      nodeIP,
      runtimeDir: dataDir,
      agentDir: dataDir,
      sealer: () => this.sealer,
      agent,
      logger,
      created: (a) => this.agents.set(nodeName, a),
    });
    return running.agent!;
  }

  /** Stops an in-process agent; its containers keep running (a new agent for the node adopts them). */
  async stopAgent(nodeName: string): Promise<void> {
    const agent = this.agents.get(nodeName);
    this.agents.delete(nodeName);
    await agent?.stop();
  }

  /**
   * Stops the cluster. The pods of the in-process agents are stopped too,
   * each within its termination grace period (the next start on this data
   * directory restarts them per restartPolicy); `keepPods` leaves them
   * running for the next start to adopt.
   */
  async stop(opts: { keepPods?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.fake?.stop();
    await this.proxy?.stop();
    if (this.agents.size > 0 && !opts.keepPods) this.print('kumo: stopping pods, each within its termination grace period');
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.stop({ stopPods: !opts.keepPods, stopped: (pod) => this.print(`kumo agent: stopped pod ${pod}`) })));
    await this.dns?.stop();
    await this.driver?.stop();
    if (this.http) {
      const server = this.http;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.store.close();
    // Unless another process has started on this data directory since (it wrote its own).
    const pidFile = join(this.opts.dataDir, PID_FILE);
    if (readPidRecord(pidFile)?.pid === process.pid) rmSync(pidFile, { force: true });
  }
}
