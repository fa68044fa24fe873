/**
 * The node proxy (kube-proxy's role, in userspace): for every TCP port of
 * every Service it listens on the ClusterIP (made a local address of this
 * host, see addresses.ts) and, for NodePort and LoadBalancer Services, on
 * the node port of each configured node address. Each accepted connection is
 * forwarded to one endpoint of the Service's EndpointSlices, chosen when the
 * connection arrives (balancer.ts): ready endpoints round-robin, or the
 * client's endpoint under ClientIP affinity; terminating-but-serving ones
 * only when nothing is ready; a not-ready pod never. An endpoint that
 * refuses is skipped for the next candidate, so a pod that stops listening a
 * moment before its endpoint update arrives costs no failed connection.
 *
 * It reads only the API (Services and EndpointSlices, list+watch), so every
 * node runs the same proxy against `kumo up` or the cloud API. On one host
 * (`kumo up`, several in-process nodes) one proxy serves them all.
 */
import { createServer, type Server, Socket } from 'node:net';
import type { Service } from '../../api/core/v1/service.js';
import { type EndpointSlice, LABEL_SERVICE_NAME } from '../../api/discovery/v1/endpointslice.js';
import type { KObject } from '../../api/object.js';
import { ENDPOINT_SLICES, SERVICES } from '../../kinds/resources.js';
import type { KubeClient } from '../../client/client.js';
import { Informer } from '../../client/informer.js';
import { defaultLogger, type Logger } from '../../log/logger.js';
import { KUBERNETES_SERVICE_NAME, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_PORT } from '../../api/core/v1/kubernetes-service.js';
import { LocalAddresses } from './addresses.js';
import { ApiServerFront, type ApiServerFrontOptions } from './api-front.js';
import { type Backend, backendsOf, Balancer } from './balancer.js';

type S = Service & KObject;
type ES = EndpointSlice & KObject;

export interface NodeProxyOptions {
  client: KubeClient;
  /** Addresses node ports listen on (kube-proxy's --nodeport-addresses). @default ['0.0.0.0'] */
  nodePortAddresses?: string[];
  /** Listen on ClusterIPs (adds them to `device`; needs CAP_NET_ADMIN). @default true */
  clusterIPs?: boolean;
  /** The device ClusterIPs are added to. @default lo */
  device?: string;
  /** How long a connection to an endpoint may take before the next one is tried. @default 3 s */
  connectTimeoutMs?: number;
  /**
   * Relist Services and EndpointSlices at this interval instead of watching them (see the agent's
   * pollIntervalMs): endpoint changes, readiness included, reach this node's proxy up to this late.
   * @default undefined (watch)
   */
  pollIntervalMs?: number;
  /**
   * Answer the `default/kubernetes` Service here instead of forwarding to
   * its endpoints (a cloud node: the API server is a Function URL, see
   * api-front.ts). @default forward to the endpoints, as for any Service
   */
  apiServer?: ApiServerFrontOptions;
  /** @default defaultLogger() */
  logger?: Logger;
}

interface Listener {
  key: string;
  host: string;
  port: number;
  kind: 'cluster' | 'node';
  service: string;
  portName: string;
  protocol: string;
  /** The kubernetes Service's port, answered by the API server front. */
  front?: boolean;
  server?: Server;
}

/** The Service the API server front answers for. */
const API_SERVICE = `${KUBERNETES_SERVICE_NAMESPACE}/${KUBERNETES_SERVICE_NAME}`;

/** At most this many endpoints are tried for one connection. */
const MAX_ATTEMPTS = 3;

export class NodeProxy {
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly listeners = new Map<string, Listener>();
  private readonly balancers = new Map<string, Balancer>();
  private readonly addresses: LocalAddresses;
  /** Listener keys that failed to open (logged once each). */
  private readonly failed = new Set<string>();
  private syncing: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly open = new Set<Socket>();
  private readonly front: ApiServerFront | undefined;

  constructor(private readonly opts: NodeProxyOptions) {
    this.front = opts.apiServer ? new ApiServerFront(opts.apiServer, this.logger) : undefined;
    const changed = () => this.requestSync();
    const poll = opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {};
    this.services = new Informer(opts.client, SERVICES, { ...poll, onChange: changed, logger: this.logger });
    this.slices = new Informer(opts.client, ENDPOINT_SLICES, { ...poll, logger: this.logger });
    this.addresses = new LocalAddresses(opts.device ?? 'lo', this.logger);
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  async start(): Promise<void> {
    await this.slices.start();
    await this.services.start();
    this.requestSync();
    await this.syncing;
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const b of this.balancers.values()) b.sweep(now);
    }, 60_000);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.services.stop();
    await this.slices.stop();
    await this.syncing;
    for (const s of this.open) s.destroy();
    await Promise.all([...this.listeners.values()].map((l) => this.close(l)));
    this.front?.close();
    this.listeners.clear();
    await this.addresses.removeAll();
  }

  /** `host:port` of every open listener (for tests and `kumo agent` logs). */
  listening(): string[] {
    return [...this.listeners.values()].filter((l) => l.server?.listening).map((l) => l.key);
  }

  /** Why ClusterIPs are not served on this host, if they are not. */
  get clusterIPsUnavailable(): string | undefined {
    return this.opts.clusterIPs === false ? 'disabled' : this.addresses.unavailable;
  }

  private requestSync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.dirty = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.dirty = false;
        try {
          await this.sync();
        } catch (err) {
          this.logger.error(`kumo proxy: sync failed: ${(err as Error).message}`);
        }
      } while (this.dirty && !this.stopped);
    })().finally(() => (this.syncing = undefined));
  }

  /** The listeners the Services call for. */
  private desired(): Map<string, Listener> {
    const out = new Map<string, Listener>();
    const nodeAddrs = this.opts.nodePortAddresses ?? ['0.0.0.0'];
    for (const svc of this.services.items.values() as Iterable<S>) {
      const spec = svc.spec ?? {};
      if (spec.type === 'ExternalName') continue;
      const service = `${svc.metadata.namespace}/${svc.metadata.name}`;
      for (const p of spec.ports ?? []) {
        const protocol = p.protocol ?? 'TCP';
        // Userspace forwarding is TCP only; UDP and SCTP Services are not proxied (docs/services.md).
        if (protocol !== 'TCP') continue;
        const front = !!this.front && service === API_SERVICE && p.port === KUBERNETES_SERVICE_PORT;
        const base = { service, portName: p.name ?? '', protocol, ...(front ? { front } : {}) };
        const ip = spec.clusterIP;
        if (ip && ip !== 'None' && this.opts.clusterIPs !== false && !this.addresses.unavailable) {
          const key = `${ip}:${p.port}`;
          out.set(key, { key, host: ip, port: p.port, kind: 'cluster', ...base });
        }
        if (p.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
          for (const host of nodeAddrs) {
            const key = `${host}:${p.nodePort}`;
            out.set(key, { key, host, port: p.nodePort, kind: 'node', ...base });
          }
        }
      }
    }
    return out;
  }

  private async sync(): Promise<void> {
    const want = this.desired();
    for (const [key, l] of this.listeners) {
      if (want.has(key)) continue;
      this.listeners.delete(key);
      await this.close(l);
    }
    for (const [key, l] of want) {
      const cur = this.listeners.get(key);
      if (cur) {
        // Same address, maybe another port name or Service after an edit: connections read these when they arrive.
        cur.service = l.service;
        cur.portName = l.portName;
        cur.protocol = l.protocol;
        cur.front = l.front;
        continue;
      }
      if (l.kind === 'cluster' && !(await this.addresses.add(l.host))) continue;
      if (this.stopped) return;
      this.listeners.set(key, l);
      await this.listen(l);
    }
    // Addresses no listener uses any more go.
    const inUse = new Set([...this.listeners.values()].filter((l) => l.kind === 'cluster').map((l) => l.host));
    for (const ip of this.clusterIPsHeld) if (!inUse.has(ip)) await this.addresses.remove(ip);
    this.clusterIPsHeld = inUse;
  }

  /** ClusterIPs with a listener after the last sync. */
  private clusterIPsHeld = new Set<string>();

  private listen(l: Listener): Promise<void> {
    return new Promise((resolve) => {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.accept(l, sock));
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (!this.failed.has(l.key)) {
          this.failed.add(l.key);
          this.logger.warn(
            `kumo proxy: cannot listen on ${l.key} for ${l.service} (${err.code ?? err.message})${err.code === 'EADDRINUSE' ? ': another proxy on this host may serve it' : ''}`,
          );
        }
        if (this.listeners.get(l.key) === l) this.listeners.delete(l.key);
        resolve();
      });
      server.listen({ host: l.host, port: l.port }, () => {
        this.failed.delete(l.key);
        resolve();
      });
      l.server = server;
    });
  }

  private close(l: Listener): Promise<void> {
    const server = l.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private slicesOf(service: string): ES[] {
    const [ns, name] = service.split('/');
    const out: ES[] = [];
    for (const s of this.slices.items.values() as Iterable<ES>) {
      if (s.metadata.namespace === ns && s.metadata.labels?.[LABEL_SERVICE_NAME] === name) out.push(s);
    }
    return out;
  }

  private accept(l: Listener, client: Socket): void {
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    if (l.front && this.front) {
      this.front.accept(client);
      client.resume();
      return;
    }
    const svc = this.services.get(l.service.split('/')[0], l.service.split('/')[1]!) as S | undefined;
    const backends = backendsOf(this.slicesOf(l.service), l.portName, l.protocol);
    const affinity = svc?.spec?.sessionAffinity === 'ClientIP';
    const timeoutSeconds = (svc?.spec?.sessionAffinityConfig as { clientIP?: { timeoutSeconds?: number } } | undefined)?.clientIP?.timeoutSeconds ?? 10_800;
    const sticky = affinity ? { timeoutMs: timeoutSeconds * 1000 } : undefined;
    const balancerKey = `${l.service}:${l.portName}`;
    let balancer = this.balancers.get(balancerKey);
    if (!balancer) {
      balancer = new Balancer();
      this.balancers.set(balancerKey, balancer);
    }
    const clientIP = client.remoteAddress ?? '';
    const order = balancer.pick(backends, clientIP, sticky, Date.now()).slice(0, MAX_ATTEMPTS);
    // No endpoint may take it: refuse, as kube-proxy's REJECT rule does.
    if (order.length === 0) {
      client.resetAndDestroy();
      return;
    }
    this.connect(client, order, 0, (backend, i) => {
      if (i > 0) balancer!.settled(clientIP, backend, sticky, Date.now());
    });
  }

  private connect(client: Socket, order: Backend[], i: number, onConnected: (b: Backend, attempt: number) => void): void {
    if (client.destroyed) return;
    const backend = order[i];
    if (!backend) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket({ allowHalfOpen: true });
    this.open.add(upstream);
    upstream.once('close', () => this.open.delete(upstream));
    const timeout = setTimeout(() => upstream.destroy(new Error('connect timeout')), this.opts.connectTimeoutMs ?? 3_000);
    const failed = () => {
      clearTimeout(timeout);
      upstream.destroy();
      this.connect(client, order, i + 1, onConnected);
    };
    upstream.once('error', failed);
    upstream.connect({ host: backend.ip, port: backend.port }, () => {
      clearTimeout(timeout);
      upstream.off('error', failed);
      onConnected(backend, i);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => {
        if (!client.writableEnded) client.end();
      });
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
