/**
 * Bearer tokens known in advance (Kubernetes' static token file): what
 * `kumo up --tls` uses for the kubeconfig it writes. Authentication proper
 * (service accounts, cloud identities) plugs into the same Authenticator
 * hook.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Authenticator } from '../api/request.js';
import type { ApiRequest, UserInfo } from '../api/request.js';

export class StaticTokenAuthenticator implements Authenticator {
  private readonly tokens: readonly { token: Buffer; user: UserInfo }[];

  constructor(tokens: ReadonlyMap<string, UserInfo>) {
    this.tokens = [...tokens].map(([token, user]) => ({ token: Buffer.from(token, 'utf8'), user }));
  }

  async authenticate(req: ApiRequest): Promise<UserInfo | undefined> {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const given = Buffer.from(m[1]!, 'utf8');
    // Compare against every token in constant time per token, so timing does not tell which prefix matched.
    let found: UserInfo | undefined;
    for (const { token, user } of this.tokens) {
      if (token.length === given.length && timingSafeEqual(token, given)) found = user;
    }
    return found;
  }
}
