/**
 * `kubectl top` on real runtimes: the agent measures its containers (the
 * Docker Engine's stats API; /proc for the process runtime) and the host,
 * and reports them on its Lease; a busy container shows CPU, an idle one
 * next to none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PODS } from '#lib/kinds/resources';
import { kubectlPath } from '../helpers/kubectl.js';
import { waitFor } from '../helpers/wait.js';
import { kubeconfigFor, rows, run, type RunResult } from '../kubectl/harness.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, type P, podObject, waitGone, waitPod } from './harness.js';

const docker = await dockerForTests();

/** millicores of a `kubectl top` CPU cell (`250m`, `1`). */
function milli(cell: string): number {
  return cell.endsWith('m') ? Number(cell.slice(0, -1)) : Number(cell) * 1000;
}

for (const runtime of ['docker', 'process'] as const) {
  describe.skipIf(runtime === 'docker' && !docker)(`kubectl top on the ${runtime} runtime`, () => {
    const node = uniqueNode(`top-${runtime}`);
    let c: Awaited<ReturnType<typeof agentCluster>>;
    let dir: string;
    let kubectl: (args: string[]) => Promise<RunResult>;

    beforeAll(async () => {
      if (runtime === 'docker') await ensureTestImage();
      c = await agentCluster({ runtime, nodeNames: [node] });
      dir = mkdtempSync(join(tmpdir(), 'kumo-top-'));
      writeFileSync(join(dir, 'kubeconfig'), kubeconfigFor(c.url));
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, KUBECTL_KUBERC: 'false' };
      const bin = await kubectlPath();
      kubectl = (args) => run(bin, ['--cache-dir', join(dir, 'cache'), ...args], env, '', 30_000);
    });

    afterAll(async () => {
      const pods = (await c.client.list<P>(PODS, 'default')).items;
      await Promise.all(pods.map((p) => c.client.delete(PODS, 'default', p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined)));
      await Promise.all(pods.map((p) => waitGone(c.client, p.metadata.name!).catch(() => undefined)));
      await c.dispose();
      if (runtime === 'docker') await removeNodeContainers(node);
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows a busy container using CPU, an idle one next to none, and the node', async () => {
      const container = (name: string, script: string) => ({ name, image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script] });
      await c.client.create(PODS, 'default', podObject('busy', { terminationGracePeriodSeconds: 0, containers: [container('spin', 'while :; do :; done')] }));
      await c.client.create(PODS, 'default', podObject('idle', { terminationGracePeriodSeconds: 0, containers: [container('nap', 'sleep 3600')] }));
      for (const name of ['busy', 'idle']) await waitPod(c.client, name, (p) => p.status?.phase === 'Running', 'running');
      const table = await waitFor(
        async () => {
          const r = await kubectl(['top', 'pods', '--containers', '--no-headers']);
          const t = rows(r.stdout);
          return t.length === 2 ? t : undefined;
        },
        { timeoutMs: 30_000, what: 'metrics of both pods' },
      );
      const byPod = new Map(table.map((r) => [r[0], r]));
      expect(byPod.get('busy')!.slice(0, 2)).toEqual(['busy', 'spin']);
      expect(byPod.get('idle')!.slice(0, 2)).toEqual(['idle', 'nap']);
      const busy = milli(byPod.get('busy')![2]!);
      const idle = milli(byPod.get('idle')![2]!);
      expect(busy).toBeGreaterThan(100);
      expect(idle).toBeLessThan(busy / 4);
      expect(byPod.get('busy')![3]).toMatch(/^\d+Mi$/);

      const nodes = rows((await kubectl(['top', 'nodes', '--no-headers'])).stdout);
      expect(nodes).toEqual([
        [node, expect.stringMatching(/^\d+m?$/), expect.stringMatching(/^\d+%$/), expect.stringMatching(/^\d+Mi$/), expect.stringMatching(/^\d+%$/)],
      ]);
      expect(milli(nodes[0]![1]!)).toBeGreaterThanOrEqual(busy / 2);
    });
  });
}
