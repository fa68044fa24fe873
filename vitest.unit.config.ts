// `npm run test:unit`: the unit tier, under a minute on two cores. The tests of pure logic, and of the API
// server, the scheduler and the Lambda handlers in this one process on an in-memory SQLite store: no AWS
// emulator, no Docker, no child process, no real binary (kubectl, helm, the kumo CLI), no whole cluster
// (startCluster). `npm test` runs these and everything else.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/agent/volumes.test.ts',
      'test/api/quota.test.ts',
      'test/apiserver/*.test.ts',
      'test/auth/auth.test.ts',
      'test/auth/token-cli.test.ts',
      'test/auth/token-mac.test.ts',
      'test/cdk/concurrency.test.ts',
      'test/cdk/stream-filters.test.ts',
      'test/cli/printing.test.ts',
      'test/cloudprovider/scale-up-plan.test.ts',
      'test/controllers/daemon-util.test.ts',
      'test/controllers/metrics.test.ts',
      'test/functions/*.test.ts',
      'test/scheduler/*.test.ts',
      'test/sim/fake-nodes.test.ts',
      'test/store/encryption.test.ts',
      'test/store/sqlite.test.ts',
    ],
    // Starts a whole cluster and runs kubectl.
    exclude: [...(base.test?.exclude ?? []), 'test/apiserver/metrics.test.ts'],
  },
});
