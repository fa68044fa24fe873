/**
 * `kumo up`: the garbage collector follows a custom resource served after it
 * started, from the change feed (the resync is set far beyond the test, so
 * only the feed can collect in time).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { LocalCluster } from '#lib/local/cluster';
import { startCluster } from '../helpers/cluster.js';
import { collectsAcrossCustomKinds } from './gc-scenario.js';

let cluster: LocalCluster & { dispose(): Promise<void> };

beforeAll(async () => {
  cluster = await startCluster({ resyncIntervalMs: 10 * 60_000 });
});

afterAll(async () => {
  await cluster?.dispose();
});

describe('garbage collection across custom kinds, kumo up', () => {
  it('collects a custom object owned by a ConfigMap and a ConfigMap owned by a custom object when the owner goes', async () => {
    await collectsAcrossCustomKinds(cluster.client, () => cluster.api.kinds.lookupResource('example.com', 'v1', 'widgets'), 5_000);
  });
});
