/**
 * `kubectl auth whoami`, `kubectl auth can-i` (with `--list` and `--as`),
 * TokenReviews created from YAML, and client-node creating a
 * SubjectAccessReview: the real kubectl v1.35 and client-node over HTTPS,
 * against kumo's token authentication and authorizer (as the cloud wires
 * them) and against `kumo up`, which authorizes nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectlPath } from '../helpers/kubectl.js';
import { kubeconfigFor, kubectlSuite, rows, run, type RunResult } from './harness.js';
import { startTokenServer, type TokenServer } from './token-server.js';
import { startApi, type TestApi } from '../apiserver/harness.js';

const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

type Kubectl = (args: string[], stdin?: string) => Promise<RunResult>;

/** kubectl for `server` (its own kubeconfig, HOME and cache in `dir`), as `token` when given. */
async function kubectlAt(dir: string, server: string, opts: { caData?: string; token?: string } = {}): Promise<Kubectl> {
  mkdirSync(join(dir, 'home'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor(server, opts));
  const env = { PATH: process.env.PATH, KUBECONFIG: kubeconfig, HOME: join(dir, 'home'), KUBECTL_KUBERC: 'false' };
  const binary = await kubectlPath();
  return (args, stdin = '') => run(binary, ['--cache-dir', join(dir, 'cache'), ...args], env, stdin, 30_000);
}

describe('kubectl auth and access reviews on token authorization', () => {
  let server: TokenServer;
  let dir: string;
  let view: string;
  let kubectl: Kubectl;

  beforeAll(async () => {
    server = await startTokenServer();
    dir = mkdtempSync(join(tmpdir(), 'kumo-kubectl-auth-'));
    kubectl = await kubectlAt(dir, server.url, { caData: server.caData, token: server.adminToken });
    view = await server.token({ role: 'view' });
  });
  afterAll(async () => {
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl auth whoami shows the token user, as a table and as YAML', async () => {
    const table = await kubectl(['auth', 'whoami']);
    expect(table.code, table.stderr).toBe(0);
    expect(rows(table.stdout)).toEqual([
      ['ATTRIBUTE', 'VALUE'],
      ['Username', 'kumo:token:admin'],
      ['Groups', '[system:masters system:authenticated]'],
      ['Extra: kumo.dev/token-id', '[admin]'],
    ]);
    const yaml = await kubectl(['auth', 'whoami', '-o', 'yaml', '--token', view]);
    expect(yaml.code, yaml.stderr).toBe(0);
    const review = parse(yaml.stdout);
    expect(review).toMatchObject({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(review.status.userInfo).toMatchObject({ username: `kumo:token:${view.split('.')[0]}`, extra: { 'kumo.dev/token-id': [view.split('.')[0]] } });
    expect(review.status.userInfo.groups).toContain('system:authenticated');
  });

  it('kubectl auth can-i answers by the authorizer: yes, or no (with its reason when it gives one)', async () => {
    const create = await kubectl(['auth', 'can-i', 'create', 'pods', '--token', view]);
    expect(create).toMatchObject({ code: 1, stdout: expect.stringMatching(/^no( - .+)?\n$/) });
    expect(await kubectl(['auth', 'can-i', 'get', 'pods', '--token', view])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectl(['auth', 'can-i', 'get', 'secrets', '--token', view])).toMatchObject({ code: 1, stdout: expect.stringMatching(/^no( - .+)?\n$/) });
    expect(await kubectl(['auth', 'can-i', 'create', 'pods'])).toMatchObject({ code: 0, stdout: 'yes\n' });
  });

  it('kubectl auth can-i --list prints the rules the authorizer lists', async () => {
    const list = await kubectl(['auth', 'can-i', '--list', '--token', view]);
    expect(list.code, list.stderr).toBe(0);
    expect(rows(list.stdout)[0]).toEqual(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
  });

  it('kubectl --as impersonates a ServiceAccount or a user with groups for a cluster admin, and is refused to a viewer', async () => {
    const sa = ['--as=system:serviceaccount:ns:sa'];
    expect(await kubectl(['auth', 'can-i', 'list', 'secrets', ...sa])).toMatchObject({ code: 1, stdout: expect.stringMatching(/^no( - .+)?\n$/) });
    const who = await kubectl(['auth', 'whoami', ...sa]);
    expect(rows(who.stdout)).toEqual([
      ['ATTRIBUTE', 'VALUE'],
      ['Username', 'system:serviceaccount:ns:sa'],
      ['Groups', '[system:serviceaccounts system:serviceaccounts:ns system:authenticated]'],
    ]);
    const jane = ['--as=jane', '--as-group=kumo:viewers', '--as-group=devs'];
    expect(rows((await kubectl(['auth', 'whoami', ...jane])).stdout)[2]).toEqual(['Groups', '[kumo:viewers devs system:authenticated]']);
    expect(await kubectl(['auth', 'can-i', 'list', 'pods', ...jane])).toMatchObject({ code: 0, stdout: 'yes\n' });
    const refused = await kubectl(['auth', 'can-i', 'list', 'secrets', ...sa, '--token', view]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(
      new RegExp(
        `^Error from server \\(Forbidden\\): serviceaccounts "sa" is forbidden: User "kumo:token:${view.split('.')[0]}" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns"`,
      ),
    );
  });

  it('kubectl create -f tokenreview.yaml -o yaml reviews a valid, a forged and an expired token', async () => {
    const review = async (token: string) => {
      const r = await kubectl(['create', '-f', '-', '-o', 'yaml'], `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${token}\n`);
      expect(r.code, r.stderr).toBe(0);
      return parse(r.stdout);
    };
    const valid = await review(view);
    expect(valid).toMatchObject({ kind: 'TokenReview', spec: { token: view } });
    expect(valid.status).toMatchObject({ authenticated: true, audiences: [API_AUDIENCE], user: { username: `kumo:token:${view.split('.')[0]}` } });
    const [id, secret, mac] = view.split('.') as [string, string, string];
    expect((await review(`${id}.${secret}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`)).status).toEqual({});
    const expired = await server.token({ role: 'view', expiresAt: '2020-01-01T00:00:00Z' });
    expect((await review(expired)).status).toEqual({});
    // Nothing was stored: the kind serves no read.
    const get = await kubectl(['get', 'tokenreviews']);
    expect(get).toMatchObject({ code: 1, stderr: 'Error from server (MethodNotAllowed): the server does not allow this method on the requested resource\n' });
    const invalid = await kubectl(['create', '-f', '-'], 'apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec: {}\n');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('spec.user: Invalid value: "": at least one of user or group must be specified');
  });

  it('client-node creates a SubjectAccessReview and a SelfSubjectAccessReview', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'kumo', server: server.url, caData: server.caData, skipTLSVerify: false }],
      users: [{ name: 'kumo', token: server.adminToken }],
      contexts: [{ name: 'kumo', cluster: 'kumo', user: 'kumo' }],
      currentContext: 'kumo',
    });
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const read = await authz.createSubjectAccessReview({
      body: { spec: { user: 'jane', groups: ['kumo:viewers'], resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } } },
    });
    expect(read.status).toEqual({ allowed: true });
    const write = await authz.createSubjectAccessReview({
      body: {
        spec: { user: 'jane', groups: ['kumo:viewers'], resourceAttributes: { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'default' } },
      },
    });
    expect(write.status?.allowed).toBe(false);
    const self = await authz.createSelfSubjectAccessReview({ body: { spec: { nonResourceAttributes: { verb: 'get', path: '/metrics' } } } });
    expect(self.status?.allowed).toBe(true);
  });
});

describe('kubectl auth can-i --list with an authorizer that cannot list its rules', () => {
  let api: TestApi;
  let dir: string;
  let kubectl: Kubectl;

  beforeAll(async () => {
    api = await startApi({ authorizer: { authorize: async (_user, a) => (a.verb === 'delete' ? 'no deleting' : undefined) } });
    dir = mkdtempSync(join(tmpdir(), 'kumo-kubectl-rules-'));
    kubectl = await kubectlAt(dir, api.url);
  });
  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints no rules and warns that the list may be incomplete, saying why', async () => {
    const list = await kubectl(['auth', 'can-i', '--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(rows(list.stdout)).toEqual([['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']]);
    expect(list.stderr.trim()).toBe('Warning: the list may be incomplete: the authorizer does not support user rule resolution');
    expect(await kubectl(['auth', 'can-i', 'delete', 'pods'])).toMatchObject({ code: 1, stdout: 'no - no deleting\n' });
  });
});

describe('kubectl auth on kumo up (no authorizer: everything allowed, impersonation too)', () => {
  const k = kubectlSuite();

  it('whoami shows the admin, or whoever --as names; can-i --list lists every verb on everything', async () => {
    expect(rows(await k.ok(['auth', 'whoami']))).toEqual([
      ['ATTRIBUTE', 'VALUE'],
      ['Username', 'kumo-admin'],
      ['Groups', '[system:masters system:authenticated]'],
    ]);
    expect(rows(await k.ok(['auth', 'whoami', '--as=jane', '--as-group=devs']))).toEqual([
      ['ATTRIBUTE', 'VALUE'],
      ['Username', 'jane'],
      ['Groups', '[devs system:authenticated]'],
    ]);
    expect(rows(await k.ok(['auth', 'can-i', '--list']))).toEqual([
      ['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs'],
      ['*.*', '[]', '[]', '[*]'],
      // The non-resource row's first cell is empty (rows() drops the leading blank).
      ['[*]', '[]', '[*]'],
    ]);
    expect(await k.ok(['auth', 'can-i', 'delete', 'nodes', '--as=system:serviceaccount:ns:sa'])).toBe('yes\n');
  });

  it('deletes a namespace to the end: the namespace controller does not look for reviews in it', async () => {
    await k.ok(['create', 'namespace', 'reviewed']);
    await k.ok(['create', 'configmap', 'c', '-n', 'reviewed']);
    expect(await k.ok(['delete', 'namespace', 'reviewed', '--timeout=30s'])).toBe('namespace "reviewed" deleted\n');
    expect(await k.refused(['get', 'namespace', 'reviewed'])).toBe('Error from server (NotFound): namespaces "reviewed" not found');
  });
});
