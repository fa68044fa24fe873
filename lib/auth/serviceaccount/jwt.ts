/**
 * ServiceAccount tokens as kube-apiserver makes and checks them
 * (pkg/serviceaccount/claims.go and jwt.go), with `jose`: ES256 JWTs whose
 * public claims are iss, sub `system:serviceaccount:NS:NAME`, aud, exp, iat,
 * nbf and jti, and whose private `kubernetes.io` claim names the namespace,
 * the ServiceAccount and what the token is bound to (pod and its node, or
 * secret). Verification here is the signature, the issuer, the time window
 * and the audience; that the objects still exist is the authenticator's
 * (authenticator.ts).
 */
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { serviceAccountUsername } from '../../api/core/v1/serviceaccount.js';
import type { BoundRef, ServiceAccountTokenIssuer, TokenToIssue } from '../../api/serviceaccount-tokens.js';
import type { SigningKey } from './signing-key.js';

/** The issuer kube's docs use and most clusters set (--service-account-issuer). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** How far a token's times may be off the server's clock (kube's jwt leeway). */
const LEEWAY_SECONDS = 60;
const ALG = 'ES256';

/** The `kubernetes.io` claim (claims.go's privateClaims). */
interface PrivateClaim {
  namespace?: string;
  serviceaccount?: Partial<BoundRef>;
  pod?: Partial<BoundRef>;
  secret?: Partial<BoundRef>;
  node?: Partial<BoundRef>;
  warnafter?: number;
}

/** What a verified token says. */
export interface VerifiedToken {
  namespace: string;
  serviceAccount: BoundRef;
  pod?: BoundRef;
  secret?: BoundRef;
  node?: { name: string; uid?: string };
  jti?: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

export interface JwtOptions {
  key: SigningKey;
  /** @default DEFAULT_ISSUER */
  issuer?: string;
  /** Audiences the API server accepts and gives tokens by default. @default [issuer] */
  apiAudiences?: readonly string[];
}

/** Whether a bearer token is a JWT (three base64url parts, the first a JSON header naming an alg): kube's union authenticator hands those to this one. */
export function isJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

function ref(r: Partial<BoundRef> | undefined): BoundRef | undefined {
  return r && typeof r.name === 'string' && r.name !== '' ? { name: r.name, uid: typeof r.uid === 'string' ? r.uid : '' } : undefined;
}

export class ServiceAccountJwt implements ServiceAccountTokenIssuer {
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  private readonly key: SigningKey;
  private readonly publicJwk: Record<string, unknown>;

  constructor(opts: JwtOptions) {
    this.key = opts.key;
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = opts.apiAudiences ?? [this.issuer];
    const { kty, crv, x, y } = opts.key.publicKey.export({ format: 'jwk' });
    this.publicJwk = { use: 'sig', kty, crv, kid: opts.key.kid, alg: ALG, x, y };
  }

  async issue(t: TokenToIssue, issuedAt: number): Promise<string> {
    const iat = Math.floor(issuedAt / 1000);
    const claim: PrivateClaim = { namespace: t.namespace, serviceaccount: t.serviceAccount };
    if (t.pod) claim.pod = t.pod;
    if (t.secret) claim.secret = t.secret;
    if (t.node) claim.node = t.node.uid ? t.node : { name: t.node.name };
    return new SignJWT({ 'kubernetes.io': claim })
      .setProtectedHeader({ alg: ALG, kid: this.key.kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(t.namespace, t.serviceAccount.name))
      .setAudience([...t.audiences])
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + t.expirationSeconds)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
  }

  /**
   * The token's claims when its signature, issuer, times (at `now`, ms, with
   * kube's leeway) and audience (one of the API's) hold, else why not.
   */
  async verify(token: string, now: number): Promise<VerifiedToken | { refused: string }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: [ALG],
        issuer: this.issuer,
        audience: [...this.apiAudiences],
        currentDate: new Date(now),
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      return { refused: err instanceof Error ? err.message : String(err) };
    }
    const claim = (payload['kubernetes.io'] ?? {}) as PrivateClaim;
    const sa = ref(claim.serviceaccount);
    const namespace = claim.namespace;
    if (!sa || !namespace) return { refused: 'token has no kubernetes.io namespace and serviceaccount claims' };
    if (payload.sub !== serviceAccountUsername(namespace, sa.name)) return { refused: 'token subject does not match its kubernetes.io claim' };
    const pod = ref(claim.pod);
    const secret = ref(claim.secret);
    const node = ref(claim.node);
    return {
      namespace,
      serviceAccount: sa,
      ...(pod ? { pod } : {}),
      ...(secret ? { secret } : {}),
      ...(node ? { node: node.uid ? node : { name: node.name } } : {}),
      ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}),
      expiresAt: (payload.exp as number) * 1000,
    };
  }

  openIdConfiguration(): Record<string, unknown> {
    // kube's discovery document (pkg/serviceaccount/openidmetadata.go).
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [ALG],
    };
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [this.publicJwk] };
  }
}
