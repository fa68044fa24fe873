/**
 * Bearer-token authentication for the API server: `Authorization: Bearer
 * <id>.<secret>.<mac>` → the token's record (a static one held in memory, or
 * the Secret `kumo-system/kumo-token-<id>` from the store) → a user. Unknown,
 * malformed, forged, wrong and expired tokens all authenticate nobody, which
 * the API server answers with 401; the reason is logged, never told.
 *
 * Nothing reaches the store for a token this server did not issue: a stored
 * token's MAC (token-mac.ts) is checked in memory first, and a token without
 * one is looked up only if its id belongs to a record stored before MACs
 * existed (those ids are read once per process, when the first such token
 * comes). Records are cached for `cacheMs` (positive and negative), so a
 * revoked token keeps working for at most that long in a warm Lambda
 * container, and a revoked token costs one store read per interval.
 */
import { AUDIT_ID_HEADER } from '../api/audit-id.js';
import { StatusError } from '../api/errors.js';
import type { ApiRequest, UserInfo, Authenticator } from '../api/request.js';
import { StoreBusyError, type Store } from '../store/types.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { TokenMac } from './token-mac.js';
import { expired, parseToken, recordOfSecret, secretMatches, TOKEN_NAMESPACE, type TokenRecord, tokenSecretName } from './tokens.js';
import { userOf } from './users.js';
import { SECRETS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

/** Finds the record of a token id; undefined when there is none. */
export type TokenLookup = (id: string) => Promise<TokenRecord | undefined>;

/** Tokens whose records are kept in the store, and what vouches for an id before its record is read. */
export interface StoredTokens {
  lookup: TokenLookup;
  /** Checks the MAC of `<id>.<secret>.<mac>` tokens in memory. */
  mac: TokenMac;
  /** Ids of records stored before MACs existed, whose `<id>.<secret>` tokens still work. Called at most once at a time. */
  legacyIds: () => Promise<ReadonlySet<string>>;
}

export interface TokenAuthenticatorOptions {
  /** Tokens held in memory (from Secrets Manager), checked before the stored ones. */
  staticTokens?: readonly TokenRecord[];
  /** Records kept in the store. @default none */
  stored?: StoredTokens;
  clock?: Clock;
  /** How long a looked-up record (or its absence) is trusted. @default 10 s */
  cacheMs?: number;
  /** Most ids cached at once; the oldest go first. @default 10,000 */
  cacheSize?: number;
  /** Why a token was refused (a warning with the request's auditID, for the function's log). @default silent */
  logger?: Logger;
}

/** The store refusing for load is the client's cue to retry (429), as on every other read. */
export async function busyAsTooMany<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof StoreBusyError) throw StatusError.tooManyRequests(`the server is busy: ${err.message}`);
    throw err;
  }
}

/** Reads token records from the store the API server runs on. */
export function storeTokenLookup(store: Store): TokenLookup {
  return (id) =>
    busyAsTooMany(async () => {
      const obj = await store.get({ resource: storeResource(SECRETS), namespace: TOKEN_NAMESPACE, name: tokenSecretName(id) });
      return obj ? recordOfSecret(obj) : undefined;
    });
}

/** The ids of the token records in the store that carry no MAC (every page of kumo-system's Secrets). */
export function storeLegacyTokenIds(store: Store): () => Promise<ReadonlySet<string>> {
  return () =>
    busyAsTooMany(async () => {
      const ids = new Set<string>();
      let page: string | undefined;
      do {
        const res = await store.list(storeResource(SECRETS), { namespace: TOKEN_NAMESPACE, limit: 500, ...(page ? { continue: page } : {}) });
        for (const obj of res.items) {
          const record = recordOfSecret(obj);
          if (record && record.mac === undefined) ids.add(record.id);
        }
        page = res.continue;
      } while (page);
      return ids;
    });
}

/** What the authenticator needs to check tokens recorded in `store` under `mac`'s key. */
export function storedTokens(store: Store, mac: TokenMac): StoredTokens {
  return { lookup: storeTokenLookup(store), mac, legacyIds: storeLegacyTokenIds(store) };
}

export class TokenAuthenticator implements Authenticator {
  private readonly statics: ReadonlyMap<string, TokenRecord>;
  private readonly cache = new Map<string, { record: TokenRecord | undefined; at: number }>();
  private readonly clock: Clock;
  /** Stored-record lookups answered from the cache, and those that read the store (the bench's hit rate). */
  readonly cacheStats = { hits: 0, misses: 0 };
  /** Read once and kept: no record without a MAC is ever stored again, so the set only shrinks (by revocation, which the lookup sees). */
  private legacy: Promise<ReadonlySet<string>> | undefined;

  constructor(private readonly opts: TokenAuthenticatorOptions) {
    this.statics = new Map((opts.staticTokens ?? []).map((r) => [r.id, r]));
    this.clock = opts.clock ?? systemClock;
  }

  async authenticate(req: ApiRequest): Promise<UserInfo | undefined> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const parsed = parseToken(m[1]!);
    if (!parsed) return this.refuse(req, 'malformed token');
    const fixed = this.statics.get(parsed.id);
    if (fixed && parsed.mac !== undefined) return this.refuse(req, `token id ${parsed.id} is held outside the store and has no MAC`);
    const record = fixed ?? (await this.stored(req, parsed));
    if (!record) return undefined;
    if (!secretMatches(parsed.secret, record.hash)) return this.refuse(req, `wrong secret for token id ${parsed.id}`);
    if (expired(record.grant, this.clock.now())) return this.refuse(req, `token ${parsed.id} expired at ${record.grant.expiresAt}`);
    return userOf(record.id, record.grant);
  }

  /** Forgets cached records (after a token is created or revoked in this process). */
  invalidate(id?: string): void {
    if (id === undefined) this.cache.clear();
    else this.cache.delete(id);
  }

  private refuse(req: ApiRequest, why: string): undefined {
    const auditID = req.headers[AUDIT_ID_HEADER];
    (this.opts.logger ?? silentLogger).warn(`kumo auth: refused: ${why}`, auditID ? { auditID } : {});
    return undefined;
  }

  /** The record of a stored token, or undefined (refusal logged): the store is read only for an id this server vouched for. */
  private async stored(req: ApiRequest, token: { id: string; secret: string; mac?: string }): Promise<TokenRecord | undefined> {
    const stored = this.opts.stored;
    if (!stored) return this.refuse(req, `unknown token id ${token.id}`);
    if (token.mac !== undefined) {
      if (!stored.mac.verify(token.id, token.secret, token.mac)) return this.refuse(req, `token for id ${token.id} has a MAC this server did not make`);
    } else if (!(await this.legacyIds(stored)).has(token.id)) {
      return this.refuse(req, `token id ${token.id} has no MAC and no record from before MACs`);
    }
    return (await this.record(stored, token.id)) ?? this.refuse(req, `unknown token id ${token.id}`);
  }

  private legacyIds(stored: StoredTokens): Promise<ReadonlySet<string>> {
    this.legacy ??= stored.legacyIds().catch((err: unknown) => {
      this.legacy = undefined;
      throw err;
    });
    return this.legacy;
  }

  private async record(stored: StoredTokens, id: string): Promise<TokenRecord | undefined> {
    const now = this.clock.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < (this.opts.cacheMs ?? 10_000)) {
      this.cacheStats.hits++;
      return hit.record;
    }
    this.cacheStats.misses++;
    const record = await stored.lookup(id);
    this.cache.delete(id);
    this.cache.set(id, { record, at: now });
    // Map iteration is insertion order: the first key is the oldest entry.
    while (this.cache.size > (this.opts.cacheSize ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    return record;
  }
}
