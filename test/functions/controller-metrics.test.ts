/**
 * The controller function (functions/controllers.ts) publishing its
 * reconciles as CloudWatch EMF, as the stack configures it
 * (POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME): a scheduled
 * resync on a SQLite store reconciles a Deployment, and the function's
 * standard output carries one EMF record with controller-runtime's names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, expect, it, vi } from 'vitest';
import { DEPLOYMENTS, REPLICASETS } from '#lib/kinds/resources';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ADMIN, ApiServer } from '#lib/apiserver/server';
import { KubeClient } from '#lib/client/client';
import { InProcessTransport } from '#lib/client/transport';
import { SqliteStore } from '#lib/store/sqlite';

const dir = mkdtempSync(join(tmpdir(), 'kumo-emf-'));
const path = join(dir, 'state.db');
Object.assign(process.env, { KUMO_SQLITE_PATH: path, POWERTOOLS_METRICS_NAMESPACE: 'kumo/Test', POWERTOOLS_SERVICE_NAME: 'controllers' });
const { handler } = await import('../../functions/controllers.js');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as unknown as ScheduledEvent;

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [field: string]: unknown;
}

it("publishes a resync's reconciles, errors and durations as one EMF record per invocation", async () => {
  const store = new SqliteStore({ path });
  const api = new ApiServer({ store });
  await bootstrap(api.rest);
  const client = new KubeClient(new InProcessTransport(api, ADMIN));
  await client.create(DEPLOYMENTS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
    },
  });

  const written: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await handler(scheduled);
  } finally {
    stdout.mockRestore();
  }

  // The resync reconciled the Deployment: its ReplicaSet exists.
  expect((await client.list(REPLICASETS, 'default')).items).toHaveLength(1);
  const records = written
    .flatMap((w) => w.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as EmfRecord);
  expect(records).toHaveLength(1);
  const [emf] = records;
  expect(emf!._aws.CloudWatchMetrics).toEqual([
    {
      Namespace: 'kumo/Test',
      Dimensions: [['service']],
      Metrics: [
        { Name: 'controller_runtime_reconcile_total', Unit: 'Count' },
        { Name: 'controller_runtime_reconcile_errors_total', Unit: 'Count' },
        { Name: 'controller_runtime_reconcile_time_seconds', Unit: 'Seconds' },
      ],
    },
  ]);
  expect(emf!.service).toBe('controllers');
  expect(emf!.controller_runtime_reconcile_total).toBeGreaterThanOrEqual(1);
  expect(emf!.controller_runtime_reconcile_errors_total).toBe(0);
  const durations = emf!.controller_runtime_reconcile_time_seconds;
  expect([durations].flat()).toHaveLength(Math.min(emf!.controller_runtime_reconcile_total as number, 100));
  await store.close();
});
