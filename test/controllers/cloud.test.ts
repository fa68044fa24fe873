/**
 * The same control-loop scenarios in cloud mode: the DynamoDB store on the
 * emulator, and the controller and scheduler Lambda handlers fed by the
 * table's real stream (read with GetRecords) through the stack's own event
 * filters, in real-shaped batches that are duplicated, reordered, sometimes
 * dropped (repaired by the scheduled resync) and delivered to two handler
 * instances at once.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, vi } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { CONTROLLER_FILTERS, passesFilters, SCHEDULER_FILTERS } from '#lib/cloud/stream-filters';
import { FakeNodes } from '#lib/sim/fake-nodes';
import { DynamoDbStore } from '#lib/store/dynamodb';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { ensureEmulator } from '../helpers/moto.js';
import { type StreamHandler, StreamPoller } from '../helpers/stream-poller.js';
import { controlLoopScenarios } from './scenarios.js';
import { silentLogger } from '#lib/log/logger';

// One emulator for the file (skipped loudly without one), and a fresh table per scenario: moto's
// transactions copy the whole table they write to (its stream included), so they slow down with
// everything that table has stored, but not with what other tables hold.
const emulator = await ensureEmulator();
afterAll(async () => {
  await emulator?.stop();
});

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as unknown as ScheduledEvent;

async function handlerInstance(path: string): Promise<(event: unknown) => Promise<unknown>> {
  // A fresh module instance: what a second Lambda container is. Invoked once at once, so it finishes
  // loading its (lazily imported) store before the next instance resets the module registry.
  vi.resetModules();
  const mod = (await import(path)) as { handler: (event: unknown) => Promise<unknown> };
  await mod.handler({ Records: [] });
  return mod.handler;
}

if (emulator) {
  controlLoopScenarios(
    'cloud: DynamoDB on the emulator, stream-driven Lambda handlers',
    async (opts) => {
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
      // The schedule's invocations get containers of their own: a container runs one invocation at a time,
      // so a resync never shares a reconciler's memory with a stream batch running at the same moment.
      const resyncers = [await handlerInstance('../../functions/controllers.ts'), await handlerInstance('../../functions/scheduler.ts')];

      const store = new DynamoDbStore({ tableName, pollIntervalMs: 50, maxPollIntervalMs: 250 });
      const api = new ApiServer({ store, admission: { defaultTolerationSeconds: opts.tolerationSeconds } });
      await bootstrap(api.rest);
      const client = new KubeClient(new InProcessTransport(api, ADMIN));

      const poller = new StreamPoller(
        tableName,
        [
          { name: 'controllers', instances: controllers as StreamHandler[], filter: (r) => passesFilters(CONTROLLER_FILTERS, r) },
          { name: 'scheduler', instances: schedulers as StreamHandler[], filter: (r) => passesFilters(SCHEDULER_FILTERS, r) },
        ],
        { duplicate: 0.2, reorder: true, drop: 0.05, parallel: 0.3 },
      );
      await poller.start();
      // The EventBridge schedule, sped up: a full resync repairs what dropped batches missed.
      let resync: Promise<void> | undefined;
      const schedule = setInterval(() => {
        const t0 = Date.now();
        resync ??= Promise.all(resyncers.map((h) => h(scheduled)))
          .then((r) => void (process.env.KUMO_DEBUG && console.log(`resync ${JSON.stringify(r)} in ${Date.now() - t0} ms`)))
          .catch((err: Error) => console.error(`resync: ${err.message}`))
          .finally(() => (resync = undefined));
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
          clearInterval(schedule);
          await resync;
          await fake.stop();
          await poller.stop();
          await store.close();
          // What the scenario stored goes with its table (moto keeps every table in memory).
          await ddb.send(new DeleteTableCommand({ TableName: tableName }));
          ddb.destroy();
        },
      };
    },
    { timeoutMs: 90_000, isolated: true, nodeGraceMs: 10_000, leaseRenewMs: 3_000, pollMs: 250, small: true },
  );
}
