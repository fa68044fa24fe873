/**
 * The CronJob controller against a real API server on SQLite, its clock
 * moved by hand: Jobs at their schedule times (named by the minute, one per
 * slot even with controllers racing), the concurrency policies, the starting
 * deadline, suspend, status and history limits. Jobs finish by a status
 * write, as the Job controller would write it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CronJob } from '#lib/api/batch/v1/cronjob';
import type { Job } from '#lib/api/batch/v1/job';
import type { KObject } from '#lib/api/object';
import { MemoryRecorder } from '#lib/client/events';
import type { KubeClient } from '#lib/client/client';
import { CRONJOB_SCHEDULED_TIMESTAMP, CronJobController } from '#lib/controllers/cronjob';
import { CRONJOBS, JOBS } from '#lib/kinds/resources';
import { ManualClock, rfc3339 } from '#lib/util/clock';
import { startCluster } from '../helpers/cluster.js';

type CJ = CronJob & KObject;
type J = Job & KObject;
const MINUTE = 60_000;

let cluster: Awaited<ReturnType<typeof startCluster>>;
let client: KubeClient;

beforeAll(async () => {
  cluster = await startCluster({ controllers: false });
  client = cluster.client;
});
afterAll(async () => {
  await cluster?.dispose();
});

function cronJob(name: string, spec: Partial<NonNullable<CronJob['spec']>> = {}): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
      ...spec,
    },
  } as KObject;
}

/** A CronJob, and a controller whose clock starts at its creation. */
async function setup(name: string, spec: Partial<NonNullable<CronJob['spec']>> = {}) {
  const created = await client.create<CJ>(CRONJOBS, 'default', cronJob(name, spec));
  const clock = new ManualClock(Date.parse(created.metadata.creationTimestamp!));
  const recorder = new MemoryRecorder();
  const controller = new CronJobController(client, recorder, clock);
  const key = `default/${name}`;
  /** Moves the clock to the next 5-minute slot (plus a second) and reconciles. */
  const nextSlot = async () => {
    clock.advance(5 * MINUTE - (clock.now() % (5 * MINUTE)) + 1000);
    return controller.reconcile(key);
  };
  const jobs = async () => (await client.list<J>(JOBS, 'default', { labelSelector: `app=${name}` })).items.filter((j) => !j.metadata.deletionTimestamp);
  const get = () => client.get<CJ>(CRONJOBS, 'default', name);
  const reasons = () => recorder.events.map((e) => e.reason);
  return { clock, controller, key, nextSlot, jobs, get, reasons };
}

async function finish(job: J, type: 'Complete' | 'Failed', at: number): Promise<void> {
  const t = rfc3339(at);
  const fresh = await client.get<J>(JOBS, 'default', job.metadata.name!);
  const conditions =
    type === 'Complete'
      ? [
          { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: t },
          { type: 'Complete', status: 'True', lastTransitionTime: t },
        ]
      : [
          { type: 'FailureTarget', status: 'True', lastTransitionTime: t },
          { type: 'Failed', status: 'True', lastTransitionTime: t },
        ];
  await client.updateStatus(JOBS, {
    ...fresh,
    status: { startTime: t, conditions, ...(type === 'Complete' ? { completionTime: t, succeeded: 1 } : { failed: 1 }) },
  } as KObject);
}

describe('CronJob controller', () => {
  it('creates one Job per schedule time, named by its minute and annotated with it, and asks to be back at the next', async () => {
    const s = await setup('every5');
    const first = await s.controller.reconcile(s.key);
    expect(await s.jobs()).toHaveLength(0);
    const due = s.clock.now() + first!.requeueAfterMs!;
    expect(new Date(due).getUTCMinutes() % 5).toBe(0);

    s.clock.advance(first!.requeueAfterMs!);
    const again = await s.controller.reconcile(s.key);
    const slot = Math.floor(due / MINUTE) * MINUTE;
    const [job] = await s.jobs();
    expect(job!.metadata.name).toBe(`every5-${slot / MINUTE}`);
    expect(job!.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP]).toBe(rfc3339(slot));
    expect(job!.metadata.ownerReferences).toMatchObject([{ kind: 'CronJob', name: 'every5', controller: true }]);
    const cj = await s.get();
    expect(cj.status).toMatchObject({ active: [{ kind: 'Job', name: job!.metadata.name, uid: job!.metadata.uid }], lastScheduleTime: rfc3339(slot) });
    expect(s.clock.now() + again!.requeueAfterMs!).toBe(slot + 5 * MINUTE + 100);
    expect(s.reasons()).toEqual(['SuccessfulCreate']);

    // Reconciled again in the same slot: nothing new.
    await s.controller.reconcile(s.key);
    expect(await s.jobs()).toHaveLength(1);
  });

  it('creates one Job for a slot however many controllers reconcile it at once', async () => {
    const s = await setup('racing');
    s.clock.advance(5 * MINUTE - (s.clock.now() % (5 * MINUTE)) + 1000);
    const others = Array.from({ length: 3 }, () => new CronJobController(client, new MemoryRecorder(), s.clock));
    await Promise.all([s.controller, ...others].map((c) => c.reconcile(s.key).catch(() => undefined)));
    await s.controller.reconcile(s.key);
    expect(await s.jobs()).toHaveLength(1);
    expect((await s.get()).status?.active).toHaveLength(1);
  });

  it('Forbid skips a time while a Job runs, and runs the missed one once it finishes', async () => {
    const s = await setup('forbid', { concurrencyPolicy: 'Forbid' });
    await s.nextSlot();
    const [first] = await s.jobs();
    await s.nextSlot();
    expect(await s.jobs()).toHaveLength(1);
    expect(s.reasons()).toContain('JobAlreadyActive');

    await finish(first!, 'Complete', s.clock.now());
    await s.controller.reconcile(s.key);
    const cj = await s.get();
    expect(cj.status?.lastSuccessfulTime).toBe(rfc3339(s.clock.now()));
    expect(s.reasons()).toContain('SawCompletedJob');
    const names = (await s.jobs()).map((j) => j.metadata.name);
    expect(names).toHaveLength(2);
    expect(cj.status?.active?.map((r) => r.name)).toEqual(names.filter((n) => n !== first!.metadata.name));
  });

  it('Replace deletes the running Job before starting the next', async () => {
    const s = await setup('replace', { concurrencyPolicy: 'Replace' });
    await s.nextSlot();
    const [first] = await s.jobs();
    await s.nextSlot();
    const now = await s.jobs();
    expect(now).toHaveLength(1);
    expect(now[0]!.metadata.name).not.toBe(first!.metadata.name);
    expect((await s.get()).status?.active?.map((r) => r.name)).toEqual([now[0]!.metadata.name]);
    expect(s.reasons()).toEqual(['SuccessfulCreate', 'SuccessfulDelete', 'SuccessfulCreate']);
  });

  it('Allow runs them side by side, and keeps successfulJobsHistoryLimit finished ones', async () => {
    const s = await setup('allow', { successfulJobsHistoryLimit: 1 });
    await s.nextSlot();
    await s.nextSlot();
    expect(await s.jobs()).toHaveLength(2);
    expect((await s.get()).status?.active).toHaveLength(2);
    for (const j of await s.jobs()) await finish(j, 'Complete', s.clock.now());
    await s.controller.reconcile(s.key);
    const left = await s.jobs();
    expect(left).toHaveLength(1);
    expect((await s.get()).status?.active ?? []).toEqual([]);
    expect(s.reasons().filter((r) => r === 'SuccessfulDelete')).toHaveLength(1);
  });

  it('misses a time older than startingDeadlineSeconds, and starts none while suspended', async () => {
    const s = await setup('late', { startingDeadlineSeconds: 10 });
    s.clock.advance(5 * MINUTE - (s.clock.now() % (5 * MINUTE)) + 30_000);
    await s.controller.reconcile(s.key);
    expect(await s.jobs()).toHaveLength(0);

    const p = await setup('paused', { suspend: true });
    expect(await p.nextSlot()).toBeUndefined();
    expect(await p.jobs()).toHaveLength(0);
  });
});
