/**
 * The cost of authorization per request (issue 16): the same GET of one pod
 * through the HTTP API, with a kumo token whose user a RoleBinding lets read
 * pods (the RBAC authorizer decides) beside the admin token (system:masters,
 * allowed by the chain's first step), interleaved in one run on one server:
 * the API server in process on SQLite with the token authentication and
 * authorizer chain every server with tokens has (lib/auth/assembly.ts),
 * reached over HTTP like kubectl. Also the kumo token authenticator's cache
 * hit rate over the run, and how often the RBAC view was read from the
 * store (the steady state should read it once).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { createApiHttpServer } from '#lib/apiserver/http';
import { ApiServer } from '#lib/apiserver/server';
import { tokenAuth } from '#lib/auth/assembly';
import { ensureTokenNamespace } from '#lib/auth/bootstrap';
import { reconcileDefaultRbac } from '#lib/auth/rbac/reconcile';
import { TokenMac } from '#lib/auth/token-mac';
import { issuedToken, mintToken, staticRecord, TOKEN_NAMESPACE } from '#lib/auth/tokens';
import { PODS, ROLE_BINDINGS } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';
import { SqliteStore } from '#lib/store/sqlite';
import { summarize } from '../lib/stats.js';
import { type Ctx, figure, type Scenario } from '../lib/types.js';

const ADMIN_TOKEN = `admin.${randomBytes(36).toString('base64url')}`;

async function get(url: string, token: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return performance.now() - t0;
}

export const authz: Scenario = {
  name: 'authz',
  title: 'Authorization cost per request: an RBAC-bound token beside the admin token',
  estimate: { quick: '10s', full: '30s' },
  async run(ctx: Ctx) {
    const n = ctx.quick ? 500 : 3000;
    const store = new SqliteStore({ path: join(ctx.workDir, 'authz.db') });
    const auth = tokenAuth(store, new TokenMac(randomBytes(32).toString('base64url')), { staticTokens: [staticRecord(ADMIN_TOKEN, { role: 'admin' })] });
    const api = new ApiServer({ ...auth, logger: silentLogger });
    let http: Server | undefined;
    try {
      await bootstrap(api.rest);
      await reconcileDefaultRbac(api.rest);
      await ensureTokenNamespace(api.rest);
      await api.rest.create(PODS, 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'target' },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      });
      const minted = mintToken({ role: 'user', user: 'bench-reader' });
      const reader = issuedToken(
        minted,
        await auth.store.create({ resource: 'secrets', namespace: TOKEN_NAMESPACE, name: minted.secret.metadata.name! }, minted.secret),
      );
      await api.rest.create(ROLE_BINDINGS, 'default', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'bench-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bench-reader' }],
      });
      http = createApiHttpServer(api, { logger: silentLogger });
      await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/v1/namespaces/default/pods/target`;
      // Warm both paths (connections, caches), then interleave so both see the same machine.
      for (let i = 0; i < 20; i++) await Promise.all([get(url, ADMIN_TOKEN), get(url, reader)]);
      const loadsBefore = auth.rbac.loads;
      const statsBefore = { ...auth.tokens.cacheStats };
      const rbac: number[] = [];
      const admin: number[] = [];
      for (let i = 0; i < n; i++) {
        if (i % 2 === 0) {
          rbac.push(await get(url, reader));
          admin.push(await get(url, ADMIN_TOKEN));
        } else {
          admin.push(await get(url, ADMIN_TOKEN));
          rbac.push(await get(url, reader));
        }
      }
      const hits = auth.tokens.cacheStats.hits - statsBefore.hits;
      const misses = auth.tokens.cacheStats.misses - statsBefore.misses;
      const r = summarize(rbac);
      const a = summarize(admin);
      const loads = auth.rbac.loads - loadsBefore;
      ctx.log(`rbac p50 ${r.p50.toFixed(3)} ms, admin p50 ${a.p50.toFixed(3)} ms, token cache ${hits}/${hits + misses}, RBAC view loads ${loads}`);
      return {
        method:
          `${n} GETs of one pod with each token, interleaved, over HTTP to the API server in process on SQLite (token authentication and the authorizer chain as every server with tokens has them). ` +
          'The RBAC-bound token is a stored kumo token for a user a RoleBinding binds to `view`; the admin token is system:masters.',
        figures: [
          figure('authz.rbac.p50', `GET pod with an RBAC-bound token (median of ${n})`, r.p50, 'ms', {
            peer: { label: 'the same GET with the admin token, same run', value: a.p50, unit: 'ms', kind: 'peer' },
          }),
          figure('authz.admin.p50', `GET pod with the admin token (median of ${n})`, a.p50, 'ms'),
          figure(
            'authz.token-cache.hit-rate',
            'kumo token authenticator: lookups answered from its cache',
            hits + misses > 0 ? hits / (hits + misses) : null,
            'ratio',
            {
              note: `${hits} hits, ${misses} misses over the run (records are cached 10 s)`,
            },
          ),
        ],
        tables: [
          {
            title: 'GET one pod (ms)',
            columns: ['token', 'p50', 'p90', 'p99', 'mean'],
            rows: [
              ['RBAC-bound', r.p50, r.p90, r.p99, r.mean].map((v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v)),
              ['admin (system:masters)', a.p50, a.p90, a.p99, a.mean].map((v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v)),
            ],
          },
        ],
        charts: [],
        notes: [`The RBAC view was read from the store ${loads} time(s) during the measured requests (the view is kept until an RBAC write or 5 s pass).`],
        data: { rbac: r, admin: a, hits, misses, rbacLoads: loads },
      };
    } finally {
      if (http) {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http!.close(() => resolve()));
      }
      await store.close();
    }
  },
};
