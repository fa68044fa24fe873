/**
 * DNS test helpers: a tiny upstream resolver on loopback (UDP and TCP, a
 * fixed table, RFC 1035's truncation over UDP), a resolver that never
 * answers, and raw queries over UDP or TCP with dns-packet.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, Socket } from 'node:net';
import { type Answer, decode, type DecodedPacket, encode, type Packet, TRUNCATED_RESPONSE } from 'dns-packet';
import { FrameReader, frame } from '#lib/agent/dns/tcp-framing';

export interface TestUpstream {
  port: number;
  /** Questions asked, as `transport name type`. */
  asked: string[];
  close(): Promise<void>;
}

/** Answers from `table` (`name TYPE` → records), NXDOMAIN otherwise; over UDP an answer of more than 512 bytes goes out truncated. */
export async function startUpstream(table: Record<string, Answer[]>): Promise<TestUpstream> {
  const asked: string[] = [];
  const answer = (query: DecodedPacket, transport: 'udp' | 'tcp'): Buffer => {
    const q = query.questions![0]!;
    asked.push(`${transport} ${q.name} ${q.type}`);
    const answers = table[`${q.name.toLowerCase()} ${q.type}`];
    const reply: Packet = { id: query.id, type: 'response', flags: (1 << 7) | (answers ? 0 : 3), questions: [q], answers: answers ?? [] };
    const out = encode(reply);
    return transport === 'udp' && out.length > 512 ? encode({ ...reply, flags: reply.flags! | TRUNCATED_RESPONSE, answers: [] }) : out;
  };
  // What the test resolver cannot read or write back goes unanswered.
  const reply = (m: Buffer, transport: 'udp' | 'tcp') => {
    try {
      return answer(decode(m), transport);
    } catch {
      return undefined;
    }
  };
  // The UDP port is picked first; when its TCP twin is taken, both are picked again.
  for (;;) {
    const udp = createSocket('udp4');
    udp.on('message', (m, from) => {
      const r = reply(m, 'udp');
      if (r) udp.send(r, from.port, from.address);
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const tcp = createServer((s) => {
      const reader = new FrameReader(0xffff);
      s.on('data', (chunk) =>
        reader.push(chunk).forEach((m) => {
          const r = reply(m, 'tcp');
          if (r) s.write(frame(r));
        }),
      );
      s.on('error', () => s.destroy());
    });
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!listening) {
      udp.close();
      continue;
    }
    return {
      port,
      asked,
      close: async () => {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      },
    };
  }
}

/** A UDP port that takes queries and never answers. */
export async function startSilent(): Promise<{ port: number; close(): Promise<void> }> {
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  return { port: udp.address().port, close: () => new Promise<void>((resolve) => udp.close(() => resolve())) };
}

/** One UDP socket for raw exchanges: sends messages and hands back the replies in arrival order. */
export class UdpClient {
  private readonly socket: UdpSocket = createSocket('udp4');
  private readonly replies: Buffer[] = [];
  private waiting: ((b: Buffer) => void) | undefined;

  constructor(private readonly port: number) {
    this.socket.on('message', (m) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.replies.push(m);
    });
  }

  send(message: Buffer | Packet): void {
    this.socket.send(Buffer.isBuffer(message) ? message : encode(message), this.port, '127.0.0.1');
  }

  /** The next reply to arrive. */
  next(): Promise<Buffer> {
    const queued = this.replies.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => (this.waiting = resolve));
  }

  async ask(message: Buffer | Packet): Promise<DecodedPacket> {
    this.send(message);
    return decode(await this.next());
  }

  close(): void {
    this.socket.close();
  }
}

/** Sends `messages` over one TCP connection; resolves with the replies, or with those it got when the server closed the connection. */
export function askTcp(port: number, messages: Buffer[], expect = messages.length): Promise<{ replies: DecodedPacket[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    const reader = new FrameReader(0xffff);
    const replies: DecodedPacket[] = [];
    s.on('error', reject);
    s.on('data', (chunk) => {
      replies.push(...reader.push(chunk).map((m) => decode(m)));
      if (replies.length >= expect) {
        s.destroy();
        resolve({ replies, closed: false });
      }
    });
    s.on('close', () => resolve({ replies, closed: true }));
    s.connect(port, '127.0.0.1', () => s.write(Buffer.concat(messages)));
  });
}

/** A query packet. */
export function query(name: string, type: string, extra: Partial<Packet> = {}): Packet {
  return { type: 'query', id: Math.floor(Math.random() * 0xffff), flags: 1 << 8, questions: [{ name, type: type as 'A', class: 'IN' }], ...extra };
}

/** The rcode of a decoded reply (dns-packet's typings leave it out). */
export function rcodeOf(p: DecodedPacket): string {
  return (p as DecodedPacket & { rcode: string }).rcode;
}
