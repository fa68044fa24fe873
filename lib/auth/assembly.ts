/**
 * Token authentication and authorization over one store, assembled in one
 * place for every API server that requires tokens (the cloud function, and
 * the tests that run the same wiring in process): the store the server
 * writes through stamps token records with their MAC, the authenticator
 * checks MACs before it reads records, the authorizer reads the store
 * itself.
 */
import type { Authenticator } from '../api/request.js';
import { storedTokens, TokenAuthenticator, type TokenAuthenticatorOptions } from './authenticator.js';
import { BearerTokenUnion } from './bearer-union.js';
import { ServiceAccountTokenAuthenticator, type ServiceAccountAuthenticatorOptions } from './serviceaccount/authenticator.js';
import { storeObjectLookup } from './serviceaccount/lookup.js';
import { KumoAuthorizer, storeReader } from './authorizer.js';
import type { TokenMac } from './token-mac.js';
import { TokenStampingStore } from './token-stamp.js';
import type { Store } from '../store/types.js';

export interface TokenAuth {
  /** The store to give the API server: token records written through it get their MAC. */
  store: Store;
  /** Every bearer token: ServiceAccount JWTs (when configured) and kumo tokens, in one chain. */
  authenticator: Authenticator;
  /** kumo's own tokens alone. */
  tokens: TokenAuthenticator;
  authorizer: KumoAuthorizer;
}

/** The ServiceAccount token authenticator's settings; its reads go to the backend store. */
export type ServiceAccountAuth = Omit<ServiceAccountAuthenticatorOptions, 'lookup' | 'clock' | 'logger'>;

export function tokenAuth(
  backend: Store,
  mac: TokenMac,
  opts: Omit<TokenAuthenticatorOptions, 'stored'> & { serviceAccounts?: ServiceAccountAuth } = {},
): TokenAuth {
  const { serviceAccounts, ...tokenOpts } = opts;
  const tokens = new TokenAuthenticator({ ...tokenOpts, stored: storedTokens(backend, mac) });
  return {
    store: new TokenStampingStore(backend, mac),
    authenticator: serviceAccounts ? serviceAccountChain(backend, serviceAccounts, [tokens], opts) : tokens,
    tokens,
    authorizer: new KumoAuthorizer(storeReader(backend)),
  };
}

/** ServiceAccount JWTs checked against `backend`, joined with `others` for every other bearer token. */
export function serviceAccountChain(
  backend: Store,
  serviceAccounts: ServiceAccountAuth,
  others: readonly Authenticator[],
  opts: Pick<TokenAuthenticatorOptions, 'clock' | 'logger'> = {},
): Authenticator {
  const sa = new ServiceAccountTokenAuthenticator({
    ...serviceAccounts,
    lookup: storeObjectLookup(backend),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return new BearerTokenUnion(sa, others);
}
