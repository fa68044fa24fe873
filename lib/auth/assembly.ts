/**
 * Token authentication and authorization over one store, assembled in one
 * place for every API server that requires tokens (the cloud function,
 * `kumo up` with TLS, and the tests that run the same wiring in process):
 * the store the server writes through stamps token records with their MAC
 * and drops the RBAC view on every RBAC write; the authenticator checks
 * ServiceAccount JWTs (when configured) and kumo tokens, whose MACs it
 * checks before it reads records; the authorizer is kube's chain
 * (authorizer.ts) over a cached view of the RBAC objects.
 */
import type { Authenticator } from '../api/request.js';
import type { Store } from '../store/types.js';
import { ObservedStore } from '../store/observed.js';
import { storedTokens, TokenAuthenticator, type TokenAuthenticatorOptions } from './authenticator.js';
import { BearerTokenUnion } from './bearer-union.js';
import { ServiceAccountTokenAuthenticator, type ServiceAccountAuthenticatorOptions } from './serviceaccount/authenticator.js';
import { storeObjectLookup } from './serviceaccount/lookup.js';
import { bootstrapStep, mastersStep, NodeAuthorizer, storeReader, tokenNamespaceGuard } from './authorizer.js';
import { AuthorizerChain } from './chain.js';
import { RbacAuthorizer } from './rbac/authorizer.js';
import { RBAC_STORE_KEYS, RbacCache, type RbacCacheOptions } from './rbac/cache.js';
import type { TokenMac } from './token-mac.js';
import { TokenStampingStore } from './token-stamp.js';
import { implicitBindings } from './users.js';

export interface TokenAuth {
  /** The store to give the API server: token records written through it get their MAC, RBAC writes refresh the authorizer's view. */
  store: Store;
  /** Every bearer token: ServiceAccount JWTs (when configured) and kumo tokens, in one chain. */
  authenticator: Authenticator;
  /** kumo's own tokens alone. */
  tokens: TokenAuthenticator;
  authorizer: AuthorizerChain;
  /** The RBAC authorizer's view (its loads count for the bench). */
  rbac: RbacCache;
}

/** The ServiceAccount token authenticator's settings; its reads go to the backend store. */
export type ServiceAccountAuth = Omit<ServiceAccountAuthenticatorOptions, 'lookup' | 'clock' | 'logger'>;

export interface TokenAuthOptions extends Omit<TokenAuthenticatorOptions, 'stored'> {
  /** How stale the RBAC view may be in a process that does not make every write (the cloud). @default 5 s */
  rbacMaxAgeMs?: RbacCacheOptions['maxAgeMs'];
  /** Accept ServiceAccount tokens too. @default kumo tokens only */
  serviceAccounts?: ServiceAccountAuth;
}

/** The chain in kube's order: system:masters, node bootstrap, the kumo-system guard, Node, RBAC. */
export function kumoAuthorizer(backend: Store, rbac: RbacCache): AuthorizerChain {
  return new AuthorizerChain([
    mastersStep,
    bootstrapStep,
    tokenNamespaceGuard,
    new NodeAuthorizer(storeReader(backend)),
    new RbacAuthorizer(rbac, implicitBindings),
  ]);
}

export function tokenAuth(backend: Store, mac: TokenMac, opts: TokenAuthOptions = {}): TokenAuth {
  const { rbacMaxAgeMs, serviceAccounts, ...authn } = opts;
  const rbac = new RbacCache(backend, { ...(opts.clock ? { clock: opts.clock } : {}), ...(rbacMaxAgeMs !== undefined ? { maxAgeMs: rbacMaxAgeMs } : {}) });
  const stamping = new TokenStampingStore(backend, mac);
  const tokens = new TokenAuthenticator({ ...authn, stored: storedTokens(backend, mac) });
  return {
    store: new ObservedStore(stamping, (key) => {
      if (RBAC_STORE_KEYS.has(key.resource)) rbac.invalidate();
    }),
    authenticator: serviceAccounts ? serviceAccountChain(backend, serviceAccounts, [tokens], authn) : tokens,
    tokens,
    authorizer: kumoAuthorizer(backend, rbac),
    rbac,
  };
}

/** ServiceAccount JWTs checked against `backend`, joined with `others` (first that knows the caller wins) for every other bearer token. */
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
