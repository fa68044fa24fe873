/**
 * Bearer-token authentication for the API server: `Authorization: Bearer
 * <id>.<secret>` → the token's record (a static one held in memory, or the
 * Secret `kumo-system/kumo-token-<id>` from the store) → a user. Unknown,
 * malformed, wrong and expired tokens all authenticate nobody, which the API
 * server answers with 401; the reason is logged, never told.
 *
 * Records are cached for `cacheMs` (positive and negative), so a revoked
 * token keeps working for at most that long in a warm Lambda container, and
 * a flood of made-up tokens costs one store read per id and interval.
 */
import type { Authenticator } from '../apiserver/server.js';
import { StatusError } from '../apiserver/errors.js';
import type { ApiRequest, UserInfo } from '../apiserver/types.js';
import { StoreBusyError, type Store } from '../store/types.js';
import { type Clock, systemClock } from '../util/clock.js';
import { expired, parseToken, recordOfSecret, secretMatches, TOKEN_NAMESPACE, type TokenRecord, tokenSecretName } from './tokens.js';
import { userOf } from './users.js';

/** Finds the record of a token id; undefined when there is none. */
export type TokenLookup = (id: string) => Promise<TokenRecord | undefined>;

export interface TokenAuthenticatorOptions {
  /** Tokens held in memory (from Secrets Manager), checked before the lookup. */
  staticTokens?: readonly TokenRecord[];
  /** Records kept in the store. @default none */
  lookup?: TokenLookup;
  clock?: Clock;
  /** How long a looked-up record (or its absence) is trusted. @default 10 s */
  cacheMs?: number;
  /** Most ids cached at once; the oldest go first. @default 10,000 */
  cacheSize?: number;
  /** Why a token was refused (for the function's log). @default silent */
  log?: (line: string) => void;
}

/** Reads token records from the store the API server runs on. */
export function storeTokenLookup(store: Store): TokenLookup {
  return async (id) => {
    try {
      const obj = await store.get({ resource: 'secrets', namespace: TOKEN_NAMESPACE, name: tokenSecretName(id) });
      return obj ? recordOfSecret(obj) : undefined;
    } catch (err) {
      // The store refusing for load is the client's cue to retry (429), as on every other read.
      if (err instanceof StoreBusyError) throw StatusError.tooManyRequests(`the server is busy: ${err.message}`);
      throw err;
    }
  };
}

export class TokenAuthenticator implements Authenticator {
  private readonly statics: ReadonlyMap<string, TokenRecord>;
  private readonly cache = new Map<string, { record: TokenRecord | undefined; at: number }>();
  private readonly clock: Clock;

  constructor(private readonly opts: TokenAuthenticatorOptions) {
    this.statics = new Map((opts.staticTokens ?? []).map((r) => [r.id, r]));
    this.clock = opts.clock ?? systemClock;
  }

  async authenticate(req: ApiRequest): Promise<UserInfo | undefined> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const parsed = parseToken(m[1]!);
    if (!parsed) return this.refuse('malformed token');
    const record = await this.record(parsed.id);
    if (!record) return this.refuse(`unknown token id ${parsed.id}`);
    if (!secretMatches(parsed.secret, record.hash)) return this.refuse(`wrong secret for token id ${parsed.id}`);
    if (expired(record.grant, this.clock.now())) return this.refuse(`token ${parsed.id} expired at ${record.grant.expiresAt}`);
    return userOf(record.id, record.grant);
  }

  /** Forgets cached records (after a token is created or revoked in this process). */
  invalidate(id?: string): void {
    if (id === undefined) this.cache.clear();
    else this.cache.delete(id);
  }

  private refuse(why: string): undefined {
    this.opts.log?.(`kumo auth: refused: ${why}`);
    return undefined;
  }

  private async record(id: string): Promise<TokenRecord | undefined> {
    const fixed = this.statics.get(id);
    if (fixed) return fixed;
    if (!this.opts.lookup) return undefined;
    const now = this.clock.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < (this.opts.cacheMs ?? 10_000)) return hit.record;
    const record = await this.opts.lookup(id);
    this.cache.delete(id);
    this.cache.set(id, { record, at: now });
    // Map iteration is insertion order: the first key is the oldest entry.
    while (this.cache.size > (this.opts.cacheSize ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    return record;
  }
}
