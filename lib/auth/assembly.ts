/**
 * Token authentication and authorization over one store, assembled in one
 * place for every API server that requires tokens (the cloud function,
 * `kumo up` with TLS, and the tests that run the same wiring in process):
 * the store the server writes through stamps token records with their MAC
 * and drops the RBAC view on every RBAC write; the authenticator checks
 * MACs before it reads records; the authorizer is kube's chain
 * (authorizer.ts) over a cached view of the RBAC objects.
 */
import type { ApiRequest, Authenticator, UserInfo } from '../api/request.js';
import type { Store } from '../store/types.js';
import { ObservedStore } from '../store/observed.js';
import { storedTokens, TokenAuthenticator, type TokenAuthenticatorOptions } from './authenticator.js';
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
  authenticator: TokenAuthenticator;
  authorizer: AuthorizerChain;
  /** The RBAC authorizer's view (its loads count for the bench). */
  rbac: RbacCache;
}

export interface TokenAuthOptions extends Omit<TokenAuthenticatorOptions, 'stored'> {
  /** How stale the RBAC view may be in a process that does not make every write (the cloud). @default 5 s */
  rbacMaxAgeMs?: RbacCacheOptions['maxAgeMs'];
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
  const { rbacMaxAgeMs, ...authn } = opts;
  const rbac = new RbacCache(backend, { ...(opts.clock ? { clock: opts.clock } : {}), ...(rbacMaxAgeMs !== undefined ? { maxAgeMs: rbacMaxAgeMs } : {}) });
  const stamping = new TokenStampingStore(backend, mac);
  return {
    store: new ObservedStore(stamping, (key) => {
      if (RBAC_STORE_KEYS.has(key.resource)) rbac.invalidate();
    }),
    authenticator: new TokenAuthenticator({ ...authn, stored: storedTokens(backend, mac) }),
    authorizer: kumoAuthorizer(backend, rbac),
    rbac,
  };
}

/** The first authenticator that knows the request's credential (kube's union authenticator). */
export function firstAuthenticator(...authenticators: readonly Authenticator[]): Authenticator {
  return {
    async authenticate(req: ApiRequest): Promise<UserInfo | undefined> {
      for (const a of authenticators) {
        const user = await a.authenticate(req);
        if (user) return user;
      }
      return undefined;
    },
  };
}
