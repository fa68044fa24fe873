/**
 * The node-local cluster DNS server (NodeLocal DNSCache's place, CoreDNS's
 * answers): UDP and TCP on one address and port. A question in the cluster
 * zone, or a PTR for a cluster address, is answered by ClusterZone from the
 * record source; everything else goes to the Forwarder (the host's
 * resolvers). Messages are decoded and encoded by dns-packet.
 *
 * What it does with what it is sent (after miekg/dns's server, CoreDNS's):
 * - shorter than a header (12 bytes), or a response (QR set): dropped, so
 *   two servers never bounce errors at each other;
 * - undecodable, not exactly one question, or more records in the other
 *   sections than a query carries: FORMERR with the query's ID;
 * - an opcode other than QUERY: NOTIMP;
 * - over `maxQueryBytes`: FORMERR over UDP, the connection closed over TCP.
 *
 * Over UDP an answer is at most 512 bytes, or the size the query's EDNS
 * record offers up to `maxUdpResponseBytes`; a larger one goes out empty
 * with TC set, and the client asks again over TCP (RFC 7766). EDNS queries
 * get an OPT record back. TCP connections are bounded in number, idle time
 * and message size, and answered in order.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { type Answer, AUTHORITATIVE_ANSWER, decode, type DecodedPacket, encode, type OptAnswer, type Packet, TRUNCATED_RESPONSE } from 'dns-packet';
import type { ClusterZone } from './cluster-zone.js';
import type { Forwarder } from './forwarder.js';
import type { DnsExchange, DnsMetrics } from './metrics.js';
import { FrameReader, frame } from './tcp-framing.js';
import { defaultLogger, type Logger } from '../../log/logger.js';

export interface DnsServerOptions {
  zone: ClusterZone;
  /** Where names outside the zone go; without one they are refused. */
  forwarder?: Forwarder;
  /** @default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port (the same for UDP and TCP). @default 53 */
  port?: number;
  /** Larger queries are refused (FORMERR over UDP, closed over TCP). @default 4096 */
  maxQueryBytes?: number;
  /** The most a UDP answer may be, whatever a client's EDNS offers (DNS Flag Day 2020's 1232: no IP fragmentation). @default 1232 */
  maxUdpResponseBytes?: number;
  /** Open TCP connections at most; more are closed at once. @default 256 */
  maxTcpConnections?: number;
  /** A TCP connection quiet this long is closed. @default 10000 */
  tcpIdleTimeoutMs?: number;
  /** CoreDNS's request and response counters. @default none */
  metrics?: DnsMetrics;
  /** @default the process logger */
  logger?: Logger;
}

/** RFC 1035's and 6895's response codes the server sets itself. */
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;
const OPCODE_QUERY = 0;
const HEADER_BYTES = 12;
const NO_EDNS_UDP_BYTES = 512;
const MAX_TCP_MESSAGE = 0xffff;

type Transport = 'udp' | 'tcp';
/** Who answered, for the metrics: the zone (CoreDNS's kubernetes plugin), the forwarder, or the server itself. */
type Answered = { message: Buffer; zone: string; plugin: DnsExchange['plugin'] };
const ROOT_ZONE = '.';

/** The header's flags word as dns-packet decodes it: opcode in bits 11-14, RD in bit 8. */
const opcodeOf = (p: DecodedPacket) => ((p.flags ?? 0) >> 11) & 0xf;
const RD = 1 << 8;

export class DnsServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly maxQueryBytes: number;
  private readonly maxUdp: number;
  private bound: { host: string; port: number } | undefined;
  private stopped = false;

  constructor(private readonly opts: DnsServerOptions) {
    this.maxQueryBytes = opts.maxQueryBytes ?? 4096;
    this.maxUdp = opts.maxUdpResponseBytes ?? 1232;
  }

  private log(line: string): void {
    (this.opts.logger ?? defaultLogger()).warn(line);
  }

  /** Listens on UDP and TCP; resolves with the address and port both serve. */
  async start(): Promise<{ host: string; port: number }> {
    const host = this.opts.host ?? '127.0.0.1';
    const wanted = this.opts.port ?? 53;
    // With port 0 the UDP port is picked first; TCP may find it taken, then both try again.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.listenUdp(host, wanted);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(host, port);
        this.udp = udp;
        this.bound = { host, port };
        return this.bound;
      } catch (err) {
        udp.close();
        if (wanted !== 0 || attempt >= 4 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  /** Where it listens (after start). */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.connections) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }

  private listenUdp(host: string, port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      socket.once('error', reject);
      socket.on('message', (message, from) => {
        void this.handle(message, 'udp', from.family === 'IPv6' ? 6 : 4)
          .then((reply) => {
            // A reply that finishes after stop() has nowhere to go.
            if (reply && !this.stopped) socket.send(reply, from.port, from.address, (err) => err && this.log(`kumo dns: udp send: ${err.message}`));
          })
          .catch((err: Error) => this.log(`kumo dns: ${err.message}`));
      });
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.log(`kumo dns: udp: ${err.message}`));
        resolve(socket);
      });
    });
  }

  private listenTcp(host: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.serveConnection(socket));
      server.maxConnections = this.opts.maxTcpConnections ?? 256;
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log(`kumo dns: tcp: ${err.message}`));
        resolve(server);
      });
    });
  }

  private serveConnection(socket: Socket): void {
    this.connections.add(socket);
    const reader = new FrameReader(this.maxQueryBytes);
    // Queries of one connection are answered one after the other, in order.
    let queue = Promise.resolve();
    socket.setTimeout(this.opts.tcpIdleTimeoutMs ?? 10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    socket.on('data', (chunk) => {
      for (const message of reader.push(chunk)) {
        queue = queue
          .then(() => this.handle(message, 'tcp', socket.remoteFamily === 'IPv6' ? 6 : 4))
          .then((reply) => void (reply && !socket.destroyed && socket.write(frame(reply))))
          .catch((err: Error) => this.log(`kumo dns: ${err.message}`));
      }
      // A frame over the limit: the queries before it are answered, then the connection ends.
      if (reader.overLimit) queue = queue.then(() => void socket.end());
    });
  }

  /** The reply to one message, or undefined to send none. Never throws for what a client sends. */
  async handle(message: Buffer, transport: Transport, family: 4 | 6 = 4): Promise<Buffer | undefined> {
    if (message.length < HEADER_BYTES) return undefined;
    // QR is the top bit of the third byte (RFC 1035 4.1.1): never answer a response, even one that does not decode.
    if ((message[2]! & 0x80) !== 0) return undefined;
    let query: DecodedPacket | undefined;
    const answered = await this.answer(message, transport, (q) => (query = q));
    if (this.opts.metrics && this.bound) {
      this.opts.metrics.observe({
        server: `dns://${this.bound.host}:${this.bound.port}`,
        zone: answered.zone,
        proto: transport,
        family,
        type: query?.questions?.[0]?.type,
        // RCODE: the low four bits of the fourth header byte (RFC 1035 4.1.1).
        rcode: answered.message[3]! & 0xf,
        plugin: answered.plugin,
      });
    }
    return answered.message;
  }

  /** The reply to a message that is a query (QR clear, a whole header); `decoded` hears of the query once it decodes. */
  private async answer(message: Buffer, transport: Transport, decoded: (q: DecodedPacket) => void): Promise<Answered> {
    const own = (reply: Buffer): Answered => ({ message: reply, zone: ROOT_ZONE, plugin: '' });
    const id = message.readUInt16BE(0);
    if (message.length > this.maxQueryBytes) return own(this.error(id, 'FORMERR'));
    let query: DecodedPacket;
    try {
      query = decode(message);
    } catch {
      return own(this.error(id, 'FORMERR'));
    }
    decoded(query);
    if (opcodeOf(query) !== OPCODE_QUERY) return own(this.error(id, 'NOTIMP', query));
    const questions = query.questions ?? [];
    // One question; an answer, an authority and two additional records at most (miekg/dns's DefaultMsgAcceptFunc).
    if (questions.length !== 1 || (query.answers ?? []).length > 1 || (query.authorities ?? []).length > 1 || (query.additionals ?? []).length > 2) {
      return own(this.error(id, 'FORMERR', query));
    }
    try {
      return await this.reply(message, query, transport);
    } catch (err) {
      // A question dns-packet decodes but cannot encode back, or a bug: the client still gets an answer.
      this.log(`kumo dns: ${(err as Error).message}`);
      return own(this.error(id, 'SERVFAIL', query));
    }
  }

  private async reply(message: Buffer, query: DecodedPacket, transport: Transport): Promise<Answered> {
    const id = query.id ?? 0;
    const question = query.questions![0]!;
    const edns = (query.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
    const limit = transport === 'tcp' ? MAX_TCP_MESSAGE : edns ? Math.min(Math.max(edns.udpPayloadSize, NO_EDNS_UDP_BYTES), this.maxUdp) : NO_EDNS_UDP_BYTES;
    const opt = edns ? [this.opt()] : [];

    const forwarder = this.opts.forwarder;
    const reply = await this.opts.zone.answer(question, (name, type) => forwarder?.lookup(name, type) ?? Promise.resolve(undefined));
    if (reply) {
      const zone = { zone: `${this.opts.zone.zone}.`, plugin: 'kubernetes' as const };
      const packet: Packet = {
        id,
        type: 'response',
        flags: AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & RD) | RCODE[reply.rcode],
        questions: [question],
        answers: reply.answers,
        authorities: reply.authorities,
        additionals: [...reply.additionals, ...opt],
      };
      const encoded = encode(packet);
      return { ...zone, message: encoded.length <= limit ? encoded : this.truncated(packet) };
    }
    const forwarded = (m: Buffer): Answered => ({ message: m, zone: ROOT_ZONE, plugin: 'forward' });
    if (!forwarder) return { message: this.error(id, 'REFUSED', query, opt), zone: ROOT_ZONE, plugin: '' };
    const result = await forwarder.forward(message, question);
    if ('refused' in result) return forwarded(this.error(id, 'REFUSED', query, opt));
    if ('failed' in result) {
      this.log(`kumo dns: forwarding ${question.name} ${question.type} failed: ${result.failed}`);
      return forwarded(this.error(id, 'SERVFAIL', query, opt));
    }
    if (result.response.length <= limit) return forwarded(result.response);
    // Too large for this client over UDP: the resolver's header and question, empty, with TC.
    try {
      const upstream = decode(result.response);
      return forwarded(this.truncated({ ...upstream, answers: [], authorities: [], additionals: opt }));
    } catch {
      return forwarded(this.error(id, 'SERVFAIL', query, opt));
    }
  }

  /** `packet` without its records and with TC set, so the client asks again over TCP. */
  private truncated(packet: Packet): Buffer {
    const additionals = (packet.additionals ?? []).filter((a) => a.type === 'OPT');
    return encode({ ...packet, flags: (packet.flags ?? 0) | TRUNCATED_RESPONSE, answers: [], authorities: [], additionals });
  }

  /** An error reply: the query's question and RD when it decoded, else the header alone. */
  private error(id: number, rcode: Rcode, query?: DecodedPacket, opt: Answer[] = []): Buffer {
    const flags = ((query?.flags ?? 0) & RD) | RCODE[rcode];
    const questions = query && (query.questions ?? []).length === 1 ? query.questions : [];
    try {
      return encode({ id, type: 'response', flags, questions, additionals: opt });
    } catch {
      return encode({ id, type: 'response', flags });
    }
  }

  /** This server's EDNS record: the UDP size it takes (RFC 6891). */
  private opt(): OptAnswer {
    return { name: '.', type: 'OPT', udpPayloadSize: this.maxUdp, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  }
}
