/**
 * Tokens kept in Secrets Manager: the deploy-time admin token, the node
 * pool's bootstrap token and the token the API server presents to agents.
 * The stack generates each as JSON `{"id": "<id>", "secret": "<random>"}`
 * (Secrets Manager's generateStringKey), which makes the bearer token
 * `<id>.<secret>`; a plain `<id>.<secret>` string is taken as is.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class SecretFormatError extends Error {
  override name = 'SecretFormatError';
}

/** The bearer token a Secrets Manager secret string holds. */
export function tokenOfSecretString(value: string): string {
  const text = value.trim();
  if (!text.startsWith('{')) return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SecretFormatError('the secret is neither JSON nor a plain token');
  }
  const { id, secret } = (doc ?? {}) as { id?: unknown; secret?: unknown };
  if (typeof secret !== 'string' || secret === '') throw new SecretFormatError('the secret has no "secret" field');
  return typeof id === 'string' && id !== '' ? `${id}.${secret}` : secret;
}

/** Reads a secret's string from Secrets Manager (the SDK's default configuration: region, endpoint, credentials). */
export async function readSecretString(secretId: string, client?: SecretsManagerClient): Promise<string> {
  const c = client ?? new SecretsManagerClient({});
  try {
    const out = await c.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) throw new SecretFormatError(`secret ${secretId} has no string value`);
    return out.SecretString;
  } finally {
    if (!client) c.destroy();
  }
}

export async function readToken(secretId: string, client?: SecretsManagerClient): Promise<string> {
  return tokenOfSecretString(await readSecretString(secretId, client));
}

/** The `kubernetes` Service's serving certificate and key (PEM) in a Secrets Manager value: JSON with `tls.crt` and `tls.key`. */
export function serviceTlsOfSecretString(value: string): { cert: string; key: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw new SecretFormatError('the service TLS secret is not JSON');
  }
  const { 'tls.crt': cert, 'tls.key': key } = (doc ?? {}) as Record<string, unknown>;
  if (typeof cert !== 'string' || !cert.includes('BEGIN CERTIFICATE')) throw new SecretFormatError('the service TLS secret has no PEM "tls.crt"');
  if (typeof key !== 'string' || !key.includes('PRIVATE KEY')) throw new SecretFormatError('the service TLS secret has no PEM "tls.key"');
  return { cert, key };
}
