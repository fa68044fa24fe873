/**
 * An API server with kumo's token authentication and authorizer (as the
 * cloud function wires them: lib/auth/assembly.ts) behind kumo up's HTTPS
 * front door, on an in-memory SQLite store: for the real kubectl and
 * client-node acting as tokens of different roles.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap } from '#lib/apiserver/bootstrap';
import { FlowControl } from '#lib/apiserver/flow-control';
import { FlowGate } from '#lib/apiserver/flow-gate';
import { createApiHttpServer } from '#lib/apiserver/http';
import { ApiServer } from '#lib/apiserver/server';
import { tokenAuth } from '#lib/auth/assembly';
import { ensureTokenNamespace } from '#lib/auth/bootstrap';
import { TokenMac } from '#lib/auth/token-mac';
import { type Grant, issuedToken, mintToken, staticRecord, TOKEN_NAMESPACE } from '#lib/auth/tokens';
import { localTls } from '#lib/local/tls';
import { silentLogger } from '#lib/log/logger';
import { SqliteStore } from '#lib/store/sqlite';
import { SECRETS } from '#lib/kinds/resources';
import { ADMIN } from '#lib/apiserver/server';
import { reconcileDefaultRbac } from '#lib/auth/rbac/reconcile';

export interface TokenServer {
  url: string;
  /** The CA certificate, PEM in base64 (kubeconfig's certificate-authority-data). */
  caData: string;
  adminToken: string;
  /** Stores a token record (as `kumo token create` does) and returns the bearer token. */
  token(grant: Grant): Promise<string>;
  /** The server itself, for setting up objects in process. */
  api: ApiServer;
  dispose(): Promise<void>;
}

export async function startTokenServer(): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-token-server-'));
  const adminToken = `admin.${randomBytes(24).toString('hex')}`;
  const store = new SqliteStore({ path: ':memory:' });
  const auth = tokenAuth(store, new TokenMac(randomBytes(32).toString('base64url')), { staticTokens: [staticRecord(adminToken, { role: 'admin' })] });
  const api = new ApiServer({ ...auth, logger: silentLogger });
  await bootstrap(api.rest);
  await reconcileDefaultRbac(api.rest);
  await ensureTokenNamespace(api.rest);
  const tls = localTls(dir, ['127.0.0.1', 'localhost']);
  const http = createApiHttpServer(new FlowGate(api, auth.authenticator, new FlowControl()), {
    tls: { key: tls.keyPem, cert: tls.certPem },
    logger: silentLogger,
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caData: Buffer.from(tls.caPem).toString('base64'),
    adminToken,
    api,
    async token(grant) {
      const minted = mintToken(grant);
      const stored = await api.rest.create(SECRETS, TOKEN_NAMESPACE, minted.secret, { user: ADMIN });
      return issuedToken(minted, stored);
    },
    async dispose() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
