/**
 * DNS over TCP frames each message with its length as two bytes (RFC 1035
 * 4.2.2). This is transport framing only: the messages themselves are
 * encoded and decoded by dns-packet. (Its streamEncode/streamDecode frame a
 * packet object; the forwarder passes upstream messages through as bytes.)
 */

/** `message` with its length before it. */
export function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Splits a TCP byte stream into messages. Holds at most one partial frame. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Set once a frame announced more than the limit: nothing after it is read (the connection should be closed). */
  overLimit = false;

  constructor(private readonly maxLength: number) {}

  /** The whole messages `chunk` completes, in order, up to a frame over the limit. */
  push(chunk: Buffer): Buffer[] {
    if (this.overLimit) return [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (this.pending.length >= 2) {
      const length = this.pending.readUInt16BE(0);
      if (length > this.maxLength) {
        this.overLimit = true;
        this.pending = Buffer.alloc(0);
        break;
      }
      if (this.pending.length < 2 + length) break;
      out.push(this.pending.subarray(2, 2 + length));
      this.pending = this.pending.subarray(2 + length);
    }
    return out;
  }
}
