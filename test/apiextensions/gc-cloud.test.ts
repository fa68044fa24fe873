/**
 * The cloud: the controllers Lambda handler, fed by the table's real stream
 * on the emulator (two container instances, batches duplicated and
 * reordered, none dropped, no scheduled resync), collects across custom
 * kinds served after the handler's containers started: each batch that
 * carries a resource they do not know makes them read the CRDs first.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { CONTROLLER_FILTERS, passesFilters } from '#lib/cloud/stream-filters';
import { DynamoDbStore } from '#lib/store/dynamodb';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { ensureEmulator } from '../helpers/moto.js';
import { type StreamHandler, StreamPoller } from '../helpers/stream-poller.js';
import { collectsAcrossCustomKinds } from './gc-scenario.js';

const emulator = await ensureEmulator();
const tableName = `kumo-crd-gc-${randomUUID()}`;
const ddb = new DynamoDBClient({});
let store: DynamoDbStore;
let api: ApiServer;
let poller: StreamPoller;

const CONTROLLERS_FUNCTION = '../../functions/controllers.ts';

async function handlerInstance(): Promise<StreamHandler> {
  // A fresh module instance: what a second Lambda container is; invoked once so it starts before the CRD exists.
  vi.resetModules();
  const mod = (await import(CONTROLLERS_FUNCTION)) as { handler: StreamHandler };
  await mod.handler({ Records: [] });
  return mod.handler;
}

beforeAll(async () => {
  if (!emulator) return;
  await createStoreTable(ddb, tableName);
  process.env.KUMO_TABLE = tableName;
  const controllers = [await handlerInstance(), await handlerInstance()];
  store = new DynamoDbStore({ tableName, pollIntervalMs: 50, maxPollIntervalMs: 250 });
  api = new ApiServer({ store });
  await bootstrap(api.rest);
  poller = new StreamPoller(tableName, [{ name: 'controllers', instances: controllers, filter: (r) => passesFilters(CONTROLLER_FILTERS, r) }], {
    duplicate: 0.2,
    reorder: true,
    parallel: 0.3,
  });
  await poller.start();
});

afterAll(async () => {
  await poller?.stop();
  await store?.close();
  if (emulator) await ddb.send(new DeleteTableCommand({ TableName: tableName }));
  ddb.destroy();
  await emulator?.stop();
});

describe.runIf(emulator)('garbage collection across custom kinds, cloud controllers function', () => {
  it('collects a custom object owned by a ConfigMap and a ConfigMap owned by a custom object when the owner goes', async () => {
    const client = new KubeClient(new InProcessTransport(api, ADMIN));
    await collectsAcrossCustomKinds(client, () => api.kinds.lookupResource('example.com', 'v1', 'widgets'), 30_000);
  });
});
