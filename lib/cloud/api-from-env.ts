/**
 * The API server's settings in the cloud, read from the function's
 * environment (the CDK stack sets them; lib/config/settings.ts declares them):
 *
 * - KUMO_TABLE / KUMO_SQLITE_PATH: the store (store-from-env.ts).
 * - KUMO_AUTH: `tokens` (bearer tokens, lib/auth) or `none`. Defaults to
 *   `tokens` whenever the store is DynamoDB, so a deployed API never runs
 *   open by omission; `none` only for running the function code locally.
 * - KUMO_ADMIN_TOKEN_SECRET_ARN: the deploy-time admin token (Secrets Manager).
 * - KUMO_BOOTSTRAP_TOKEN_SECRET_ARN: the node pool's bootstrap token.
 * - KUMO_TOKEN_KEY_SECRET_ARN: the key of the stored tokens' MACs (required
 *   with token auth: lib/auth/token-mac.ts).
 * - KUMO_SERVICE_ACCOUNT_KEY_SECRET_ARN: the random string the ServiceAccount
 *   token signing key is derived from (lib/auth/serviceaccount/signing-key.ts);
 *   unset, no TokenRequest and no ServiceAccount tokens.
 *   KUMO_SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION bounds the tokens it issues.
 * - KUMO_FLOW_BURST_MS: flow control's burst (config.ts).
 * - KUMO_AGENT_TOKEN_SECRET_ARN: the token agents accept for logs and exec;
 *   set when the API function can reach the agents (it runs in their VPC).
 * - the admission settings of config.ts.
 */
import type { Registry } from 'prom-client';
import { AgentConnector } from '../agent/connector.js';
import type { Node } from '../api/core/v1/node.js';
import type { KObject } from '../api/object.js';
import { FlowControl } from '../apiserver/flow-control.js';
import { FlowGate } from '../apiserver/flow-gate.js';
import type { RequestHandler } from '../apiserver/lambda.js';
import { ApiServer, type ApiServerOptions } from '../apiserver/server.js';
import { tokenAuth } from '../auth/assembly.js';
import { ServiceAccountJwt } from '../auth/serviceaccount/jwt.js';
import { derivedSigningKey } from '../auth/serviceaccount/signing-key.js';
import { TokenMac } from '../auth/token-mac.js';
import { type Grant, staticRecord, type TokenRecord } from '../auth/tokens.js';
import { ConfigError, type Env, readSetting } from '../config/read.js';
import { SETTINGS } from '../config/settings.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { admissionFromEnv, flowControlFromEnv } from './config.js';
import { NODES } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

export class AuthConfigError extends ConfigError {
  override name = 'AuthConfigError';
}

export function authModeFromEnv(env: Env = process.env): 'tokens' | 'none' {
  return readSetting(env, SETTINGS.auth) ?? (readSetting(env, SETTINGS.table) ? 'tokens' : 'none');
}

/** Secrets Manager's client is loaded only when a secret is configured. */
async function secretToken(arn: string): Promise<string> {
  const { readToken } = await import('./secrets.js');
  return readToken(arn);
}

async function secretString(arn: string): Promise<string> {
  const { readSecretString } = await import('./secrets.js');
  return readSecretString(arn);
}

async function staticTokens(env: Env): Promise<TokenRecord[]> {
  const out: TokenRecord[] = [];
  const sources: [string | undefined, Grant][] = [
    [readSetting(env, SETTINGS.adminTokenSecretArn), { role: 'admin', description: 'deploy-time admin token' }],
    [readSetting(env, SETTINGS.bootstrapTokenSecretArn), { role: 'node-bootstrap', description: 'node pool bootstrap token' }],
  ];
  for (const [arn, grant] of sources) if (arn) out.push(staticRecord(await secretToken(arn), grant));
  return out;
}

export interface CloudApiOptions extends ApiServerOptions {
  auth: 'tokens' | 'none';
  /**
   * The front of the handler chain for a server built from these options:
   * with token auth, authentication and flow control (one FlowControl per
   * process, shared by every server it wraps); without, the server itself.
   */
  front(server: RequestHandler): RequestHandler;
}

/**
 * Everything an ApiServer needs: the store (with token auth, one that stamps
 * token records with their MAC), admission, and with token auth the
 * authenticator, the authorizer and the flow gate in front; with an agent
 * token the connector that reaches agents for logs and exec. The server,
 * the authenticator (its refusals) and the front log to `logger`.
 */
export async function apiOptionsFromEnv(
  backend: Store,
  env: Env = process.env,
  logger: Logger = defaultLogger(),
  /** Where the ServiceAccount token cache counts hits and misses (the servers' /metrics). */
  metricsRegistry?: Registry,
): Promise<CloudApiOptions> {
  const auth = authModeFromEnv(env);
  const opts: CloudApiOptions = { auth, store: backend, admission: admissionFromEnv(env), logger, front: (server) => server };
  const saKeyArn = readSetting(env, SETTINGS.serviceAccountKeySecretArn);
  // Derived once per container from the secret: the key lives in Secrets Manager and this process, never in the table.
  const serviceAccountTokens = saKeyArn ? new ServiceAccountJwt({ key: derivedSigningKey(await secretString(saKeyArn)) }) : undefined;
  if (serviceAccountTokens) {
    opts.serviceAccountTokens = serviceAccountTokens;
    const max = readSetting(env, SETTINGS.serviceAccountMaxTokenExpiration);
    if (max !== undefined) opts.maxTokenExpirationSeconds = Math.floor(max / 1000);
  }
  if (auth === 'tokens') {
    const keyArn = readSetting(env, SETTINGS.tokenKeySecretArn);
    if (!keyArn) throw new AuthConfigError(`token auth needs ${SETTINGS.tokenKeySecretArn.env} (the secret holding the key of the tokens' MACs)`);
    const mac = new TokenMac(await secretString(keyArn));
    const { store, authenticator, authorizer } = tokenAuth(backend, mac, {
      staticTokens: await staticTokens(env),
      logger,
      ...(serviceAccountTokens ? { serviceAccounts: { jwt: serviceAccountTokens, ...(metricsRegistry ? { registry: metricsRegistry } : {}) } } : {}),
    });
    Object.assign(opts, { store, authenticator, authorizer });
    const flows = new FlowControl(flowControlFromEnv(env));
    opts.front = (server) =>
      new FlowGate(server, authenticator, flows, server instanceof ApiServer ? { metrics: server.metrics, kinds: server.kinds } : undefined);
  }
  const agentTokenArn = readSetting(env, SETTINGS.agentTokenSecretArn);
  if (agentTokenArn) {
    const token = await secretToken(agentTokenArn);
    opts.podConnector = new AgentConnector({
      token,
      getNode: async (name) => (await backend.get({ resource: storeResource(NODES), namespace: '', name })) as (Node & KObject) | undefined,
    });
  }
  return opts;
}
