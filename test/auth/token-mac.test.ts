/**
 * Self-verifying tokens: the MAC, the token forms, and what the
 * authenticator reads from the store for tokens it did not issue (nothing)
 * and for ones it did.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '#lib/api/request';
import { storeTokenLookup, TokenAuthenticator } from '#lib/auth/authenticator';
import { TokenKeyError, TokenMac } from '#lib/auth/token-mac';
import { TokenStampingStore } from '#lib/auth/token-stamp';
import { hashSecret, issuedToken, mintToken, parseToken, TOKEN_NAMESPACE } from '#lib/auth/tokens';
import { apiOptionsFromEnv, AuthConfigError } from '#lib/cloud/api-from-env';
import { SqliteStore } from '#lib/store/sqlite';
import { ManualClock } from '#lib/util/clock';
import { captureLogger } from '../helpers/logger.js';

const key = () => randomBytes(32).toString('base64url');

function request(token: string): ApiRequest {
  return { method: 'GET', path: '/api/v1/nodes', query: new URLSearchParams(), headers: { authorization: `Bearer ${token}` } };
}

/** An authenticator over a SQLite store that counts what it reads for tokens. */
async function setup() {
  const clock = new ManualClock();
  const backend = new SqliteStore({ path: ':memory:' });
  const mac = new TokenMac(key());
  const store = new TokenStampingStore(backend, mac);
  const reads = { lookups: [] as string[], legacyLists: 0 };
  const lookup = storeTokenLookup(backend);
  const log = captureLogger();
  const authn = new TokenAuthenticator({
    clock,
    logger: log.logger,
    stored: {
      mac,
      lookup: (id) => {
        reads.lookups.push(id);
        return lookup(id);
      },
      legacyIds: async () => {
        reads.legacyLists++;
        return new Set(['old0000a']);
      },
    },
  });
  /** Stores a record the way the API server does (through the stamping store); returns the token to hand out. */
  const issue = async (role: 'view' | 'admin' = 'view') => {
    const minted = mintToken({ role });
    const stored = await store.create(
      { resource: 'secrets', namespace: TOKEN_NAMESPACE, name: minted.secret.metadata.name! },
      { ...minted.secret, metadata: { ...minted.secret.metadata, uid: minted.id } },
    );
    return { ...minted, issued: issuedToken(minted, stored) };
  };
  return { clock, backend, mac, authn, reads, refusals: log.records, issue };
}

describe('the token MAC', () => {
  it('verifies only the id and secret it was made for, under its own key', () => {
    const mac = new TokenMac(key());
    const secret = 'S'.repeat(43);
    const m = mac.sign('abc12345', hashSecret(secret));
    expect(m).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(mac.verify('abc12345', secret, m)).toBe(true);
    expect(mac.verify('abc12346', secret, m)).toBe(false);
    expect(mac.verify('abc12345', `${secret.slice(1)}T`, m)).toBe(false);
    expect(new TokenMac(key()).verify('abc12345', secret, m)).toBe(false);
    expect(mac.verify('abc12345', secret, 'short')).toBe(false);
  });

  it('refuses a key too short to be secret, and token auth without a key', async () => {
    expect(() => new TokenMac('tooshort')).toThrow(TokenKeyError);
    const store = new SqliteStore({ path: ':memory:' });
    await expect(apiOptionsFromEnv(store, { KUMO_AUTH: 'tokens' })).rejects.toThrow(AuthConfigError);
    await expect(apiOptionsFromEnv(store, { KUMO_AUTH: 'tokens' })).rejects.toThrow(/KUMO_TOKEN_KEY_SECRET_ARN/);
    await store.close();
  });

  it('reads both token forms, node ids with dots included, and nothing else', () => {
    const secret = 'x'.repeat(43);
    const mac = 'm'.repeat(22);
    expect(parseToken(`node-ip-10-0-1-5.ec2.internal.${secret}.${mac}`)).toEqual({ id: 'node-ip-10-0-1-5.ec2.internal', secret, mac });
    expect(parseToken(`node-ip-10-0-1-5.ec2.internal.${secret}`)).toEqual({ id: 'node-ip-10-0-1-5.ec2.internal', secret });
    expect(parseToken(`admin.${'a'.repeat(48)}`)).toEqual({ id: 'admin', secret: 'a'.repeat(48) });
    for (const bad of [
      `id.${mac}`,
      `id.${secret}.${mac}.${mac}`,
      `id.${'y'.repeat(31)}`,
      `Id.${secret}`,
      `.${secret}`,
      secret,
      `id.${secret}.${'m'.repeat(21)}`,
    ]) {
      expect(parseToken(bad), bad).toBeUndefined();
    }
  });
});

describe('what the authenticator reads for a token', () => {
  it('reads nothing for malformed, forged and MAC-less made-up tokens', async () => {
    const { authn, reads, refusals, issue } = await setup();
    const real = await issue();
    const [id, secret, mac] = real.issued.split('.') as [string, string, string];
    const junk = [
      'not-a-token',
      `${id}.${secret}.${'A'.repeat(22)}`,
      `${id}.${'Z'.repeat(43)}.${mac}`,
      `zzzzzzzz.${secret}.${mac}`,
      ...Array.from({ length: 50 }, (_, i) => `made${i}up.${'q'.repeat(43)}.${randomBytes(16).toString('base64url')}`),
      ...Array.from({ length: 50 }, (_, i) => `made${i}up.${'q'.repeat(43)}`),
    ];
    for (const token of junk) expect(await authn.authenticate(request(token)), token).toBeUndefined();
    expect(reads.lookups).toEqual([]);
    // The MAC-less ones were checked against the ids of records from before MACs, read once.
    expect(reads.legacyLists).toBe(1);
    expect(refusals).toHaveLength(junk.length);
    expect(refusals.every((r) => r.level === 'WARN' && r.message.startsWith('kumo auth: refused: '))).toBe(true);
  });

  it('reads the record of a token it issued once per cache interval, accepted or revoked', async () => {
    const { authn, reads, clock, backend, issue } = await setup();
    const real = await issue('admin');
    for (let i = 0; i < 20; i++) expect((await authn.authenticate(request(real.issued)))?.groups).toContain('system:masters');
    expect(reads.lookups).toEqual([real.id]);
    await backend.delete(
      { resource: 'secrets', namespace: TOKEN_NAMESPACE, name: real.secret.metadata.name! },
      (await backend.get({ resource: 'secrets', namespace: TOKEN_NAMESPACE, name: real.secret.metadata.name! }))!,
    );
    clock.advance(10_001);
    for (let i = 0; i < 20; i++) expect(await authn.authenticate(request(real.issued))).toBeUndefined();
    expect(reads.lookups).toEqual([real.id, real.id]);
  });

  it('looks up a MAC-less token only when its id was recorded before MACs', async () => {
    const { authn, reads } = await setup();
    expect(await authn.authenticate(request(`old0000a.${'o'.repeat(43)}`))).toBeUndefined();
    expect(reads.lookups).toEqual(['old0000a']);
  });
});

describe('stamping token records', () => {
  it('replaces a MAC a client wrote, and leaves other Secrets alone', async () => {
    const { backend, mac } = await setup();
    const store = new TokenStampingStore(backend, mac);
    const minted = mintToken({ role: 'view' });
    const chosen = Buffer.from('A'.repeat(22)).toString('base64');
    const name = minted.secret.metadata.name!;
    const data = (minted.secret as unknown as { data: Record<string, string> }).data;
    const stored = await store.create({ resource: 'secrets', namespace: TOKEN_NAMESPACE, name }, {
      ...minted.secret,
      metadata: { ...minted.secret.metadata, uid: 'u' },
      data: { ...data, tokenMac: chosen },
    } as never);
    const stamped = Buffer.from((stored as unknown as { data: Record<string, string> }).data.tokenMac!, 'base64').toString();
    expect(stamped).not.toBe('A'.repeat(22));
    expect(mac.verify(minted.id, parseToken(minted.token)!.secret, stamped)).toBe(true);
    const plain = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other', namespace: 'default', uid: 'v' }, data: { tokenMac: chosen } };
    expect(await store.create({ resource: 'secrets', namespace: 'default', name: 'other' }, plain)).toMatchObject({ data: { tokenMac: chosen } });
  });
});
