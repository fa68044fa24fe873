/**
 * Secrets encrypted at rest: the store contract holds through the
 * encrypting wrapper, the backend's file never holds a Secret's data or
 * annotations in the clear, an envelope cannot be moved to another object,
 * and the KMS envelope encryptor reuses one data key per rotation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { AesGcmEncryptor, EncryptingStore, KmsEnvelopeEncryptor, localKeyEncryptor, SEALED_FIELD } from '#lib/store/encryption';
import { SqliteStore } from '#lib/store/sqlite';
import { ManualClock } from '#lib/util/clock';
import { storeContract } from './contract.js';

const key = randomBytes(32);

// Pods too, so the whole contract runs through sealing and opening.
storeContract(
  'sqlite with encryption at rest',
  {
    async make({ clock, retentionMs }) {
      const path = join(mkdtempSync(join(tmpdir(), 'kumo-enc-')), 'state.db');
      return new EncryptingStore(new SqliteStore({ path, clock, ...(retentionMs !== undefined ? { retentionMs } : {}) }), new AesGcmEncryptor(key), [
        'pods',
        'secrets',
      ]);
    },
  },
  () => new ManualClock(),
);

const secret = (name: string, value: string): KObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'db' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"password":"${Buffer.from(value).toString('base64')}"}}` },
    },
    type: 'Opaque',
    data: { password: Buffer.from(value).toString('base64') },
  }) as KObject;

describe('EncryptingStore', () => {
  it('keeps Secret data and annotations out of the database file, and returns them whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-enc-'));
    const encryptor = localKeyEncryptor(join(dir, 'secrets-encryption-key'));
    expect(statSync(join(dir, 'secrets-encryption-key')).mode & 0o777).toBe(0o600);
    const store = new EncryptingStore(new SqliteStore({ path: join(dir, 'state.db') }), encryptor);
    const value = `hunter2-${randomBytes(6).toString('hex')}`;
    const k = { resource: 'secrets', namespace: 'default', name: 'db' };
    const created = await store.create(k, secret('db', value));
    expect(Buffer.from((created as KObject & { data: { password: string } }).data.password, 'base64').toString()).toBe(value);
    const updated = await store.update(k, { ...secret('db', `${value}-2`), metadata: { ...created.metadata } }, created);
    expect(updated.ok).toBe(true);
    const read = await store.get(k);
    expect(read?.metadata.labels).toEqual({ app: 'db' });
    expect(Buffer.from((read as KObject & { data: { password: string } }).data.password, 'base64').toString()).toBe(`${value}-2`);
    expect(read).not.toHaveProperty(SEALED_FIELD);
    const listed = await store.list('secrets', { predicate: (o) => o.metadata.labels?.app === 'db' });
    expect(listed.items).toHaveLength(1);
    await store.delete(k, read!);
    await store.close();
    // The database (objects and change log) never saw the value, plain or base64.
    const raw = readdirSync(dir)
      .filter((f) => f.startsWith('state.db'))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('');
    for (const v of [value, `${value}-2`]) {
      expect(raw).not.toContain(v);
      expect(raw).not.toContain(Buffer.from(v).toString('base64'));
    }
    expect(raw).toContain('k8s:enc:aesgcm:v1:local:');
  });

  it('refuses an envelope moved to another object', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-enc-'));
    const inner = new SqliteStore({ path: join(dir, 'state.db') });
    const store = new EncryptingStore(inner, new AesGcmEncryptor(key));
    await store.create({ resource: 'secrets', namespace: 'default', name: 'a' }, secret('a', 'one'));
    const sealed = await inner.get({ resource: 'secrets', namespace: 'default', name: 'a' });
    await inner.create({ resource: 'secrets', namespace: 'default', name: 'b' }, {
      ...sealed!,
      metadata: { ...sealed!.metadata, name: 'b', resourceVersion: undefined },
    } as KObject);
    await expect(store.get({ resource: 'secrets', namespace: 'default', name: 'b' })).rejects.toThrow();
    await store.close();
  });
});

describe('KmsEnvelopeEncryptor', () => {
  it('wraps one data key per rotation period and opens envelopes of older keys', async () => {
    const master = randomBytes(32);
    let generated = 0;
    let unwrapped = 0;
    const kms = new AesGcmEncryptor(master, 'master');
    const source = {
      async generateDataKey() {
        generated++;
        const plaintext = randomBytes(32);
        return { plaintext, wrapped: Buffer.from(await kms.encrypt(plaintext, Buffer.alloc(0))) };
      },
      async unwrap(wrapped: Buffer) {
        unwrapped++;
        return kms.decrypt(wrapped.toString(), Buffer.alloc(0));
      },
    };
    let now = 0;
    const enc = new KmsEnvelopeEncryptor(source, 1_000, () => now);
    const aad = Buffer.from('/secrets/default/x');
    const a = await enc.encrypt(Buffer.from('one'), aad);
    const b = await enc.encrypt(Buffer.from('two'), aad);
    expect(generated).toBe(1);
    now = 2_000;
    const c = await enc.encrypt(Buffer.from('three'), aad);
    expect(generated).toBe(2);
    // A fresh process (no cached keys) unwraps each data key once.
    const fresh = new KmsEnvelopeEncryptor(source);
    expect((await fresh.decrypt(a, aad)).toString()).toBe('one');
    expect((await fresh.decrypt(b, aad)).toString()).toBe('two');
    expect((await fresh.decrypt(c, aad)).toString()).toBe('three');
    expect(unwrapped).toBe(2);
    await expect(fresh.decrypt(a, Buffer.from('/secrets/default/y'))).rejects.toThrow();
  });
});
