/**
 * `kumo config` reads and edits kubeconfig files as kubectl does: the same
 * output for view (credentials redacted), contexts, and the same edits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#lib/cli/main';
import { memoryIO } from '#lib/cli/io';
import { kubectlPath } from '../helpers/kubectl.js';
import { run, type RunResult } from './harness.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: b
  cluster:
    server: http://127.0.0.1:1234
- name: a
  cluster:
    server: https://a.example:6443
    certificate-authority-data: QUJDREVGRw==
users:
- name: ua
  user:
    token: secret-token
- name: ub
  user:
    client-certificate-data: QUJD
    client-key-data: REVG
    username: admin
    password: hunter2
contexts:
- name: ctx-b
  context:
    cluster: b
    user: ub
- name: ctx-a
  context:
    cluster: a
    user: ua
    namespace: team
current-context: ctx-a
preferences: {}
`;

describe('kumo config', () => {
  let dir: string;
  let kubectl: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kumo-config-'));
    kubectl = await kubectlPath();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs one command on a fresh copy of the kubeconfig; returns the output and the file afterwards. */
  async function kumo(args: string[], name: string): Promise<RunResult & { file: string }> {
    const path = join(dir, `${name}.kumo`);
    writeFileSync(path, KUBECONFIG);
    const io = memoryIO('', { ...process.env, KUBECONFIG: path, HOME: dir });
    const code = await main(args, io);
    return { code, stdout: io.stdout, stderr: io.stderr, file: readFileSync(path, 'utf8') };
  }
  async function real(args: string[], name: string): Promise<RunResult & { file: string }> {
    const path = join(dir, `${name}.kubectl`);
    writeFileSync(path, KUBECONFIG);
    const res = await run(kubectl, args, { env: { ...process.env, KUBECONFIG: path, HOME: dir } });
    return { ...res, file: readFileSync(path, 'utf8') };
  }

  it('redacts tokens and passwords as REDACTED and key material as DATA+OMITTED', async () => {
    const res = await kumo(['config', 'view'], 'redact');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('    token: REDACTED\n');
    expect(res.stdout).toContain('    password: REDACTED\n');
    expect(res.stdout).toContain('    client-key-data: DATA+OMITTED\n');
    expect(res.stdout).toContain('    certificate-authority-data: DATA+OMITTED\n');
    expect(res.stdout).not.toContain('secret-token');
    expect(res.stdout).not.toContain('hunter2');
    expect((await kumo(['config', 'view', '--raw'], 'raw')).stdout).toContain('    token: secret-token\n');
  });

  const sameAsKubectl: string[][] = [
    ['config', 'view'],
    ['config', 'view', '--raw'],
    ['config', 'view', '--minify'],
    ['config', 'view', '-o', 'json'],
    ['--context', 'ctx-b', 'config', 'view', '--minify'],
    ['config', 'current-context'],
    ['config', 'get-contexts'],
    ['config', 'get-contexts', 'ctx-b'],
    ['config', 'get-contexts', 'nope'],
    ['config', 'get-contexts', '-o', 'name'],
    ['config', 'use-context', 'ctx-b'],
    ['config', 'use-context', 'nope'],
    ['config', 'set-context', '--current', '--namespace=dev'],
    ['config', 'set-context', 'new', '--cluster=a', '--user=ua'],
  ];
  sameAsKubectl.forEach((args, i) => {
    it(`prints and writes what kubectl does for \`${args.join(' ')}\``, async () => {
      const [mine, theirs] = await Promise.all([kumo(args, `case-${i}`), real(args, `case-${i}`)]);
      expect({ code: mine.code, stdout: mine.stdout, stderr: mine.stderr }).toEqual({ code: theirs.code, stdout: theirs.stdout, stderr: theirs.stderr });
      // Files are compared through kubectl's own view of them, which ignores formatting.
      const view = async (file: string) => (await run(kubectl, ['config', 'view', '--raw'], { env: { ...process.env, KUBECONFIG: file, HOME: dir } })).stdout;
      const kumoFile = join(dir, `after-${i}.kumo`);
      const kubectlFile = join(dir, `after-${i}.kubectl`);
      writeFileSync(kumoFile, mine.file);
      writeFileSync(kubectlFile, theirs.file);
      expect(await view(kumoFile)).toBe(await view(kubectlFile));
    });
  });

  it('lists clusters by name (kubectl prints them in map order)', async () => {
    expect(await kumo(['config', 'get-clusters'], 'clusters')).toMatchObject({ code: 0, stdout: 'NAME\na\nb\n', stderr: '' });
  });

  it('--kubeconfig overrides KUBECONFIG', async () => {
    const other = join(dir, 'other');
    writeFileSync(other, KUBECONFIG.replace('current-context: ctx-a', 'current-context: ctx-b'));
    const io = memoryIO('', { ...process.env, KUBECONFIG: join(dir, 'missing'), HOME: dir });
    expect(await main(['--kubeconfig', other, 'config', 'current-context'], io)).toBe(0);
    expect(io.stdout).toBe('ctx-b\n');
  });
});
