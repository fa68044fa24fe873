/**
 * `kumo delete`: kubectl 1.35's messages, by name, by file, by selector;
 * waits (by default) until graceful deletion has really removed the object.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PODS } from '#lib/kinds/resources';
import { ROOT, startCliCluster, type CliCluster } from './harness.js';
import { sleep } from '#lib/util/sleep';

const podYaml = (name: string, extra = '', labels = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${labels ? `  labels:\n${labels}` : ''}spec:\n${extra}  containers:\n  - name: a\n    image: busybox\n`;

/** Polls (bounded) until `check` holds. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('kumo delete', () => {
  let c: CliCluster;
  beforeAll(async () => {
    c = await startCliCluster();
  });
  afterAll(async () => c?.dispose());

  const apply = async (text: string, name: string) => expect((await c.kumo(['apply', '-f', c.file(`${name}.yaml`, text)])).code).toBe(0);
  const exists = async (name: string, ns = 'default') => (await c.cluster.client.find(PODS, ns, name)) !== undefined;

  it('deletes the objects of a manifest: pod "nginx" deleted from default namespace', async () => {
    expect((await c.kumo(['apply', '-f', join(ROOT, 'examples')])).code).toBe(0);
    const res = await c.kumo(['delete', '-f', join(ROOT, 'examples', 'pod.yaml')]);
    expect(res).toEqual({ code: 0, stdout: 'pod "nginx" deleted from default namespace\n', stderr: '' });
    expect(await exists('nginx')).toBe(false);
    expect(await exists('webap1')).toBe(true);
  });

  it('prints what kubectl prints for the same deletion', async () => {
    await apply(podYaml('twin-1'), 'twin-1');
    await apply(podYaml('twin-2'), 'twin-2');
    const [kumo, kubectl] = await Promise.all([c.kumo(['delete', 'pod/twin-1']), c.kubectl(['delete', 'pod/twin-2'])]);
    expect(kumo).toEqual({ ...kubectl, stdout: kubectl.stdout.replace('twin-2', 'twin-1') });
    const [k404, m404] = await Promise.all([c.kubectl(['delete', 'pod', 'twin-2']), c.kumo(['delete', 'pod', 'twin-2'])]);
    expect(m404).toEqual(k404);
    expect(m404).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "twin-2" not found\n' });
  });

  it('deletes deployments by TYPE NAME and names the group', async () => {
    const res = await c.kumo(['delete', 'deployment', 'web-deploy']);
    expect(res).toEqual({ code: 0, stdout: 'deployment.apps "web-deploy" deleted from default namespace\n', stderr: '' });
  });

  it('deletes by label selector and by --all, and says when nothing matched', async () => {
    await apply(podYaml('sel-a', '', '    app: sel\n'), 'sel-a');
    await apply(podYaml('sel-b', '', '    app: sel\n'), 'sel-b');
    await apply(podYaml('keep', '', '    app: keep\n'), 'keep');
    expect(await c.kumo(['delete', 'pods', '-l', 'app=sel'])).toEqual({
      code: 0,
      stdout: 'pod "sel-a" deleted from default namespace\npod "sel-b" deleted from default namespace\n',
      stderr: '',
    });
    expect(await exists('keep')).toBe(true);
    expect(await c.kumo(['delete', 'pods', '-l', 'app=sel'])).toEqual({ code: 0, stdout: 'No resources found\n', stderr: '' });
    expect(await c.kumo(['delete', 'pods'])).toEqual({ code: 1, stdout: '', stderr: 'error: resource(s) were provided, but no name was specified\n' });
    const all = await c.kumo(['delete', 'pods', '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('pod "keep" deleted from default namespace\n');
    expect((await c.cluster.client.list(PODS, 'default')).items).toEqual([]);
  });

  describe('graceful deletion of a pod a node runs', () => {
    // A pod with a node gets a grace period: the DELETE only marks it, and its kubelet removes it later.
    const onNode = (name: string) => podYaml(name, '  nodeName: node-1\n');
    const terminating = async (name: string) => Boolean((await c.cluster.client.find(PODS, 'default', name))?.metadata.deletionTimestamp);
    const kubeletFinishes = (name: string) => c.cluster.client.delete(PODS, 'default', name, { gracePeriodSeconds: 0 });

    it('waits until the pod is gone', async () => {
      await apply(onNode('graceful'), 'graceful');
      let done = false;
      const pending = c.kumo(['delete', 'pod', 'graceful']).finally(() => (done = true));
      await until(() => terminating('graceful'), 'the pod to be marked for deletion');
      expect(done).toBe(false);
      await kubeletFinishes('graceful');
      expect(await pending).toEqual({ code: 0, stdout: 'pod "graceful" deleted from default namespace\n', stderr: '' });
      expect(await exists('graceful')).toBe(false);
    });

    it('returns at once with --wait=false, leaving the pod terminating', async () => {
      await apply(onNode('nowait'), 'nowait');
      const res = await c.kumo(['delete', 'pod', 'nowait', '--wait=false', '--grace-period=30']);
      expect(res).toEqual({ code: 0, stdout: 'pod "nowait" deleted from default namespace\n', stderr: '' });
      expect(await terminating('nowait')).toBe(true);
      await kubeletFinishes('nowait');
    });

    it('gives up after --timeout', async () => {
      await apply(onNode('stuck'), 'stuck');
      const res = await c.kumo(['delete', 'pod', 'stuck', '--timeout=1s']);
      expect(res).toEqual({
        code: 1,
        stdout: 'pod "stuck" deleted from default namespace\n',
        stderr: 'error: timed out waiting for the condition on pods/stuck\n',
      });
      expect(await terminating('stuck')).toBe(true);
    });

    it("removes it immediately with --force, with kubectl's warning", async () => {
      const res = await c.kumo(['delete', 'pod', 'stuck', '--force']);
      expect(res).toEqual({
        code: 0,
        stdout: 'pod "stuck" force deleted from default namespace\n',
        stderr:
          'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n',
      });
      expect(await exists('stuck')).toBe(false);
    });

    it('--now asks for a one-second grace period', async () => {
      await apply(onNode('now'), 'now');
      const res = await c.kumo(['delete', 'pod', 'now', '--now', '--wait=false']);
      expect(res.code).toBe(0);
      expect((await c.cluster.client.get(PODS, 'default', 'now')).metadata.deletionGracePeriodSeconds).toBe(1);
      await kubeletFinishes('now');
    });
  });
});
