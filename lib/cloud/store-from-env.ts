/**
 * The store a cloud function runs on, chosen by its environment:
 * `KUMO_TABLE` names the DynamoDB table (the cloud), `KUMO_SQLITE_PATH` a
 * SQLite file or `:memory:` (running the function code locally and in tests).
 * Each backend is imported only when chosen, so a Lambda bundle need not
 * carry the native SQLite module. With `KUMO_SECRETS_KMS_KEY` (a KMS key id
 * or ARN), Secrets are encrypted at rest with data keys from that key
 * (docs/services.md); every function that reads Secrets must have it.
 */
import type { Store } from '../store/types.js';

export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

export async function storeFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Store> {
  return encryptedFromEnv(await backendFromEnv(env), env);
}

async function backendFromEnv(env: Readonly<Record<string, string | undefined>>): Promise<Store> {
  if (env.KUMO_SQLITE_PATH) {
    const { SqliteStore } = await import('../store/sqlite.js');
    return new SqliteStore({ path: env.KUMO_SQLITE_PATH });
  }
  const tableName = env.KUMO_TABLE;
  if (!tableName) throw new StoreConfigError('no store configured: set KUMO_TABLE (DynamoDB table name) or KUMO_SQLITE_PATH');
  const { DynamoDbStore } = await import('../store/dynamodb.js');
  return new DynamoDbStore({ tableName });
}

async function encryptedFromEnv(store: Store, env: Readonly<Record<string, string | undefined>>): Promise<Store> {
  const keyId = env.KUMO_SECRETS_KMS_KEY;
  if (!keyId) return store;
  const { EncryptingStore, KmsEnvelopeEncryptor } = await import('../store/encryption.js');
  const { kmsDataKeys } = await import('./kms-keys.js');
  return new EncryptingStore(store, new KmsEnvelopeEncryptor(kmsDataKeys(keyId, { 'kumo.io/store': env.KUMO_TABLE ?? env.KUMO_SQLITE_PATH ?? '' })));
}
