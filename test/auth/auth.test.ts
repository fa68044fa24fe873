/**
 * Token authentication and the authorizer on the API server in-process
 * (SQLite store), behind the same front (authentication, flow control) as
 * in the cloud, plus what needs a clock: record caching and revocation.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { ApiMetrics } from '#lib/apiserver/metrics';
import { FlowControl } from '#lib/apiserver/flow-control';
import { FlowGate } from '#lib/apiserver/flow-gate';
import type { RequestHandler } from '#lib/apiserver/lambda';
import { ApiServer } from '#lib/apiserver/server';
import { tokenAuth } from '#lib/auth/assembly';
import { podReferences } from '#lib/auth/authorizer';
import { ensureTokenNamespace } from '#lib/auth/bootstrap';
import { reconcileDefaultRbac } from '#lib/auth/rbac/reconcile';
import { TokenMac } from '#lib/auth/token-mac';
import { type Grant, issuedToken, mintToken, parseToken, recordOfSecret, staticRecord, TOKEN_NAMESPACE } from '#lib/auth/tokens';
import { InstrumentedStore } from '#lib/store/instrumented';
import { SqliteStore } from '#lib/store/sqlite';
import type { Store } from '#lib/store/types';
import { ManualClock } from '#lib/util/clock';
import { admissionFromEnv, stackPodSecurity } from '#lib/cloud/config';
import { type AuthTarget, authCases, type Wire } from './cases.js';
import { metricsCases } from './metrics-cases.js';
import { podSecurityCases } from './pod-security-cases.js';
import { reviewCases } from './review-cases.js';
import { serviceAccountCases } from './serviceaccount-cases.js';
import { ServiceAccountJwt } from '#lib/auth/serviceaccount/jwt';
import { derivedSigningKey } from '#lib/auth/serviceaccount/signing-key';
import { newKindRegistry } from '#lib/kinds/index';

const ADMIN_TOKEN = `admin.${'a'.repeat(48)}`;
const BOOTSTRAP_TOKEN = `bootstrap.${'b'.repeat(48)}`;
const SERVICE_ACCOUNT_SEED = randomBytes(48).toString('base64url');

async function server(clock?: ManualClock): Promise<{ api: RequestHandler; store: Store }> {
  // Wired as the API function wires it: the store's operations count into the server's metrics.
  const metrics = new ApiMetrics();
  const store = new InstrumentedStore(new SqliteStore({ path: ':memory:' }), metrics.registry, newKindRegistry());
  // As the API function wires it: the ServiceAccount key derived from its secret, the token cache counted on /metrics.
  const serviceAccountTokens = new ServiceAccountJwt({ key: derivedSigningKey(SERVICE_ACCOUNT_SEED) });
  const auth = tokenAuth(store, new TokenMac(randomBytes(32).toString('base64url')), {
    staticTokens: [staticRecord(ADMIN_TOKEN, { role: 'admin' }), staticRecord(BOOTSTRAP_TOKEN, { role: 'node-bootstrap' })],
    serviceAccounts: { jwt: serviceAccountTokens, registry: metrics.registry },
    ...(clock ? { clock } : {}),
  });
  // The cloud stack's admission settings, as its API function reads them.
  const admission = admissionFromEnv({ KUMO_POD_SECURITY: JSON.stringify(stackPodSecurity('admin')) });
  const api = new ApiServer({ ...auth, metrics, admission, serviceAccountTokens });
  await bootstrap(api.rest);
  await reconcileDefaultRbac(api.rest);
  await ensureTokenNamespace(api.rest);
  return { api: new FlowGate(api, auth.authenticator, new FlowControl(clock ? { clock } : {})), store };
}

function sender(api: RequestHandler): AuthTarget['send'] {
  return async (method, path, opts = {}) => {
    const [p, q] = path.split('?');
    const headers: Record<string, string> = { 'user-agent': 'auth-test/1', ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.header !== undefined) headers.authorization = opts.header;
    let body: Uint8Array | undefined;
    if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const res = await api.handle({ method, path: p!, query: new URLSearchParams(q ?? ''), headers, ...(body ? { body } : {}) });
    return { status: res.status, body: 'body' in res ? (res.body as Wire) : 'text' in res ? res.text : undefined };
  };
}

let shared: Awaited<ReturnType<typeof server>>;
beforeAll(async () => {
  shared = await server();
});
afterAll(async () => {
  await shared.store.close();
});

authCases('in-process, SQLite', () => ({ send: sender(shared.api), adminToken: ADMIN_TOKEN, bootstrapToken: BOOTSTRAP_TOKEN }));
metricsCases('in-process, SQLite', () => ({ send: sender(shared.api), adminToken: ADMIN_TOKEN, bootstrapToken: BOOTSTRAP_TOKEN }));
podSecurityCases('in-process, SQLite', () => ({ send: sender(shared.api), adminToken: ADMIN_TOKEN, bootstrapToken: BOOTSTRAP_TOKEN }));
reviewCases('in-process, SQLite', () => ({ send: sender(shared.api), adminToken: ADMIN_TOKEN, bootstrapToken: BOOTSTRAP_TOKEN }));
serviceAccountCases('in-process, SQLite', () => ({
  send: sender(shared.api),
  adminToken: ADMIN_TOKEN,
  bootstrapToken: BOOTSTRAP_TOKEN,
  serviceAccountKeySeed: SERVICE_ACCOUNT_SEED,
}));

describe('token records', () => {
  it('stores only the hash of the secret', () => {
    const minted = mintToken({ role: 'view', namespace: 'team' });
    const secretPart = parseToken(minted.token)!.secret;
    expect(JSON.stringify(minted.secret)).not.toContain(secretPart);
    expect(JSON.stringify(minted.secret)).not.toContain(Buffer.from(secretPart).toString('base64'));
    expect(recordOfSecret(minted.secret)).toMatchObject({ id: minted.id, grant: { role: 'view', namespace: 'team' } });
    expect(minted.secret.metadata).toMatchObject({ namespace: TOKEN_NAMESPACE, name: `kumo-token-${minted.id}` });
  });

  it('names node tokens after their node, so a node has one', () => {
    expect(mintToken({ role: 'node', node: 'ip-10-0-1-5.ec2.internal' }).token).toMatch(/^node-ip-10-0-1-5\.ec2\.internal\.[A-Za-z0-9_-]{43}$/);
    expect(parseToken(mintToken({ role: 'node', node: 'i-0abc.x' }).token)?.id).toBe('node-i-0abc.x');
  });

  it('refuses grants that make no sense', () => {
    expect(() => mintToken({ role: 'node' })).toThrow();
    expect(() => mintToken({ role: 'node', node: 'a', namespace: 'b' })).toThrow();
    expect(() => mintToken({ role: 'admin', expiresAt: 'tomorrow' })).toThrow();
  });

  it('finds the secrets and config maps a pod refers to', () => {
    const refs = podReferences({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        volumes: [
          { name: 'a', secret: { secretName: 's1' } },
          { name: 'b', configMap: { name: 'c1' } },
          { name: 'c', projected: { sources: [{ secret: { name: 's2' } }, { configMap: { name: 'c2' } }] } },
        ],
        containers: [{ name: 'x', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 's3', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'c3' } }] }],
        initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 's4' } }] }],
        imagePullSecrets: [{ name: 's5' }],
      },
    });
    expect([...refs.secrets].sort()).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect([...refs.configMaps].sort()).toEqual(['c1', 'c2', 'c3']);
  });
});

/** Stores a token record through the admin token; returns the token as `kumo token create` prints it. */
async function issue(send: AuthTarget['send'], grant: Grant): Promise<{ token: string; name: string }> {
  const minted = mintToken(grant);
  const created = await send('POST', `/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets`, { token: ADMIN_TOKEN, body: minted.secret });
  expect(created.status).toBe(201);
  return { token: issuedToken(minted, created.body), name: minted.secret.metadata.name! };
}

describe('token lookups over time', () => {
  it('stops accepting a revoked token once its cached record is older than the cache interval', async () => {
    const clock = new ManualClock(Date.now());
    const { api, store } = await server(clock);
    const send = sender(api);
    const { token, name } = await issue(send, { role: 'view' });
    expect((await send('GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(200);
    expect((await send('DELETE', `/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets/${name}`, { token: ADMIN_TOKEN })).status).toBe(200);
    // Within the cache interval a warm server still knows the record; after it, the token is gone.
    expect((await send('GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(200);
    clock.advance(10_001);
    expect((await send('GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(401);
    await store.close();
  });

  it('refuses a token from the moment it expires', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const { api, store } = await server(clock);
    const send = sender(api);
    const { token } = await issue(send, { role: 'view', expiresAt: '2026-01-01T01:00:00Z' });
    expect((await send('GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(200);
    clock.advance(3_600_000);
    expect((await send('GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(401);
    await store.close();
  });
});
