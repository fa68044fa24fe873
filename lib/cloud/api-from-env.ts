/**
 * The API server's settings in the cloud, read from the function's
 * environment (the CDK stack sets them):
 *
 * - KUMO_TABLE / KUMO_SQLITE_PATH: the store (store-from-env.ts).
 * - KUMO_AUTH: `tokens` (bearer tokens, lib/auth) or `none`. Defaults to
 *   `tokens` whenever the store is DynamoDB, so a deployed API never runs
 *   open by omission; `none` only for running the function code locally.
 * - KUMO_ADMIN_TOKEN_SECRET_ARN: the deploy-time admin token (Secrets Manager).
 * - KUMO_BOOTSTRAP_TOKEN_SECRET_ARN: the node pool's bootstrap token.
 * - KUMO_AGENT_TOKEN_SECRET_ARN: the token agents accept for logs and exec;
 *   set when the API function can reach the agents (it runs in their VPC).
 * - the admission settings of config.ts.
 */
import { AgentConnector } from '../agent/connector.js';
import type { Node } from '../api/core/v1/node.js';
import type { KObject } from '../api/object.js';
import type { ApiServerOptions } from '../apiserver/server.js';
import { storeTokenLookup, TokenAuthenticator } from '../auth/authenticator.js';
import { KumoAuthorizer, storeReader } from '../auth/authorizer.js';
import { type Grant, staticRecord, type TokenRecord } from '../auth/tokens.js';
import type { Store } from '../store/types.js';
import { admissionFromEnv } from './config.js';

type Env = Readonly<Record<string, string | undefined>>;

export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

export function authModeFromEnv(env: Env = process.env): 'tokens' | 'none' {
  const mode = env.KUMO_AUTH ?? (env.KUMO_TABLE ? 'tokens' : 'none');
  if (mode !== 'tokens' && mode !== 'none') throw new AuthConfigError(`KUMO_AUTH must be "tokens" or "none", got "${mode}"`);
  return mode;
}

/** Secrets Manager's client is loaded only when a secret is configured. */
async function secretToken(arn: string): Promise<string> {
  const { readToken } = await import('./secrets.js');
  return readToken(arn);
}

async function staticTokens(env: Env): Promise<TokenRecord[]> {
  const out: TokenRecord[] = [];
  const sources: [string | undefined, Grant][] = [
    [env.KUMO_ADMIN_TOKEN_SECRET_ARN, { role: 'admin', description: 'deploy-time admin token' }],
    [env.KUMO_BOOTSTRAP_TOKEN_SECRET_ARN, { role: 'node-bootstrap', description: 'node pool bootstrap token' }],
  ];
  for (const [arn, grant] of sources) if (arn) out.push(staticRecord(await secretToken(arn), grant));
  return out;
}

/**
 * Everything an ApiServer needs besides the store: admission, and with token
 * auth the authenticator and authorizer; with an agent token the connector
 * that reaches agents for logs and exec.
 */
export async function apiOptionsFromEnv(store: Store, env: Env = process.env): Promise<Omit<ApiServerOptions, 'store'> & { auth: 'tokens' | 'none' }> {
  const auth = authModeFromEnv(env);
  const opts: Omit<ApiServerOptions, 'store'> & { auth: 'tokens' | 'none' } = { auth, admission: admissionFromEnv(env) };
  if (auth === 'tokens') {
    opts.authenticator = new TokenAuthenticator({
      staticTokens: await staticTokens(env),
      lookup: storeTokenLookup(store),
      log: (line) => console.warn(line),
    });
    opts.authorizer = new KumoAuthorizer(storeReader(store));
  }
  if (env.KUMO_AGENT_TOKEN_SECRET_ARN) {
    const token = await secretToken(env.KUMO_AGENT_TOKEN_SECRET_ARN);
    opts.podConnector = new AgentConnector({
      token,
      getNode: async (name) => (await store.get({ resource: 'nodes', namespace: '', name })) as (Node & KObject) | undefined,
    });
  }
  return opts;
}
