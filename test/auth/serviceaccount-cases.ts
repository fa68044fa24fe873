/**
 * ServiceAccount tokens through the API, written once and run against the
 * API server in-process (test/auth) and against the bundled API function on
 * the emulator with its key from Secrets Manager (test/cloud), like
 * cases.ts: TokenRequest and its refusals, a token authenticating as its
 * ServiceAccount (403 from the authorizer, never 401), a bound pod's
 * deletion voiding its tokens, and expired, forged and wrong-audience
 * tokens refused with 401.
 */
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { derivedSigningKey } from '#lib/auth/serviceaccount/signing-key';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import type { AuthTarget, Wire } from './cases.js';

export interface ServiceAccountTarget extends AuthTarget {
  /** What the server's signing key is derived from (its Secrets Manager string). */
  serviceAccountKeySeed: string;
}

const ISSUER = 'https://kubernetes.default.svc.cluster.local';

export function serviceAccountCases(label: string, target: () => ServiceAccountTarget): void {
  const t = () => target();
  const ns = `sa-${Date.now().toString(36)}`;

  async function ok(method: string, path: string, body?: unknown): Promise<Wire> {
    const r = await t().send(method, path, { token: t().adminToken, body });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  const tokenPath = (sa: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`;
  const request = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });

  async function serviceAccount(name: string): Promise<Wire> {
    return ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  }

  async function pod(name: string, sa: string): Promise<Wire> {
    return ok('POST', `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { serviceAccountName: sa, containers: [{ name: 'c', image: 'busybox' }] },
    });
  }

  async function token(sa: string, spec: Record<string, unknown> = {}): Promise<string> {
    return (await ok('POST', tokenPath(sa), request(spec))).status.token as string;
  }

  /** A read as `bearer`: the authorizer answers (403) when the token authenticated, 401 when it did not. */
  const readAs = (bearer: string) => t().send('GET', `/api/v1/namespaces/${ns}/serviceaccounts/robot`, { token: bearer });

  function expectAuthenticatedAs(r: { status: number; body: Wire }, user: string): void {
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body.message).toContain(`User "${user}" cannot get resource "serviceaccounts" in API group "" in the namespace "${ns}"`);
  }

  function expectUnauthorized(r: { status: number; body: Wire }): void {
    expect(r.status, JSON.stringify(r.body)).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  }

  describe(`ServiceAccount tokens (${label})`, () => {
    it('issues a TokenRequest whose token verifies with the public JWKS and authenticates as the ServiceAccount', async () => {
      await ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const sa = await serviceAccount('robot');
      const r = await t().send('POST', tokenPath('robot'), { token: t().adminToken, body: request() });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name: 'robot', namespace: ns },
        spec: { audiences: [ISSUER], expirationSeconds: 3600 },
        status: { token: expect.any(String), expirationTimestamp: expect.any(String) },
      });
      // Public, as kube's service-account-issuer-discovery: no credentials needed.
      const jwks = await t().send('GET', '/openid/v1/jwks');
      expect(jwks.status).toBe(200);
      const { payload } = await jwtVerify(r.body.status.token, createLocalJWKSet(jwks.body), { issuer: ISSUER, audience: ISSUER });
      expect(payload).toMatchObject({
        sub: `system:serviceaccount:${ns}:robot`,
        'kubernetes.io': { namespace: ns, serviceaccount: { name: 'robot', uid: sa.metadata.uid } },
      });
      expect(Date.parse(r.body.status.expirationTimestamp) / 1000).toBe(payload.exp);

      expectAuthenticatedAs(await readAs(r.body.status.token), `system:serviceaccount:${ns}:robot`);
      const metrics = parseExposition((await t().send('GET', '/metrics', { token: t().adminToken })).body as string);
      expect(valueOf(metrics, 'authentication_token_cache_request_total', { status: 'miss' })).toBeGreaterThanOrEqual(1);
    });

    it('refuses bad TokenRequests with kube Status errors and stores nothing', async () => {
      const short = await t().send('POST', tokenPath('robot'), { token: t().adminToken, body: request({ expirationSeconds: 599 }) });
      expect(short.status).toBe(422);
      expect(short.body.message).toBe(
        'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
      );
      const missing = await t().send('POST', tokenPath('nobody'), { token: t().adminToken, body: request() });
      expect([missing.status, missing.body.message]).toEqual([404, 'serviceaccounts "nobody" not found']);
      const noPod = await t().send('POST', tokenPath('robot'), {
        token: t().adminToken,
        body: request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'absent' } }),
      });
      expect([noPod.status, noPod.body.message]).toEqual([404, 'pods "absent" not found']);
      const node = await t().send('POST', tokenPath('robot'), {
        token: t().adminToken,
        body: request({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } }),
      });
      expect([node.status, node.body.message]).toEqual([400, 'cannot bind token to object of type /v1, Kind=ConfigMap']);
      const list = await ok('GET', `/api/v1/namespaces/${ns}/serviceaccounts`);
      expect(list.items.map((s: Wire) => s.metadata.name)).toEqual(['robot']);
    });

    it('voids a token bound to a pod once the pod is deleted (401)', async () => {
      await pod('worker', 'robot');
      const bound = { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker' } };
      const used = await token('robot', bound);
      const unused = await token('robot', bound);
      expectAuthenticatedAs(await readAs(used), `system:serviceaccount:${ns}:robot`);
      await ok('DELETE', `/api/v1/namespaces/${ns}/pods/worker`);
      // A token not seen before the deletion is checked against the store at once; one seen is within the cache's bound (docs/serviceaccounts.md).
      expectUnauthorized(await readAs(unused));
    });

    it('refuses expired, forged and wrong-audience tokens (401)', async () => {
      const good = await token('robot');
      const [header, payload, signature] = good.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: `system:serviceaccount:${ns}:admin` })).toString('base64url');
      expectUnauthorized(await readAs(`${header}.${forged}.${signature}`));
      expectUnauthorized(await readAs(await token('robot', { audiences: ['vault'] })));
      // Signed with the server's own key (derived from its secret), expired an hour ago.
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({ 'kubernetes.io': claims['kubernetes.io'] })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(ISSUER)
        .setSubject(claims.sub as string)
        .setAudience(ISSUER)
        .setIssuedAt(now - 7200)
        .setExpirationTime(now - 3600)
        .sign(derivedSigningKey(t().serviceAccountKeySeed).privateKey);
      expectUnauthorized(await readAs(expired));
      // The same claims unexpired are accepted: what failed was the time alone.
      const fresh = await new SignJWT({ 'kubernetes.io': claims['kubernetes.io'] })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(ISSUER)
        .setSubject(claims.sub as string)
        .setAudience(ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(derivedSigningKey(t().serviceAccountKeySeed).privateKey);
      expectAuthenticatedAs(await readAs(fresh), `system:serviceaccount:${ns}:robot`);
    });
  });
}
