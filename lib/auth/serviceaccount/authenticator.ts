/**
 * The ServiceAccount token authenticator, after kube's
 * pkg/serviceaccount/jwt.go and claims.go validator: a JWT whose signature,
 * issuer, time window (kube's 60 s leeway) and audience (one of the API
 * server's) hold, and whose ServiceAccount still exists with the uid the
 * token names, as does the pod or secret it is bound to (a pod deleted more
 * than 60 s ago, or gone, or recreated under a new uid, invalidates it).
 * The user is `system:serviceaccount:NS:NAME` with the ServiceAccount's uid,
 * groups `system:serviceaccounts`, `system:serviceaccounts:NS` and
 * `system:authenticated`, and kube's extra (pod name and uid, node name and
 * uid, credential id `JTI=<jti>`).
 *
 * What a token was found to be is cached by the token's SHA-256 for
 * `cacheMs` (default 10 s; never past the token's expiry): in the steady
 * state a token costs no store read per request, and a deleted
 * ServiceAccount or pod invalidates its tokens within that bound.
 * Hits and misses are counted as kube's token cache counts them
 * (`authentication_token_cache_request_total{status}`). A refusal is
 * logged (with the request's auditID), never told: the caller gets 401.
 */
import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { AUDIT_ID_HEADER } from '../../api/audit-id.js';
import { serviceAccountGroups, serviceAccountUsername } from '../../api/core/v1/serviceaccount.js';
import type { KObject } from '../../api/object.js';
import type { ApiRequest, Authenticator, UserInfo } from '../../api/request.js';
import { type Logger, silentLogger } from '../../log/logger.js';
import { type Clock, systemClock } from '../../util/clock.js';
import { isJwt, type ServiceAccountJwt, type VerifiedToken } from './jwt.js';

/** Reads one object (a ServiceAccount, Pod or Secret) by its plural, namespace and name; undefined when there is none. */
export type ObjectLookup = (resource: 'serviceaccounts' | 'pods' | 'secrets', namespace: string, name: string) => Promise<KObject | undefined>;

export interface ServiceAccountAuthenticatorOptions {
  jwt: ServiceAccountJwt;
  lookup: ObjectLookup;
  clock?: Clock;
  /** How long what a token was found to be is trusted. @default 10 s */
  cacheMs?: number;
  /** Most tokens cached at once; the oldest go first. @default 10,000 */
  cacheSize?: number;
  /** Where the cache's hits and misses are counted (the server's /metrics). @default not counted */
  registry?: Registry;
  /** Why a token was refused. @default silent */
  logger?: Logger;
}

/** kube's extra keys (k8s.io/apiserver/pkg/authentication/serviceaccount). */
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
} as const;

/** A bound pod or secret deleted this long ago no longer vouches for its tokens (kube's validator). */
const DELETED_GRACE_MS = 60_000;

type Outcome = { user: UserInfo } | { refused: string };

/** The bearer token of a request, if it carries one. */
export function bearerToken(req: ApiRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

export class ServiceAccountTokenAuthenticator implements Authenticator {
  private readonly cache = new Map<string, { outcome: Outcome; until: number }>();
  private readonly clock: Clock;
  private readonly requests?: Counter<'status'>;

  constructor(private readonly opts: ServiceAccountAuthenticatorOptions) {
    this.clock = opts.clock ?? systemClock;
    if (opts.registry) {
      const name = 'authentication_token_cache_request_total';
      // One counter per registry (a second server of the process shares the first's).
      this.requests =
        (opts.registry.getSingleMetric(name) as Counter<'status'> | undefined) ??
        new Counter({
          name,
          help: 'ServiceAccount tokens checked, by whether the cache knew them (hit) or the store was read (miss)',
          labelNames: ['status'],
          registers: [opts.registry],
        });
    }
  }

  /** Whether a bearer token is this authenticator's to judge (a JWT). */
  handles(token: string): boolean {
    return isJwt(token);
  }

  async authenticate(req: ApiRequest): Promise<UserInfo | undefined> {
    const token = bearerToken(req);
    if (!token || !this.handles(token)) return undefined;
    const outcome = await this.check(token);
    if ('user' in outcome) return outcome.user;
    const auditID = req.headers[AUDIT_ID_HEADER];
    (this.opts.logger ?? silentLogger).warn(`kumo auth: service account token refused: ${outcome.refused}`, auditID ? { auditID } : {});
    return undefined;
  }

  private async check(token: string): Promise<Outcome> {
    const now = this.clock.now();
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit && now < hit.until) {
      this.requests?.inc({ status: 'hit' });
      return hit.outcome;
    }
    this.requests?.inc({ status: 'miss' });
    const verified = await this.opts.jwt.verify(token, now);
    // A token that fails on its own (signature, time, audience) is not cached: it costs no store read.
    if ('refused' in verified) return verified;
    const outcome = await this.validate(verified, now);
    this.cache.delete(key);
    this.cache.set(key, { outcome, until: Math.min(now + (this.opts.cacheMs ?? 10_000), verified.expiresAt) });
    // Map iteration is insertion order: the first key is the oldest entry.
    while (this.cache.size > (this.opts.cacheSize ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    return outcome;
  }

  /** kube's validator.Validate: the objects the token names still exist as it names them. */
  private async validate(t: VerifiedToken, now: number): Promise<Outcome> {
    const ns = t.namespace;
    const sa = await this.opts.lookup('serviceaccounts', ns, t.serviceAccount.name);
    if (!sa || sa.metadata.deletionTimestamp) return { refused: `service account ${ns}/${t.serviceAccount.name} has been deleted` };
    if (sa.metadata.uid !== t.serviceAccount.uid) {
      return { refused: `service account UID (${sa.metadata.uid ?? ''}) does not match claim (${t.serviceAccount.uid})` };
    }
    for (const [resource, what, ref] of [
      ['secrets', 'secret', t.secret],
      ['pods', 'pod', t.pod],
    ] as const) {
      if (!ref) continue;
      const obj = await this.opts.lookup(resource, ns, ref.name);
      if (!obj) return { refused: `${what} ${ns}/${ref.name} has been deleted` };
      if (obj.metadata.uid !== ref.uid) return { refused: `${what} UID (${obj.metadata.uid ?? ''}) does not match claim (${ref.uid})` };
      const deleted = obj.metadata.deletionTimestamp ? Date.parse(obj.metadata.deletionTimestamp) : NaN;
      if (deleted < now - DELETED_GRACE_MS) return { refused: `${what} ${ns}/${ref.name} is being deleted` };
    }
    const extra: Record<string, string> = {};
    if (t.pod) Object.assign(extra, { [EXTRA.podName]: t.pod.name, [EXTRA.podUid]: t.pod.uid });
    if (t.node) {
      extra[EXTRA.nodeName] = t.node.name;
      if (t.node.uid) extra[EXTRA.nodeUid] = t.node.uid;
    }
    if (t.jti) extra[EXTRA.credentialId] = `JTI=${t.jti}`;
    return {
      user: {
        name: serviceAccountUsername(ns, t.serviceAccount.name),
        uid: t.serviceAccount.uid,
        groups: [...serviceAccountGroups(ns), 'system:authenticated'],
        ...(Object.keys(extra).length > 0 ? { extra } : {}),
      },
    };
  }
}
