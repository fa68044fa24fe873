// `npm run test:cloud`: the control plane in cloud mode, from the bundles the CDK stack deploys,
// on the AWS API emulator (test/cloud/setup.ts synthesizes the stack once for every file).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['test/cloud/**/*.test.ts'],
    globalSetup: ['test/cloud/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
