/**
 * CronJob with the real kubectl on a simulated node: `create cronjob`,
 * kubectl's columns (wide too), describe, explain, `get all`, kube's
 * validation messages (nothing stored), and `create job --from=cronjob/…`
 * whose Job runs to completion and moves the CronJob's lastSuccessfulTime.
 */
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';
import { waitFor } from '../helpers/wait.js';

const k = kubectlSuite({ fakeNodes: { names: ['node-1'], startDelayMs: 0, runMs: 200 } });
const { ok, refused } = k;

function cronJob(name: string, spec: string): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}
spec:
${spec}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
`;
}

describe('CronJob', () => {
  it('is created by kubectl create cronjob and printed in kubectl get columns', async () => {
    expect(await ok(['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'echo', 'hi'])).toBe('cronjob.batch/nightly created\n');
    const table = rows(await ok(['get', 'cj']));
    expect(table[0]).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    expect(table[1]).toEqual(['nightly', '0 3 * * *', '<none>', 'False', '0', '<none>', expect.any(String)]);
    const wide = await ok(['get', 'cronjob', 'nightly', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/);
    expect(wide.split('\n')[1]).toMatch(/\snightly\s+busybox\s+<none>$/);
    expect(await ok(['get', 'all', '-o', 'name'])).toContain('cronjob.batch/nightly\n');
  });

  it('is described as kubectl describes it, and explained from its Kubernetes type', async () => {
    await ok(
      ['apply', '-f', '-'],
      cronJob('zoned', '  schedule: "@hourly"\n  timeZone: Europe/Paris\n  concurrencyPolicy: Forbid\n  startingDeadlineSeconds: 30\n'),
    );
    const described = await ok(['describe', 'cronjob', 'zoned']);
    expect(described).toMatch(/^Schedule:\s+@hourly$/m);
    expect(described).toMatch(/^Concurrency Policy:\s+Forbid$/m);
    expect(described).toMatch(/^Suspend:\s+False$/m);
    expect(described).toMatch(/^Successful Job History Limit:\s+3$/m);
    expect(described).toMatch(/^Failed Job History Limit:\s+1$/m);
    expect(described).toMatch(/^Starting Deadline Seconds:\s+30s$/m);
    expect(described).toMatch(/^Last Schedule Time:\s+<unset>$/m);
    expect(described).toMatch(/^Active Jobs:\s+<none>$/m);
    expect(rows(await ok(['get', 'cj', 'zoned', '--no-headers']))[0]!.slice(0, 4)).toEqual(['zoned', '@hourly', 'Europe/Paris', 'False']);
    expect(await ok(['explain', 'cronjob.spec.timeZone'])).toContain('The time zone name for the given schedule');
  });

  it("refuses a bad schedule, time zone or deadline with kube's messages, and stores nothing", async () => {
    expect(await refused(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=not a cron'])).toBe(
      'error: failed to create cronjob: CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "not a cron": expected exactly 5 fields, found 3: [not a cron]',
    );
    expect(await refused(['create', '-f', '-'], cronJob('bad', '  schedule: "TZ=UTC 0 * * * *"\n'))).toBe(
      'The CronJob "bad" is invalid: spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    );
    expect(await refused(['create', '-f', '-'], cronJob('bad', '  schedule: "0 * * * *"\n  timeZone: Mars/Phobos\n  startingDeadlineSeconds: -1\n'))).toBe(
      'The CronJob "bad" is invalid: \n* spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0\n* spec.timeZone: Invalid value: "Mars/Phobos": unknown time zone Mars/Phobos',
    );
    expect(await k.kubectl(['get', 'cj', 'bad'])).toMatchObject({ code: 1 });
  });

  it('runs a Job from it with kubectl create job --from, which its controller counts when it succeeds', async () => {
    await ok(['apply', '-f', '-'], cronJob('backup', '  schedule: "0 4 * * *"\n'));
    expect(await ok(['create', 'job', 'backup-now', '--from=cronjob/backup'])).toBe('job.batch/backup-now created\n');
    const job = JSON.parse(await ok(['get', 'job', 'backup-now', '-o', 'json']));
    expect(job.metadata.annotations).toMatchObject({ 'cronjob.kubernetes.io/instantiate': 'manual' });
    expect(job.metadata.ownerReferences).toMatchObject([{ kind: 'CronJob', name: 'backup', controller: true }]);
    await ok(['wait', '--for=condition=complete', 'job/backup-now', '--timeout=30s']);
    const lastSuccessful = await waitFor(async () => (await ok(['get', 'cj', 'backup', '-o', 'jsonpath={.status.lastSuccessfulTime}'])) || undefined);
    expect(lastSuccessful).toBe(JSON.parse(await ok(['get', 'job', 'backup-now', '-o', 'json'])).status.completionTime);
    // kube's controller warns of a Job it did not start.
    expect(await ok(['describe', 'cj', 'backup'])).toMatch(/Warning\s+UnexpectedJob\s+.*Saw a job that the controller did not create or forgot: backup-now/);
  });
});
