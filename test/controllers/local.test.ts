import { startCluster } from '../helpers/cluster.js';
import { controlLoopScenarios } from './scenarios.js';

controlLoopScenarios('kumo up, SQLite', async (opts) => {
  const cluster = await startCluster({
    fakeNodes: { names: opts.nodes, startDelayMs: 50, leaseRenewMs: opts.leaseRenewMs },
    controlPlane: { nodeLifecycle: { gracePeriodMs: opts.nodeGraceMs }, job: { backoffBaseMs: 50 } },
    defaultTolerationSeconds: opts.tolerationSeconds,
    resyncIntervalMs: 2_000,
  });
  return { client: cluster.client, fake: cluster.fake!, nodes: opts.nodes, dispose: () => cluster.dispose() };
});
