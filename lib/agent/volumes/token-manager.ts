/**
 * The agent's ServiceAccount tokens for projected volumes, as the kubelet's
 * token manager (pkg/kubelet/token) keeps them: one TokenRequest per pod,
 * ServiceAccount, audience and lifetime, bound to the pod (name and uid, so
 * deleting the pod invalidates it), cached, and requested again when it
 * reaches 80% of its lifetime or is 24 h old (less a jitter of up to 10 s,
 * so a node's pods do not all ask at once). A refresh that fails while the
 * cached token is still valid keeps serving the cached one, as the kubelet
 * does; the failure is still reported (the caller makes it an event).
 */
import type { Clock } from '../../util/clock.js';

/** What the agent sends as `POST …/serviceaccounts/SA/token` (authentication.k8s.io/v1 TokenRequest's spec). */
export interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef: { apiVersion: 'v1'; kind: 'Pod'; name: string; uid: string };
}

/** The token and when it expires (the TokenRequest's status). */
export interface IssuedToken {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** The lifetime the server granted (it may shorten or extend the one asked for). */
  expirationSeconds: number;
}

/** Asks the API for a token (the agent's client; tests inject their own). */
export type RequestToken = (namespace: string, serviceAccount: string, spec: TokenRequestSpec) => Promise<IssuedToken>;

export interface TokenKey {
  namespace: string;
  serviceAccount: string;
  /** Empty: the API server's own audiences. */
  audience: string;
  expirationSeconds: number;
  pod: { name: string; uid: string };
}

/** The token manager's limits: a token older than this is renewed whatever its lifetime. */
const MAX_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_JITTER_MS = 10_000;

interface Cached {
  issued: IssuedToken;
  /** When this token must be renewed (jitter included, fixed per token). */
  refreshAt: number;
}

/** A token request failed; `stale` holds the cached token when it is still valid. */
export class TokenFetchError extends Error {
  override name = 'TokenFetchError';
  constructor(
    message: string,
    readonly stale: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ServiceAccountTokens {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly request: RequestToken,
    private readonly clock: Clock,
    /** [0, 1): where in the jitter window a token's refresh falls. */
    private readonly random: () => number = Math.random,
    /** How long after a failed renewal the next one is due. */
    private readonly retryMs = 10_000,
  ) {}

  private static keyOf(k: TokenKey): string {
    return JSON.stringify([k.pod.uid, k.namespace, k.serviceAccount, k.audience, k.expirationSeconds]);
  }

  /**
   * The pod's current token for `key`: the cached one until it is due for
   * renewal, else a new one. Throws TokenFetchError when the API refuses or
   * cannot be reached (with the still-valid cached token, if any, in `stale`).
   */
  async get(key: TokenKey): Promise<string> {
    const id = ServiceAccountTokens.keyOf(key);
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && now < cached.refreshAt) return cached.issued.token;
    let issued: IssuedToken;
    try {
      issued = await this.request(key.namespace, key.serviceAccount, {
        audiences: key.audience ? [key.audience] : [],
        expirationSeconds: key.expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: key.pod.name, uid: key.pod.uid },
      });
    } catch (err) {
      const stale = cached && now < cached.issued.expiresAt ? cached.issued.token : undefined;
      // Try again a little later, not on every sync of the pod: the API may be down or refusing.
      if (cached) cached.refreshAt = now + this.retryMs;
      throw new TokenFetchError(`failed to fetch token: ${(err as Error).message}`, stale, { cause: err });
    }
    this.cache.set(id, { issued, refreshAt: this.refreshTime(issued) });
    return issued.token;
  }

  /** kube's requiresRefresh: 24 h after issue, or with 20% of the lifetime left, each less the jitter. */
  private refreshTime(issued: IssuedToken): number {
    const lifetime = issued.expirationSeconds * 1000;
    const issuedAt = issued.expiresAt - lifetime;
    const jitter = Math.floor(this.random() * (MAX_JITTER_MS / 1000)) * 1000;
    return Math.min(issuedAt + MAX_TTL_MS, issued.expiresAt - Math.floor(lifetime / 5)) - jitter;
  }

  /** The earliest renewal of the pod's tokens, for scheduling its next volume sync. */
  nextRefresh(podUid: string): number | undefined {
    let next: number | undefined;
    for (const [id, c] of this.cache) if ((JSON.parse(id) as string[])[0] === podUid) next = Math.min(next ?? Infinity, c.refreshAt);
    return next;
  }

  /** Forgets a pod's tokens (it is gone: kubelet's DeleteServiceAccountToken). */
  forget(podUid: string): void {
    for (const id of [...this.cache.keys()]) if ((JSON.parse(id) as string[])[0] === podUid) this.cache.delete(id);
  }
}
