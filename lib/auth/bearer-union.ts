/**
 * kube's union authenticator for bearer tokens: a token that is a JWT goes
 * to the ServiceAccount token authenticator alone, any other to kumo's
 * token authenticators (stored and static tokens), the first that knows
 * the caller wins. A request without a bearer token authenticates nobody.
 */
import type { ApiRequest, Authenticator, UserInfo } from '../api/request.js';
import { bearerToken, type ServiceAccountTokenAuthenticator } from './serviceaccount/authenticator.js';

export class BearerTokenUnion implements Authenticator {
  constructor(
    private readonly serviceAccounts: ServiceAccountTokenAuthenticator,
    private readonly others: readonly Authenticator[],
  ) {}

  async authenticate(req: ApiRequest): Promise<UserInfo | undefined> {
    const token = bearerToken(req);
    if (token === undefined) return undefined;
    if (this.serviceAccounts.handles(token)) return this.serviceAccounts.authenticate(req);
    for (const a of this.others) {
      const user = await a.authenticate(req);
      if (user) return user;
    }
    return undefined;
  }
}
