/** The ServiceAccount signing key in each mode: derived from a secret string (cloud), kept in a 0600 file (kumo up). */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { derivedSigningKey, localSigningKey, SigningKeyError } from '#lib/auth/serviceaccount/signing-key';

const dir = mkdtempSync(join(tmpdir(), 'kumo-sa-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jwk = (k: { publicKey: { export(o: { format: 'jwk' }): unknown } }) => k.publicKey.export({ format: 'jwk' });

describe('ServiceAccount signing keys', () => {
  it('derives the same P-256 key from the same secret string in every container, another from another', () => {
    const seed = 'a'.repeat(32) + 'b'.repeat(32);
    const one = derivedSigningKey(seed);
    const two = derivedSigningKey(seed);
    expect(jwk(one)).toEqual(jwk(two));
    expect(one.kid).toBe(two.kid);
    expect(one.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(jwk(derivedSigningKey(`${seed}c`))).not.toEqual(jwk(one));
  });

  it('refuses a secret string too short to be a key', () => {
    expect(() => derivedSigningKey('short')).toThrow(SigningKeyError);
  });

  it('keeps kumo up’s key in a 0600 file and reads the same key back', () => {
    const file = join(dir, 'service-account-key.pem');
    const made = localSigningKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(jwk(localSigningKey(file))).toEqual(jwk(made));
  });
});
