/**
 * The MAC that makes a stored token self-verifying: `<id>.<secret>.<mac>`,
 * where `mac` is HMAC-SHA256, under a key only the API server holds (the
 * stack keeps it in Secrets Manager), of the token id and the SHA-256 of its
 * secret, cut to 128 bits and written as 22 base64url characters.
 *
 * Why: the API is on the internet, and every token used to cost a store read
 * of its record. With the MAC, a malformed, made-up or mistyped token is
 * refused in memory (one SHA-256 and one HMAC); only a token this cluster
 * issued (valid or since revoked) reaches the store, and then at most once
 * per id per cache interval. The MAC grants nothing by itself: the record
 * still decides (revocation, expiry, role, and the hash of the secret).
 *
 * The server stamps the MAC into a record when it is stored (token-stamp.ts),
 * so the client that created the record reads it from the answer and hands
 * out the whole token; the MAC is worthless without the secret it covers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { hashSecret } from './tokens.js';

/** Characters of a MAC in a token: 16 bytes, base64url without padding. */
export const MAC_LENGTH = 22;
const MAC_BYTES = 16;
/** Shortest key accepted: the stack generates 64 characters of [A-Za-z0-9] (about 380 bits). */
const MIN_KEY_LENGTH = 32;
/** Domain separation: a MAC for this purpose is never valid for another use of the same key. */
const CONTEXT = 'kumo.dev/token-mac/v1';

export class TokenKeyError extends Error {
  override name = 'TokenKeyError';
}

export class TokenMac {
  private readonly key: Buffer;

  constructor(key: string) {
    if (key.length < MIN_KEY_LENGTH) throw new TokenKeyError(`the token MAC key must have at least ${MIN_KEY_LENGTH} characters, got ${key.length}`);
    this.key = Buffer.from(key, 'utf8');
  }

  /** The MAC of a token id and the SHA-256 (hex) of its secret, as a record stores it. */
  sign(id: string, secretHash: string): string {
    return this.raw(id, secretHash).toString('base64url');
  }

  /** Whether `mac` was made by this key for this id and secret (constant time in the MAC). */
  verify(id: string, secret: string, mac: string): boolean {
    const given = Buffer.from(mac, 'base64url');
    return given.length === MAC_BYTES && timingSafeEqual(given, this.raw(id, hashSecret(secret)));
  }

  private raw(id: string, secretHash: string): Buffer {
    // NUL cannot occur in an id or a hex hash, so the fields cannot run into each other.
    return createHmac('sha256', this.key).update(`${CONTEXT}\0${id}\0${secretHash}`, 'utf8').digest().subarray(0, MAC_BYTES);
  }
}
