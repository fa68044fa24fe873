/**
 * What the API server needs of ServiceAccount tokens, implemented in
 * lib/auth/serviceaccount (the key, the JWTs) and injected into it: issuing
 * one for TokenRequest, and the public documents of OIDC discovery.
 */

/** An object a token is bound to (the `kubernetes.io` claim's pod, secret, node). */
export interface BoundRef {
  name: string;
  uid: string;
}

export interface TokenToIssue {
  namespace: string;
  serviceAccount: BoundRef;
  pod?: BoundRef;
  secret?: BoundRef;
  /** The node of a bound pod (kube's ServiceAccountTokenPodNodeInfo); its uid is empty when the Node is gone. */
  node?: BoundRef;
  audiences: readonly string[];
  expirationSeconds: number;
}

export interface ServiceAccountTokenIssuer {
  /** The audiences a token made for the API server carries (kube-apiserver's --api-audiences). */
  readonly apiAudiences: readonly string[];
  /** Signs a token; `issuedAt` (ms) is the iat and nbf, the expiry follows from it. */
  issue(t: TokenToIssue, issuedAt: number): Promise<string>;
  /** `/.well-known/openid-configuration`. */
  openIdConfiguration(): Record<string, unknown>;
  /** `/openid/v1/jwks`: the public keys tokens are verified with. */
  jwks(): { keys: Record<string, unknown>[] };
}
