/**
 * Forwards queries outside the cluster zone to the host's resolvers, as
 * CoreDNS's forward plugin does for `. /etc/resolv.conf`: over UDP first,
 * and over TCP to the same resolver when the UDP answer comes back truncated;
 * a resolver that does not answer within the timeout is skipped for the next
 * one (in the order given, as glibc tries them). The answer is passed back
 * as the resolver wrote it.
 *
 * Each query leaves from a fresh UDP socket (a random source port) with a
 * fresh random ID, and only an answer from the resolver's address and port,
 * with that ID and the same question, is taken: an off-path spoofer has to
 * guess both (RFC 5452). The client's ID is put back on the answer.
 *
 * Bounded: at most `maxConcurrent` queries are forwarded at once (more are
 * refused, as forward's max_concurrent refuses them), each waits at most
 * `timeoutMs` per resolver, and a TCP answer is at most 64 KiB (its framing).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6, Socket } from 'node:net';
import { type Answer, type DecodedPacket, decode, encode, type Question, RECURSION_DESIRED } from 'dns-packet';
import { parseResolvConf } from './resolv-conf.js';
import { FrameReader, frame } from './tcp-framing.js';

export interface Upstream {
  address: string;
  /** @default 53 */
  port?: number;
}

export interface ForwarderOptions {
  /** The resolvers, tried in order. */
  upstreams: readonly Upstream[];
  /** How long one resolver may take to answer. @default 2000 */
  timeoutMs?: number;
  /** Queries forwarded at once; beyond that they are refused. @default 256 */
  maxConcurrent?: number;
}

/**
 * The host's resolvers from its resolv.conf (read as the kubelet reads it),
 * port 53, without `self`: a cluster DNS server listed there (a node whose
 * own resolv.conf names it) would forward to itself until refused.
 */
export function upstreamsFromResolvConf(text: string, self?: { host: string; port: number }): Upstream[] {
  return parseResolvConf(text)
    .servers.filter((address) => !(self && self.port === 53 && address === self.host))
    .map((address) => ({ address, port: 53 }));
}

/** A forwarded answer (the client's ID back on it), or why there is none. */
export type ForwardResult = { response: Buffer } | { refused: 'busy' } | { failed: string };

/** The ID of a message: its first two bytes (RFC 1035 4.1.1), the one header field the forwarder rewrites. */
function withId(message: Buffer, id: number): Buffer {
  const out = Buffer.from(message);
  out.writeUInt16BE(id, 0);
  return out;
}

/** Whether `message` answers `question` under `id` (dns-packet decodes it; anything undecodable is not). */
function answers(message: Buffer, id: number, question: Question): DecodedPacket | undefined {
  try {
    const decoded = decode(message);
    const q = decoded.questions?.[0];
    const same = q !== undefined && q.type === question.type && q.name.toLowerCase() === question.name.toLowerCase();
    return decoded.type === 'response' && decoded.id === id && same ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One exchange with a resolver: `start` opens it and returns how to close it;
 * the first `done` settles it (a reply, an error, or the timeout) and closes
 * it, later calls do nothing.
 */
function exchange(timeoutMs: number, how: string, start: (done: (err: Error | undefined, response?: Buffer) => void) => () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let close = () => {};
    const done = (err: Error | undefined, response?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close();
      if (err) reject(err);
      else resolve(response!);
    };
    const timer = setTimeout(() => done(new Error(`no answer ${how}within ${timeoutMs} ms`)), timeoutMs);
    try {
      close = start(done);
    } catch (err) {
      done(err as Error);
    }
  });
}

export class Forwarder {
  private readonly upstreams: readonly Required<Upstream>[];
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private inFlight = 0;

  constructor(opts: ForwarderOptions) {
    this.upstreams = opts.upstreams.map((u) => ({ address: u.address, port: u.port ?? 53 }));
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxConcurrent = opts.maxConcurrent ?? 256;
  }

  /** Forwards `query` (a decoded, valid query whose only question is `question`) and returns the first resolver's answer. */
  async forward(query: Buffer, question: Question): Promise<ForwardResult> {
    if (this.upstreams.length === 0) return { failed: 'no upstream resolvers' };
    if (this.inFlight >= this.maxConcurrent) return { refused: 'busy' };
    this.inFlight++;
    try {
      const clientId = query.readUInt16BE(0);
      let why = '';
      for (const upstream of this.upstreams) {
        try {
          const id = randomInt(0x10000);
          let response = await this.udp(upstream, withId(query, id), id, question);
          if (answers(response, id, question)?.flag_tc) response = await this.tcp(upstream, withId(query, id), id, question);
          return { response: withId(response, clientId) };
        } catch (err) {
          why = `${upstream.address}:${upstream.port}: ${(err as Error).message}`;
        }
      }
      return { failed: why };
    } finally {
      this.inFlight--;
    }
  }

  /** Resolves `name` upstream (an ExternalName's target): the answer records, or undefined when no resolver answered. */
  async lookup(name: string, type: 'A' | 'AAAA'): Promise<Answer[] | undefined> {
    const question: Question = { name, type, class: 'IN' };
    const query = encode({ type: 'query', id: 0, flags: RECURSION_DESIRED, questions: [question] });
    const result = await this.forward(query, question);
    if (!('response' in result)) return undefined;
    try {
      return decode(result.response).answers ?? [];
    } catch {
      return undefined;
    }
  }

  private udp(upstream: Required<Upstream>, query: Buffer, id: number, question: Question): Promise<Buffer> {
    return exchange(this.timeoutMs, '', (done) => {
      const socket = createSocket(isIPv6(upstream.address) ? 'udp6' : 'udp4');
      socket.on('error', (err) => done(err));
      socket.on('message', (message, from) => {
        // Anything else on this port (a late or spoofed datagram) is ignored.
        if (from.address === upstream.address && from.port === upstream.port && answers(message, id, question)) done(undefined, message);
      });
      socket.send(query, upstream.port, upstream.address, (err) => err && done(err));
      return () => socket.close();
    });
  }

  private tcp(upstream: Required<Upstream>, query: Buffer, id: number, question: Question): Promise<Buffer> {
    return exchange(this.timeoutMs, 'over TCP ', (done) => {
      const socket = new Socket();
      const reader = new FrameReader(0xffff);
      socket.on('error', (err) => done(err));
      socket.on('close', () => done(new Error('closed over TCP without an answer')));
      socket.on('data', (chunk) => {
        const match = reader.push(chunk).find((m) => answers(m, id, question));
        if (match) done(undefined, match);
      });
      socket.connect(upstream.port, upstream.address, () => socket.write(frame(query)));
      return () => socket.destroy();
    });
  }
}
