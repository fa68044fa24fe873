/**
 * The same control-loop scenarios in cloud mode: the DynamoDB store on the
 * emulator, and the controller and scheduler Lambda handlers fed by the
 * table's real stream (read with GetRecords) in real-shaped batches that are
 * duplicated, reordered, sometimes dropped (repaired by the scheduled resync)
 * and delivered to two handler instances at once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { vi } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { FakeNodes } from '#lib/sim/fake-nodes';
import { DynamoDbStore } from '#lib/store/dynamodb';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { ensureEmulator } from '../helpers/moto.js';
import { type StreamHandler, StreamPoller } from '../helpers/stream-poller.js';
import { controlLoopScenarios } from './scenarios.js';
import { silentLogger } from '#lib/log/logger';

// Checked once up front (skip loudly without an emulator); each scenario then gets a fresh emulator of its
// own, since moto's transactions slow down with everything it has ever stored.
const probe = await ensureEmulator();
await probe?.stop();

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as unknown as ScheduledEvent;

async function handlerInstance(path: string): Promise<(event: unknown) => Promise<unknown>> {
  // A fresh module instance: what a second Lambda container is. Invoked once at once, so it finishes
  // loading its (lazily imported) store before the next instance resets the module registry.
  vi.resetModules();
  const mod = (await import(path)) as { handler: (event: unknown) => Promise<unknown> };
  await mod.handler({ Records: [] });
  return mod.handler;
}

if (probe) {
  controlLoopScenarios(
    'cloud: DynamoDB on the emulator, stream-driven Lambda handlers',
    async (opts) => {
      const emulator = (await ensureEmulator())!;
      const tableName = `kumo-ctl-${randomUUID()}`;
      const ddb = new DynamoDBClient({});
      await createStoreTable(ddb, tableName);
      Object.assign(process.env, {
        KUMO_TABLE: tableName,
        KUMO_NODE_GRACE_SECONDS: String(opts.nodeGraceMs / 1000),
        KUMO_DEFAULT_TOLERATION_SECONDS: String(opts.tolerationSeconds),
        KUMO_JOB_BACKOFF_MS: '50',
      });
      const controllers = [await handlerInstance('../../functions/controllers.ts'), await handlerInstance('../../functions/controllers.ts')];
      const schedulers = [await handlerInstance('../../functions/scheduler.ts'), await handlerInstance('../../functions/scheduler.ts')];

      const store = new DynamoDbStore({ tableName, pollIntervalMs: 50, maxPollIntervalMs: 250 });
      const api = new ApiServer({ store, admission: { defaultTolerationSeconds: opts.tolerationSeconds } });
      await bootstrap(api.rest);
      const client = new KubeClient(new InProcessTransport(api, ADMIN));

      const poller = new StreamPoller(
        tableName,
        [
          { name: 'controllers', instances: controllers as StreamHandler[] },
          { name: 'scheduler', instances: schedulers as StreamHandler[] },
        ],
        { duplicate: 0.2, reorder: true, drop: 0.05, parallel: 0.3 },
      );
      await poller.start();
      // The EventBridge schedule, sped up: a full resync repairs what dropped batches missed.
      let resyncing = false;
      const resync = setInterval(() => {
        if (resyncing) return;
        resyncing = true;
        const t0 = Date.now();
        void Promise.all([controllers[0]!(scheduled), schedulers[0]!(scheduled)])
          .then((r) => process.env.KUMO_DEBUG && console.log(`resync ${JSON.stringify(r)} in ${Date.now() - t0} ms`))
          .catch((err: Error) => console.error(`resync: ${err.message}`))
          .finally(() => (resyncing = false));
      }, 5_000);

      const fake = new FakeNodes(client, { names: opts.nodes, startDelayMs: 50, leaseRenewMs: opts.leaseRenewMs, logger: silentLogger });
      await fake.start();
      return {
        client,
        fake,
        nodes: opts.nodes,
        async dispose() {
          console.log(
            `emulator calls: ${JSON.stringify(Object.fromEntries(emulator.calls))}; batches dropped ${poller.dropped}, duplicated ${poller.duplicated}, parallel ${poller.parallelized}`,
          );
          emulator.calls.clear();
          clearInterval(resync);
          await fake.stop();
          await poller.stop();
          await store.close();
          ddb.destroy();
          await emulator.stop();
        },
      };
    },
    { timeoutMs: 90_000, isolated: true, nodeGraceMs: 10_000, leaseRenewMs: 3_000, pollMs: 250, small: true },
  );
}
