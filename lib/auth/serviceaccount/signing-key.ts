/**
 * The key that signs ServiceAccount tokens (kube-apiserver's
 * --service-account-signing-key-file): an ECDSA P-256 key, so tokens are
 * ES256 JWTs, with kube's key id (the SHA-256 of the public key's DER,
 * base64url). Two sources:
 *
 * - `kumo up`: a PKCS #8 PEM in its data directory (0600), made on first start.
 * - the cloud: derived from a random string Secrets Manager generated at
 *   deploy time (HKDF-SHA256 → a scalar in [1, n−1]), so the stack needs no
 *   custom resource to make a key and the key never touches the table; every
 *   API function container derives the same key from the same secret.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tightenFile, writePrivateFile } from '../../util/private-files.js';

/** P-256's group order n. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** Domain separation: this secret's bytes make this key and nothing else. */
const HKDF_INFO = 'kumo service-account token signing key (ES256, P-256)';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** kube's keyIDFromPublicKey: base64url(SHA-256(PKIX DER of the public key)). */
  kid: string;
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningKeyError('the service-account signing key must be an ECDSA P-256 key');
  }
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, kid: createHash('sha256').update(der).digest('base64url') };
}

/** The key in `file` (PKCS #8 PEM), made and written 0600 when the file does not exist. */
export function localSigningKey(file: string): SigningKey {
  if (existsSync(file)) {
    tightenFile(file);
    return fromPrivate(createPrivateKey(readFileSync(file, 'utf8')));
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writePrivateFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return fromPrivate(privateKey);
}

/**
 * The key derived from `seed` (a Secrets Manager generated string): HKDF's
 * 48 bytes reduced mod n−1, plus 1, is a uniform-enough scalar (bias below
 * 2^-128) that is never 0.
 */
export function derivedSigningKey(seed: string): SigningKey {
  if (seed.length < 32) throw new SigningKeyError('the service-account key secret is shorter than 32 characters');
  const okm = Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'utf8'), Buffer.from('kumo'), HKDF_INFO, 48));
  const scalar = (BigInt(`0x${okm.toString('hex')}`) % (P256_ORDER - 1n)) + 1n;
  const d = Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    d: d.toString('base64url'),
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
  };
  return fromPrivate(createPrivateKey({ key: jwk, format: 'jwk' }));
}
