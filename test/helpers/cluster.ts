/** Starts an isolated in-process `kumo up` for a test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster, type LocalClusterOptions } from '#lib/local/cluster';
import { silentLogger } from '#lib/log/logger';

export async function startCluster(opts: Partial<LocalClusterOptions> = {}): Promise<LocalCluster & { dispose(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kumo-test-'));
  // Plain HTTP (loopback only, its Host and Origin checks on), so tests reach the API with fetch and
  // token-less kubeconfigs; HTTPS, LocalCluster's default, is tested where it matters (tls, up, client-node).
  const cluster = new LocalCluster({ dataDir, port: 0, logger: silentLogger, insecureHttp: true, ...opts });
  await cluster.start();
  return Object.assign(cluster, {
    async dispose() {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export function nodeNames(n: number, prefix = 'node'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
}
