/**
 * Who may read `GET /metrics`, and that it shows what the server counted:
 * run against the API server in-process (test/auth) and against the bundled
 * API function on the emulator (test/cloud), like cases.ts. kube-apiserver
 * authorizes it as a non-resource URL: cluster admins and cluster-wide
 * viewers (kumo's `view` role) may get it; a namespaced token may not, as a
 * RoleBinding cannot grant a non-resource URL.
 */
import { describe, expect, it } from 'vitest';
import { issuedToken, mintToken, type Grant } from '#lib/auth/tokens';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import type { AuthTarget, Wire } from './cases.js';

export function metricsCases(label: string, target: () => AuthTarget): void {
  /** A token for `grant`, its record stored through the admin token; with the user name it authenticates as. */
  async function tokenFor(grant: Grant): Promise<{ token: string; user: string }> {
    const minted = mintToken(grant);
    const stored = await target().send('POST', '/api/v1/namespaces/kumo-system/secrets', { token: target().adminToken, body: minted.secret });
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    return { token: issuedToken(minted, stored.body), user: grant.role === 'node' ? `system:node:${grant.node}` : `kumo:token:${minted.id}` };
  }

  function expectForbiddenPath(r: { status: number; body: Wire }, message: string): void {
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details: {}, code: 403 });
  }

  describe(`GET /metrics (${label})`, () => {
    it('shows cluster admins and cluster-wide viewers the requests and store reads this server counted', async () => {
      const { send, adminToken } = target();
      expect((await send('GET', '/api/v1/namespaces/default', { token: adminToken })).status).toBe(200);
      const viewer = await tokenFor({ role: 'view' });
      for (const token of [adminToken, viewer.token]) {
        const r = await send('GET', '/metrics', { token });
        expect(r.status).toBe(200);
        const e = parseExposition(r.body as string);
        expect(
          valueOf(e, 'apiserver_request_total', { verb: 'GET', group: '', version: 'v1', resource: 'namespaces', scope: 'resource', code: '200' }),
        ).toBeGreaterThanOrEqual(1);
        expect(valueOf(e, 'apiserver_request_total', { verb: 'POST', resource: 'secrets', scope: 'resource', code: '201' })).toBeGreaterThanOrEqual(1);
        // The viewer's token record was read from the store: a get of a Secret.
        expect(valueOf(e, 'etcd_requests_total', { operation: 'get', group: '', resource: 'secrets' })).toBeGreaterThanOrEqual(1);
      }
    });

    it("refuses namespaced tokens, nodes, the bootstrap token and any verb but get, with kube-apiserver's wording (403)", async () => {
      const { send, bootstrapToken } = target();
      const ns = 'metrics-team';
      for (const grant of [
        { role: 'view', namespace: ns },
        { role: 'admin', namespace: ns },
      ] as const) {
        const { token, user } = await tokenFor(grant);
        expectForbiddenPath(await send('GET', '/metrics', { token }), `forbidden: User "${user}" cannot get path "/metrics"`);
      }
      const node = await tokenFor({ role: 'node', node: 'metrics-node' });
      expectForbiddenPath(
        await send('GET', '/metrics', { token: node.token }),
        `forbidden: User "${node.user}" cannot get path "/metrics": node "metrics-node" may not get path "/metrics"`,
      );
      const bootstrap = await send('GET', '/metrics', { token: bootstrapToken });
      expect(bootstrap.status).toBe(403);
      expect(bootstrap.body.message).toMatch(
        /^forbidden: User "system:bootstrap:[^"]+" cannot get path "\/metrics": a node bootstrap token may only enroll a node$/,
      );
      const viewer = await tokenFor({ role: 'view' });
      expectForbiddenPath(await send('POST', '/metrics', { token: viewer.token, body: {} }), `forbidden: User "${viewer.user}" cannot post path "/metrics"`);
    });

    it('refuses a request without a valid token (401)', async () => {
      for (const token of [undefined, 'not-a-token']) {
        const r = await target().send('GET', '/metrics', token === undefined ? {} : { token });
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
      }
    });
  });
}
