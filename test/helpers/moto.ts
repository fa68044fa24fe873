/**
 * The AWS API emulator for tests that need DynamoDB (lib/sim/emulator.ts
 * starts it; the benchmarks use it too).
 *
 * `ensureEmulator()` uses AWS_ENDPOINT_URL when it is set (LocalStack, a
 * running moto, real AWS); otherwise it starts `moto_server` on a free
 * loopback port behind a serializing proxy (moto 5 does not lock around a
 * conditional write's check and apply) and points the SDK's standard
 * configuration at it.
 *
 * Without moto_server: with CI=true this fails loudly; elsewhere the caller
 * skips its tests and a loud message says why.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { configureEnv, type Emulator, onPath, startEmulator } from '#lib/sim/emulator';
import { createStoreTable } from '#lib/store/dynamodb-table';

export type { Emulator };

/**
 * An emulator endpoint for this test file, or undefined when there is none
 * and the tests should skip (never in CI). Call `stop()` in afterAll.
 */
export async function ensureEmulator(): Promise<Emulator | undefined> {
  const given = process.env.AWS_ENDPOINT_URL;
  if (given) {
    const restore = configureEnv({});
    return { endpoint: given, calls: new Map(), stop: async () => restore() };
  }
  if (!onPath('moto_server')) {
    const why = 'moto_server is not on the PATH (pip install "moto[server]"), and AWS_ENDPOINT_URL is not set';
    if (process.env.CI === 'true') throw new Error(`DynamoDB tests need an emulator: ${why}`);
    console.warn(`\n*** SKIPPING DynamoDB tests: ${why}. ***\n`);
    return undefined;
  }
  return startEmulator();
}

/** A fresh, empty store table on the emulator: tests share the emulator, never data. */
export async function newStoreTable(): Promise<string> {
  const tableName = `kumo-test-${randomUUID()}`;
  const client = new DynamoDBClient({});
  try {
    await createStoreTable(client, tableName);
  } finally {
    client.destroy();
  }
  return tableName;
}
