/**
 * Token authentication and authorization over one store, assembled in one
 * place for every API server that requires tokens (the cloud function, and
 * the tests that run the same wiring in process): the store the server
 * writes through stamps token records with their MAC, the authenticator
 * checks MACs before it reads records, the authorizer reads the store
 * itself.
 */
import { storedTokens, TokenAuthenticator, type TokenAuthenticatorOptions } from './authenticator.js';
import { KumoAuthorizer, storeReader } from './authorizer.js';
import type { TokenMac } from './token-mac.js';
import { TokenStampingStore } from './token-stamp.js';
import type { Store } from '../store/types.js';

export interface TokenAuth {
  /** The store to give the API server: token records written through it get their MAC. */
  store: Store;
  authenticator: TokenAuthenticator;
  authorizer: KumoAuthorizer;
}

export function tokenAuth(backend: Store, mac: TokenMac, opts: Omit<TokenAuthenticatorOptions, 'stored'> = {}): TokenAuth {
  return {
    store: new TokenStampingStore(backend, mac),
    authenticator: new TokenAuthenticator({ ...opts, stored: storedTokens(backend, mac) }),
    authorizer: new KumoAuthorizer(storeReader(backend)),
  };
}
