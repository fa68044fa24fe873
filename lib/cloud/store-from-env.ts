/**
 * The store a cloud function runs on, chosen by its environment:
 * `KUMO_TABLE` names the DynamoDB table (the cloud), `KUMO_SQLITE_PATH` a
 * SQLite file or `:memory:` (running the function code locally and in tests).
 * Each backend is imported only when chosen, so a Lambda bundle need not
 * carry the native SQLite module.
 */
import type { Store } from '../store/types.js';

export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

export async function storeFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Store> {
  if (env.KUMO_SQLITE_PATH) {
    const { SqliteStore } = await import('../store/sqlite.js');
    return new SqliteStore({ path: env.KUMO_SQLITE_PATH });
  }
  const tableName = env.KUMO_TABLE;
  if (!tableName) throw new StoreConfigError('no store configured: set KUMO_TABLE (DynamoDB table name) or KUMO_SQLITE_PATH');
  const { DynamoDbStore } = await import('../store/dynamodb.js');
  return new DynamoDbStore({ tableName });
}
