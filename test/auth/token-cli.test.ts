/**
 * `kumo token` and `kumo kubeconfig --url` against an API server that
 * requires tokens (over HTTP, on the SQLite store): what the commands print,
 * what the tokens they make can do, and one plain error line for bad input.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { createApiHttpServer } from '#lib/apiserver/http';
import { ApiServer } from '#lib/apiserver/server';
import { tokenAuth } from '#lib/auth/assembly';
import { ensureTokenNamespace } from '#lib/auth/bootstrap';
import { reconcileDefaultRbac } from '#lib/auth/rbac/reconcile';
import { TokenMac } from '#lib/auth/token-mac';
import { mintToken, staticRecord, TOKEN_NAMESPACE } from '#lib/auth/tokens';
import { memoryIO } from '#lib/cli/io';
import { main } from '#lib/cli/main';
import { SqliteStore } from '#lib/store/sqlite';

const ADMIN = `admin.${'A1'.repeat(24)}`;
const BOOTSTRAP = `bootstrap.${'B2'.repeat(24)}`;

let http: Server;
let url = '';
let store: SqliteStore;
const scratch = mkdtempSync(join(tmpdir(), 'kumo-token-cli-'));
const kubeconfig = join(scratch, 'config');

async function kumo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO('', { ...process.env, KUBECONFIG: kubeconfig });
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** Sends a JSON body with the admin token; returns the status. */
async function admin(method: string, path: string, body: unknown): Promise<number> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r.status;
}

async function get(path: string, token: string): Promise<number> {
  return (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
}

beforeAll(async () => {
  store = new SqliteStore({ path: ':memory:' });
  const api = new ApiServer(
    tokenAuth(store, new TokenMac(randomBytes(32).toString('base64url')), {
      staticTokens: [staticRecord(ADMIN, { role: 'admin' }), staticRecord(BOOTSTRAP, { role: 'node-bootstrap' })],
      cacheMs: 0,
    }),
  );
  await bootstrap(api.rest);
  await reconcileDefaultRbac(api.rest);
  await ensureTokenNamespace(api.rest);
  http = createApiHttpServer(api);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await store.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('kumo kubeconfig --url', () => {
  it('writes a context with the server and token and makes it current', async () => {
    const r = await kumo('kubeconfig', '--url', `${url}/`, '--token', ADMIN, '--name', 'cloud');
    expect(r).toEqual({ code: 0, stdout: `kubeconfig context "cloud" for ${url} written to ${kubeconfig} (current context)\n`, stderr: '' });
    const cfg = parse(readFileSync(kubeconfig, 'utf8'));
    expect(cfg['current-context']).toBe('cloud');
    expect(cfg.users.find((u: { name: string }) => u.name === 'cloud').user.token).toBe(ADMIN);
    expect((await kumo('get', 'namespaces')).stdout).toMatch(/^kumo-system\s+Active/m);
  });

  it('refuses incomplete flags with one line', async () => {
    expect(await kumo('kubeconfig', '--url', url)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --url needs --token (create one with `kumo token create`)\n',
    });
    expect(await kumo('kubeconfig')).toEqual({ code: 1, stdout: '', stderr: 'error: give one of --stack NAME or --url URL\n' });
    expect((await kumo('kubeconfig', '--url', 'ftp://x', '--token', 't')).stderr).toBe('error: invalid --url "ftp://x": must be http(s)\n');
  });
});

describe('kumo token', () => {
  it('creates a view token that reads but cannot write, and prints it once', async () => {
    const r = await kumo('token', 'create', '--role', 'view', '--description', 'dashboards');
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^[a-z0-9]{8}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    expect(r.stderr).toBe(`token ${token.split('.')[0]} created (role view)\n`);
    expect(await get('/api/v1/namespaces/default/pods', token)).toBe(200);
    const write = await fetch(`${url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }),
    });
    expect(write.status).toBe(403);
  });

  it('lists token records, namespaced and expiring ones included, and revokes them with their bindings', async () => {
    // A namespaced token's RoleBinding needs its namespace: without it nothing is created.
    const missing = await kumo('token', 'create', '--role', 'admin', '--namespace', 'team');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/namespaces "team" not found/);
    const before = (await kumo('token', 'list')).stdout;
    expect(await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } })).toBe(201);
    const created = await kumo('token', 'create', '--role', 'admin', '--namespace', 'team', '--ttl', '2h');
    const id = created.stdout.trim().split('.')[0]!;
    expect(created.stderr).toMatch(new RegExp(`^token ${id} created \\(role admin, namespace team, expires \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\\n$`));
    const list = await kumo('token', 'list');
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+ROLE\s+NAMESPACE\s+NODE\s+EXPIRES\s+DESCRIPTION$/);
    expect(lines.find((l) => l.startsWith(id))).toMatch(new RegExp(`^${id}\\s+admin\\s+team\\s+\\d{4}-`));
    expect(lines.some((l) => /\sview\s+<all>\s+<never>\s+dashboards$/.test(l))).toBe(true);
    expect(list.stdout).not.toMatch(/[A-Za-z0-9_-]{43}/);
    expect(lines.length).toBe(before.trim().split('\n').length + 1);
    // Its access is a RoleBinding to admin in team, for its user.
    const bindingPath = `/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings/kumo-token-${id}`;
    const binding = await (await fetch(`${url}${bindingPath}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
    expect(binding).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', name: `kumo:token:${id}` }],
      metadata: { labels: { 'kumo.dev/token-id': id } },
    });
    expect(await get('/api/v1/namespaces/team/configmaps', created.stdout.trim())).toBe(200);
    expect(await get('/api/v1/namespaces/default/configmaps', created.stdout.trim())).toBe(403);

    expect(await kumo('token', 'revoke', id)).toEqual({ code: 0, stdout: `token ${id} revoked\n`, stderr: '' });
    expect(await get(bindingPath, ADMIN)).toBe(404);
    expect((await kumo('token', 'list')).stdout).not.toContain(id);
    expect(await kumo('token', 'revoke', id)).toEqual({ code: 1, stdout: '', stderr: `error: token ${id} not found\n` });
  });

  it('creates a token for a named user with no binding, which RBAC objects then authorize', async () => {
    const r = await kumo('token', 'create', '--user', 'jane', '--group', 'qa', '--group', 'dev');
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(r.stderr).toBe(`token ${token.split('.')[0]} created (user jane, groups qa,dev)\n`);
    expect(await get('/api/v1/namespaces/default/pods', token)).toBe(403);
    // Discovery, as for anyone authenticated.
    expect(await get('/api', token)).toBe(200);
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    expect(
      await admin('POST', `${rbac}/namespaces/default/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'qa-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'qa' }],
      }),
    ).toBe(201);
    expect(await get('/api/v1/namespaces/default/pods', token)).toBe(200);
    expect(await get('/api/v1/namespaces/kube-system/pods', token)).toBe(403);
    expect((await kumo('token', 'list')).stdout).toMatch(new RegExp(`^${token.split('.')[0]}\\s+user jane\\s+<all>`, 'm'));
  });

  it('gives a node one token', async () => {
    const first = await kumo('token', 'create', '--role', 'node', '--node', 'worker-1');
    expect(first.stdout).toMatch(/^node-worker-1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}\n$/);
    expect(await kumo('token', 'create', '--role', 'node', '--node', 'worker-1')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: node worker-1 already has a token: revoke node-worker-1 first\n',
    });
  });

  it('refuses bad flags with one line and creates nothing', async () => {
    const before = (await kumo('token', 'list')).stdout;
    for (const [args, message] of [
      [['--role', 'root'], 'error: invalid --role "root": admin, view or node\n'],
      [['--role', 'node-bootstrap'], 'error: invalid --role "node-bootstrap": admin, view or node\n'],
      [['--role', 'node'], 'error: a node token needs --node NAME\n'],
      [['--role', 'view', '--node', 'n'], 'error: --node is only for --role node\n'],
      [['--role', 'view', '--ttl', '5x'], 'error: invalid duration "5x": use a number with s, m, h or d (e.g. 24h)\n'],
      [['--role', 'admin', '--namespace', 'kumo-system'], 'error: a token confined to kumo-system can do nothing there: only cluster admins may\n'],
      [[], 'error: give --role ROLE, or --user NAME for a token RBAC alone authorizes\n'],
      [['--role', 'view', '--user', 'x'], 'error: give --role or --user, not both\n'],
      [['--group', 'g'], 'error: --group needs --user NAME\n'],
      [['--user', 'system:kube-scheduler'], 'error: invalid --user "system:kube-scheduler": names starting with system: are reserved for the cluster\n'],
      [['--user', 'x', '--group', 'system:masters'], 'error: a --user token may not join system:masters: use --role admin\n'],
    ] as const) {
      expect(await kumo('token', 'create', ...args)).toEqual({ code: 1, stdout: '', stderr: message });
    }
    expect((await kumo('token', 'list')).stdout).toBe(before);
  });

  it('enrolls a node with the bootstrap token once, then reuses the token it kept', async () => {
    const file = join(scratch, 'node', 'token');
    const args = ['token', 'enroll', '--server', url, '--node-name', 'edge-1', '--token-file', file];
    const first = await kumo(...args, '--bootstrap-token', BOOTSTRAP);
    expect(first).toEqual({ code: 0, stdout: `node edge-1 enrolled: token written to ${file}\n`, stderr: '' });
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^node-edge-1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    expect(await get('/api/v1/namespaces/default/pods', token)).toBe(200);
    expect(await kumo(...args)).toEqual({ code: 0, stdout: `node edge-1: using the token in ${file}\n`, stderr: '' });
    // Another host claiming the same node name gets nothing.
    const other = join(scratch, 'other', 'token');
    const again = await kumo('token', 'enroll', '--server', url, '--node-name', 'edge-1', '--token-file', other, '--bootstrap-token', BOOTSTRAP);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: node edge-1 is already enrolled/);
    expect(existsSync(other)).toBe(false);
    // A revoked token is reported as such, not silently replaced.
    await kumo('token', 'revoke', 'node-edge-1');
    const stale = await kumo(...args);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error: the token in .* is no longer accepted \(revoked\?\)/);
  });

  it('keeps a token recorded before MACs existed working, and lists and revokes it like any other', async () => {
    // A record as an older kumo stored it: straight into the store, with no MAC; its holder has `<id>.<secret>`.
    // (The server reads which records have no MAC when the first MAC-less token comes: this one.)
    const old = mintToken({ role: 'view', description: 'from before MACs' });
    const name = old.secret.metadata.name!;
    await store.create(
      { resource: 'secrets', namespace: TOKEN_NAMESPACE, name },
      { ...old.secret, metadata: { ...old.secret.metadata, uid: 'u-old', creationTimestamp: '2025-01-01T00:00:00Z' } },
    );
    expect(await get('/api/v1/namespaces/default/pods', old.token)).toBe(200);
    // Relabelling the record (an update that keeps the hash) leaves it without a MAC: the token still works.
    const relabel = await fetch(`${url}/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets/${name}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { team: 'a' } } }),
    });
    expect(relabel.status).toBe(200);
    expect(((await relabel.json()) as { data: Record<string, string> }).data.tokenMac).toBeUndefined();
    expect(await get('/api/v1/namespaces/default/pods', old.token)).toBe(200);
    // A made-up id in the same form is refused.
    expect(await get('/api/v1/namespaces/default/pods', `${old.id}x.${old.token.split('.')[1]}`)).toBe(401);
    expect((await kumo('token', 'list')).stdout).toMatch(new RegExp(`^${old.id}\\s+view\\s+<all>\\s+<never>\\s+from before MACs$`, 'm'));
    expect(await kumo('token', 'revoke', old.id)).toEqual({ code: 0, stdout: `token ${old.id} revoked\n`, stderr: '' });
    expect(await get('/api/v1/namespaces/default/pods', old.token)).toBe(401);
  });
});
