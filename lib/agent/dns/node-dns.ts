/**
 * A node's cluster DNS, wired (docs/dns.md): informers over Namespaces,
 * Services, EndpointSlices and Pods keep a ClusterRecords current, and a
 * DnsServer answers the cluster zone from it on port 53 of a node-local
 * address, forwarding every other name to the host's resolvers. The address
 * is NodeLocal DNSCache's 169.254.20.10, made a local address of the host
 * the way the node proxy makes ClusterIPs local (`ip addr add` on `lo`,
 * CAP_NET_ADMIN); without that privilege the server listens on a fallback
 * address instead (the Docker bridge's gateway, which every bridged
 * container reaches). The address it serves on is the node's cluster DNS
 * server, the nameserver of its pods' resolv.conf (the kubelet's
 * --cluster-dns).
 *
 * Invariant: until all four kinds have listed once the records are not
 * synced, and the zone answers unknown names SERVFAIL, never NXDOMAIN.
 */
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';
import type { KObject } from '../../api/object.js';
import type { KubeClient } from '../../client/client.js';
import { Informer } from '../../client/informer.js';
import { ENDPOINT_SLICES, NAMESPACES, PODS, SERVICES } from '../../kinds/resources.js';
import { defaultLogger, type Logger } from '../../log/logger.js';
import { type Clock, systemClock } from '../../util/clock.js';
import { LocalAddresses } from '../proxy/addresses.js';
import { ClusterRecords } from './cluster-records.js';
import { ClusterZone } from './cluster-zone.js';
import { Forwarder, type Upstream, upstreamsFromResolvConf } from './forwarder.js';
import { readHostResolvConf } from './host-resolv-conf.js';
import type { DnsMetrics } from './metrics.js';
import { DnsServer } from './server.js';

type ES = EndpointSlice & KObject;

/** NodeLocal DNSCache's link-local address: the same on every node, routed nowhere off it. */
export const NODE_LOCAL_DNS_ADDRESS = '169.254.20.10';
/** resolv.conf names no port: a pod's resolver asks port 53. */
const DNS_PORT = 53;

export interface NodeDnsOptions {
  client: KubeClient;
  /** The node-local address the server listens on, added to `device`. @default 169.254.20.10 */
  address?: string;
  /** The device `address` is added to. @default lo */
  device?: string;
  /**
   * Where to listen when `address` cannot be added (no CAP_NET_ADMIN): the
   * Docker bridge's gateway on a docker node. Undefined when there is none.
   * @default none: no server then
   */
  fallbackAddress?: () => Promise<string | undefined>;
  /** The host's resolv.conf (its nameservers are the upstreams). @default readHostResolvConf() */
  hostResolvConf?: string;
  /** The resolvers names outside the cluster go to, instead of the host's (tests run one on loopback). */
  upstreams?: readonly Upstream[];
  /** Relist instead of watching (the agent's pollIntervalMs). @default undefined (watch) */
  pollIntervalMs?: number;
  /** CoreDNS's request and response counters. @default none */
  metrics?: DnsMetrics;
  clock?: Clock;
  /** @default defaultLogger() */
  logger?: Logger;
}

/** The records' informers: each kind's adds and updates set, its deletes delete. */
export function recordInformers(client: KubeClient, records: ClusterRecords, opts: { pollIntervalMs?: number; logger?: Logger } = {}): Informer[] {
  type Feed = [typeof NAMESPACES, (o: KObject) => void, (o: KObject) => void];
  const feeds: Feed[] = [
    [NAMESPACES, (o) => records.setNamespace(o), (o) => records.deleteNamespace(o)],
    [SERVICES, (o) => records.setService(o), (o) => records.deleteService(o)],
    [ENDPOINT_SLICES, (o) => records.setEndpointSlice(o as ES), (o) => records.deleteEndpointSlice(o as ES)],
    [PODS, (o) => records.setPod(o), (o) => records.deletePod(o)],
  ];
  return feeds.map(
    ([rt, set, del]) =>
      new Informer(client, rt, {
        ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
        ...(opts.logger ? { logger: opts.logger } : {}),
        onChange: (type, obj) => (type === 'DELETED' ? del(obj) : set(obj)),
      }),
  );
}

export class NodeDns {
  readonly records: ClusterRecords;
  private readonly informers: Informer[];
  private readonly addresses: LocalAddresses;
  private server: DnsServer | undefined;
  private serving: string | undefined;

  constructor(private readonly opts: NodeDnsOptions) {
    this.records = new ClusterRecords(opts.clock ?? systemClock);
    this.informers = recordInformers(opts.client, this.records, {
      ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
      logger: this.logger,
    });
    this.addresses = new LocalAddresses(
      opts.device ?? 'lo',
      this.logger,
      (ip, why) => `kumo dns: cannot add ${ip} to ${opts.device ?? 'lo'} (${why}); trying the fallback address (run as root, or with CAP_NET_ADMIN, for ${ip})`,
    );
  }

  private get logger(): Logger {
    return this.opts.logger ?? defaultLogger();
  }

  /** The address pods reach the server on, once started (undefined when it could listen nowhere). */
  get address(): string | undefined {
    return this.serving;
  }

  /**
   * Starts the informers and listens on the node-local address (or the
   * fallback). Resolves with the address served, or undefined (logged)
   * when neither could be had: pods then get the host's resolvers. It does
   * not wait for the lists: an API that is slow, or refuses this node a
   * kind, holds up cluster names (SERVFAIL until all four have listed;
   * the informers retry), never the agent or forwarded names.
   */
  async start(): Promise<string | undefined> {
    void Promise.all(this.informers.map((i) => i.start())).then(() => this.records.markSynced());
    const wanted = this.opts.address ?? NODE_LOCAL_DNS_ADDRESS;
    if ((await this.addresses.add(wanted)) && (await this.listen(wanted))) return wanted;
    const fallback = await this.fallback();
    if (fallback && (await this.listen(fallback))) return fallback;
    this.logger.warn("kumo dns: no address to serve cluster DNS on: pods get the host's resolvers (the kubelet's MissingClusterDNS)");
    return undefined;
  }

  private async listen(host: string): Promise<boolean> {
    const hostResolvConf = this.opts.hostResolvConf ?? readHostResolvConf().text;
    const server = new DnsServer({
      zone: new ClusterZone(this.records, { nameservers: [host] }),
      forwarder: new Forwarder({ upstreams: this.opts.upstreams ?? upstreamsFromResolvConf(hostResolvConf, { host, port: DNS_PORT }) }),
      host,
      port: DNS_PORT,
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
      logger: this.logger,
    });
    try {
      await server.start();
    } catch (err) {
      this.logger.warn(`kumo dns: cannot listen on ${host}:${DNS_PORT}: ${(err as Error).message}`);
      return false;
    }
    this.server = server;
    this.serving = host;
    this.logger.info(`kumo dns: serving cluster.local on ${host}:${DNS_PORT} (UDP and TCP)`);
    return true;
  }

  private async fallback(): Promise<string | undefined> {
    try {
      return await this.opts.fallbackAddress?.();
    } catch (err) {
      this.logger.warn(`kumo dns: no fallback address: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Closes the sockets, stops the informers and removes the address it added. */
  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    this.serving = undefined;
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.addresses.removeAll();
  }
}
