/**
 * CronJobs in cloud mode: the DynamoDB store and EventBridge Scheduler on
 * the emulator (through the suite's serializing proxy), the controllers
 * Lambda handler fed by the table's real stream. After a batch that changed
 * a CronJob the handler arms one `at()` schedule at the earliest due time
 * (moving it as CronJobs come, are suspended and go); given the event that
 * schedule delivers, it creates the due Job and re-arms for the next time.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CronJob } from '#lib/api/batch/v1/cronjob';
import type { Job } from '#lib/api/batch/v1/job';
import type { KObject } from '#lib/api/object';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { atExpression, CRON_WAKEUP_SCHEDULE, CRON_WAKEUP_SOURCE } from '#lib/cloud/cron-wakeup';
import { CONTROLLER_FILTERS, passesFilters } from '#lib/cloud/stream-filters';
import { CRONJOB_SCHEDULED_TIMESTAMP } from '#lib/controllers/cronjob';
import { cronJobDueAt } from '#lib/controllers/cronjob-times';
import { CRONJOBS, JOBS } from '#lib/kinds/resources';
import { DynamoDbStore } from '#lib/store/dynamodb';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { rfc3339 } from '#lib/util/clock';
import { sleep } from '#lib/util/sleep';
import { ensureEmulator } from '../helpers/moto.js';
import { type StreamHandler, StreamPoller } from '../helpers/stream-poller.js';
import { waitFor } from '../helpers/wait.js';

type CJ = CronJob & KObject;
type Handler = (event: unknown, context?: Context) => Promise<unknown>;

const emulator = await ensureEmulator();
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:kumo-controllers';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/kumo-cronjob-wakeup';
/** What Lambda passes the handler: the function's own ARN is the schedule's target. */
const context = {
  invokedFunctionArn: FUNCTION_ARN,
  functionName: 'kumo-controllers',
  awsRequestId: 'test',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

function cronJob(name: string, schedule: string): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule,
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
    },
  } as KObject;
}

describe.skipIf(!emulator)('CronJobs in the cloud', () => {
  const tableName = `kumo-cron-${randomUUID()}`;
  const group = `kumo-cron-${randomUUID().slice(0, 8)}`;
  const ddb = new DynamoDBClient({});
  const scheduler = new SchedulerClient({});
  let store: DynamoDbStore;
  let client: KubeClient;
  let handler: Handler;
  /** What the armed schedule delivers to the function (its target's input). */
  let wakeupInput: unknown;

  beforeAll(async () => {
    await createStoreTable(ddb, tableName);
    await scheduler.send(new CreateScheduleGroupCommand({ Name: group }));
    Object.assign(process.env, { KUMO_TABLE: tableName, KUMO_CRON_SCHEDULE_GROUP: group, KUMO_CRON_SCHEDULER_ROLE_ARN: ROLE_ARN });
    vi.resetModules();
    // A fresh module instance (a Lambda container of its own), reading the environment set above.
    const path = '../../functions/controllers.ts';
    handler = ((await import(path)) as { handler: Handler }).handler;
    store = new DynamoDbStore({ tableName, pollIntervalMs: 50, maxPollIntervalMs: 250 });
    const api = new ApiServer({ store });
    await bootstrap(api.rest);
    client = new KubeClient(new InProcessTransport(api, ADMIN));
  });

  afterAll(async () => {
    for (const k of ['KUMO_TABLE', 'KUMO_CRON_SCHEDULE_GROUP', 'KUMO_CRON_SCHEDULER_ROLE_ARN']) delete process.env[k];
    await store?.close();
    await scheduler.send(new DeleteScheduleGroupCommand({ Name: group })).catch(() => undefined);
    await ddb.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    ddb.destroy();
    scheduler.destroy();
    await emulator?.stop();
  });

  const armed = async (): Promise<GetScheduleCommandOutput | undefined> => {
    try {
      return await scheduler.send(new GetScheduleCommand({ GroupName: group, Name: CRON_WAKEUP_SCHEDULE }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  };
  /** The earliest due time of these CronJobs as stored now, as the schedule's expression. */
  const earliestOf = async (names: string[]) => {
    const now = Date.now();
    const dues = await Promise.all(names.map(async (n) => cronJobDueAt(await client.get<CJ>(CRONJOBS, 'default', n), now)));
    return atExpression(Math.min(...dues.filter((d): d is number => d !== undefined)));
  };

  it('arms one schedule at the earliest CronJob due time from the stream, and moves or removes it as CronJobs change', async () => {
    const poller = new StreamPoller(tableName, [
      { name: 'controllers', instances: [((e) => handler(e, context)) as StreamHandler], filter: (r) => passesFilters(CONTROLLER_FILTERS, r) },
    ]);
    await poller.start();
    try {
      await client.create(CRONJOBS, 'default', cronJob('hourly', '0 * * * *'));
      const hourly = await earliestOf(['hourly']);
      let s = await waitFor(async () => (await armed())?.ScheduleExpression === hourly && armed(), { what: 'the hourly schedule' });
      expect(s).toMatchObject({ ScheduleExpressionTimezone: 'UTC', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN } });
      wakeupInput = JSON.parse(s.Target!.Input!);
      expect(wakeupInput).toEqual({ source: CRON_WAKEUP_SOURCE, 'detail-type': 'CronJobs due', detail: { due: expect.any(String) } });

      await client.create(CRONJOBS, 'default', cronJob('often', '*/5 * * * *'));
      const both = await earliestOf(['hourly', 'often']);
      s = await waitFor(async () => (await armed())?.ScheduleExpression === both && armed(), { what: 'the earlier schedule' });
      expect(s.ScheduleExpression).toBe(both);

      const often = await client.get<CJ>(CRONJOBS, 'default', 'often');
      await client.update(CRONJOBS, { ...often, spec: { ...often.spec, suspend: true } } as KObject);
      await waitFor(async () => (await armed())?.ScheduleExpression === hourly, { what: 'the schedule back at the hourly time' });

      await client.delete(CRONJOBS, 'default', 'often');
      await client.delete(CRONJOBS, 'default', 'hourly');
      await waitFor(async () => (await armed()) === undefined, { what: 'the schedule removed' });
    } finally {
      await poller.stop();
    }
  }, 60_000);

  it("creates the due Job when invoked with the schedule's event, and re-arms for the next time", async () => {
    const hour = 3_600_000;
    // Not across an hour's boundary while the test runs: the slot it expects would move.
    if (hour - (Date.now() % hour) < 15_000) await sleep(hour - (Date.now() % hour) + 1000);
    const slot = Math.floor(Date.now() / hour) * hour;
    // A CronJob whose last run was an hour before this one's (as if the controller last ran then): this hour's is due.
    const created = await client.create<CJ>(CRONJOBS, 'default', cronJob('due', '0 * * * *'));
    await client.updateStatus(CRONJOBS, { ...created, status: { lastScheduleTime: rfc3339(slot - hour) } } as KObject);

    await handler(wakeupInput, context);
    const job = await client.get<Job & KObject>(JOBS, 'default', `due-${slot / 60_000}`);
    expect(job.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP]).toBe(rfc3339(slot));
    const cj = await client.get<CJ>(CRONJOBS, 'default', 'due');
    expect(cj.status).toMatchObject({ lastScheduleTime: rfc3339(slot), active: [{ name: job.metadata.name, uid: job.metadata.uid }] });
    expect((await client.list(JOBS, 'default')).items).toHaveLength(1);
    expect((await armed())?.ScheduleExpression).toBe(atExpression(slot + hour + 100));
  }, 60_000);
});
