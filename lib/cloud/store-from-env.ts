/**
 * The store a cloud function runs on, chosen by its environment:
 * `KUMO_TABLE` names the DynamoDB table (the cloud), `KUMO_SQLITE_PATH` a
 * SQLite file or `:memory:` (running the function code locally and in tests).
 * Each backend is imported only when chosen, so a Lambda bundle need not
 * carry the native SQLite module. With `KUMO_SECRETS_KMS_KEY` (a KMS key id
 * or ARN), Secrets are encrypted at rest with data keys from that key
 * (docs/services.md); every function that reads Secrets must have it.
 */
import { ConfigError, type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import type { Store } from '../store/types.js';

export class StoreConfigError extends ConfigError {
  override name = 'StoreConfigError';
}

export async function storeFromEnv(env: Env = process.env): Promise<Store> {
  return encryptedFromEnv(await backendFromEnv(env), env);
}

async function backendFromEnv(env: Env): Promise<Store> {
  const path = readSetting(env, SETTINGS.sqlitePath);
  if (path) {
    const { SqliteStore } = await import('../store/sqlite.js');
    return new SqliteStore({ path });
  }
  const tableName = readSetting(env, SETTINGS.table);
  if (!tableName) throw new StoreConfigError(`no store configured: set ${SETTINGS.table.env} (DynamoDB table name) or ${SETTINGS.sqlitePath.env}`);
  const { DynamoDbStore } = await import('../store/dynamodb.js');
  return new DynamoDbStore({ tableName });
}

async function encryptedFromEnv(store: Store, env: Env): Promise<Store> {
  const keyId = readSetting(env, SETTINGS.secretsKmsKey);
  if (!keyId) return store;
  const { EncryptingStore, KmsEnvelopeEncryptor } = await import('../store/encryption.js');
  const { kmsDataKeys } = await import('./kms-keys.js');
  const context = readSetting(env, SETTINGS.table) ?? readSetting(env, SETTINGS.sqlitePath) ?? '';
  return new EncryptingStore(store, new KmsEnvelopeEncryptor(kmsDataKeys(keyId, { 'kumo.io/store': context })));
}
