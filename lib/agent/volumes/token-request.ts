/**
 * The agent's TokenRequest: `POST /api/v1/namespaces/NS/serviceaccounts/SA/token`
 * (authentication.k8s.io/v1), as the kubelet's token manager sends it.
 */
import type { KubeClient } from '../../client/client.js';
import type { IssuedToken, TokenRequestSpec } from './token-manager.js';

interface TokenRequestReply {
  spec?: { expirationSeconds?: number };
  status?: { token?: string; expirationTimestamp?: string };
}

export async function requestServiceAccountToken(client: KubeClient, namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken> {
  const reply = await client.call<TokenRequestReply>({
    method: 'POST',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec },
  });
  const token = reply.status?.token;
  const expiresAt = Date.parse(reply.status?.expirationTimestamp ?? '');
  if (!token || Number.isNaN(expiresAt)) throw new Error('the TokenRequest answer holds no token or expirationTimestamp');
  // The server may have changed the lifetime (a maximum, or kube's extended expiration): renewal follows what it granted.
  return { token, expiresAt, expirationSeconds: reply.spec?.expirationSeconds ?? spec.expirationSeconds };
}
