/**
 * The deployed controllers bundle on DynamoDB, configured as the stack
 * configures it (test/cdk/stack.test.ts asserts the stack's side): a
 * scheduled resync reconciles a Deployment created through the API bundle,
 * and the invocation's log carries the EMF record CloudWatch turns into the
 * control loops' metrics.
 */
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { deployment } from '../apiserver/harness.js';
import { type ApiModule, type CloudAccount, deployToEmulator, type EventHandler, invoke, loadBundle, SCHEDULED_EVENT } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator({
  POWERTOOLS_METRICS_NAMESPACE: 'kumo/KumoCloudTest',
  POWERTOOLS_SERVICE_NAME: 'controllers',
});
let api: ApiModule;
let controllers: { handler: EventHandler };

beforeAll(async () => {
  if (!account) return;
  api = await loadBundle<ApiModule>(bundles.api);
  controllers = await loadBundle<{ handler: EventHandler }>(bundles.controllers);
});
afterAll(async () => {
  await account?.dispose();
});

it.runIf(account)("publishes a resync's reconciles from the deployed controllers bundle as one EMF record", async () => {
  expect((await invoke(api, 'POST', '/apis/apps/v1/namespaces/default/deployments', { token: account!.adminToken, body: deployment('web', 1) })).status).toBe(
    201,
  );

  const lines: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.startsWith('{')),
    );
    return true;
  });
  try {
    await controllers.handler(SCHEDULED_EVENT);
  } finally {
    stdout.mockRestore();
  }

  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => '_aws' in r);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({
    _aws: { CloudWatchMetrics: [{ Namespace: 'kumo/KumoCloudTest', Dimensions: [['service']] }] },
    service: 'controllers',
    controller_runtime_reconcile_errors_total: 0,
  });
  expect(records[0]!.controller_runtime_reconcile_total).toBeGreaterThanOrEqual(1);
  const replicaSets = await invoke(api, 'GET', '/apis/apps/v1/namespaces/default/replicasets', { token: account!.adminToken });
  expect(replicaSets.body.items).toHaveLength(1);
});
