/**
 * Secrets encrypted at rest with AWS KMS (the cloud stack's configuration,
 * KUMO_SECRETS_KMS_KEY), against the AWS-API emulator: the store a function
 * builds from its environment seals Secrets with KMS data keys, a fresh
 * function instance opens them, and the backend never holds the value.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { storeFromEnv } from '#lib/cloud/store-from-env';
import { type Emulator, ensureEmulator } from '../helpers/moto.js';

const emulator = await ensureEmulator();

describe.skipIf(!emulator)('Secrets encrypted with KMS data keys (emulator)', () => {
  let em: Emulator;
  let keyId = '';
  beforeAll(async () => {
    em = emulator!;
    const key = await new KMSClient({}).send(new CreateKeyCommand({ Description: 'kumo secrets test' }));
    keyId = key.KeyMetadata!.KeyId!;
  });
  afterAll(async () => em?.stop());

  it('seals on write, opens in another instance, never stores the value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-kms-'));
    const env = { KUMO_SQLITE_PATH: join(dir, 'state.db'), KUMO_SECRETS_KMS_KEY: keyId };
    const value = `kms-${randomBytes(8).toString('hex')}`;
    const key = { resource: 'secrets', namespace: 'default', name: 'db' };
    const writer = await storeFromEnv(env);
    await writer.create(key, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'default' },
      type: 'Opaque',
      data: { password: Buffer.from(value).toString('base64') },
    } as KObject);
    await writer.close();

    const reader = await storeFromEnv(env);
    const read = (await reader.get(key)) as KObject & { data: { password: string } };
    expect(Buffer.from(read.data.password, 'base64').toString()).toBe(value);
    await reader.close();

    const raw = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('');
    expect(raw).not.toContain(value);
    expect(raw).not.toContain(Buffer.from(value).toString('base64'));
    expect(raw).toContain('k8s:enc:kms:v2:');

    // Without the key configured, the sealed Secret has no data to show.
    const plain = await storeFromEnv({ KUMO_SQLITE_PATH: env.KUMO_SQLITE_PATH });
    expect((await plain.get(key)) as KObject & { data?: unknown }).not.toHaveProperty('data');
    await plain.close();
  });
});
