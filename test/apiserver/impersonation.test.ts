/**
 * The impersonation filter's pure logic (lib/apiserver/impersonation.ts):
 * which headers ask for what, the user built from them, and what the
 * authorizer is asked, with a recording authorizer; the HTTP cases are in
 * test/auth/review-cases.ts.
 */
import { describe, expect, it } from 'vitest';
import { impersonate, impersonationRequests } from '#lib/apiserver/impersonation';
import { StatusError } from '#lib/api/errors';
import type { Authorizer, ResourceAttributes, UserInfo } from '#lib/api/request';

const ADMIN: UserInfo = { name: 'admin', groups: ['system:masters'] };

/** Allows everything but what `refuse` names (`resource/name`), recording each question. */
function recording(refuse: string[] = []): Authorizer & { asked: ResourceAttributes[] } {
  const asked: ResourceAttributes[] = [];
  return {
    asked,
    async authorize(_user, a) {
      asked.push(a);
      return refuse.includes(`${a.resource}/${a.name}`) ? 'not you' : undefined;
    },
  };
}

const request = (headers: Record<string, string>) => ({ method: 'GET', path: '/api/v1/pods', query: new URLSearchParams(), headers });

describe('impersonation', () => {
  it('leaves a request without Impersonate-* headers to its caller, asking the authorizer nothing', async () => {
    const authorizer = recording();
    expect(await impersonate(request({ authorization: 'Bearer x' }), ADMIN, authorizer)).toBe(ADMIN);
    expect(authorizer.asked).toEqual([]);
  });

  it('asks for each part with the impersonate verb, in kube order, and builds the user from them', async () => {
    const authorizer = recording();
    const user = await impersonate(
      request({
        'impersonate-user': 'jane',
        'impersonate-group': 'a,b',
        'impersonate-uid': 'u-1',
        'impersonate-extra-acme.com%2fscopes': 'x, y',
      }),
      ADMIN,
      authorizer,
    );
    expect(user).toEqual({ name: 'jane', uid: 'u-1', groups: ['a', 'b', 'system:authenticated'], extra: { 'acme.com/scopes': 'x,y' } });
    expect(authorizer.asked).toEqual([
      { verb: 'impersonate', apiGroup: '', resource: 'users', name: 'jane' },
      { verb: 'impersonate', apiGroup: '', resource: 'groups', name: 'a' },
      { verb: 'impersonate', apiGroup: '', resource: 'groups', name: 'b' },
      { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: 'acme.com/scopes', name: 'x' },
      { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: 'acme.com/scopes', name: 'y' },
      { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: 'u-1' },
    ]);
  });

  it("checks a ServiceAccount user as serviceaccounts in its namespace, with the ServiceAccount's groups unless groups are named", async () => {
    const authorizer = recording();
    expect(await impersonate(request({ 'impersonate-user': 'system:serviceaccount:ns:sa' }), ADMIN, authorizer)).toEqual({
      name: 'system:serviceaccount:ns:sa',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    });
    expect(authorizer.asked).toEqual([{ verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: 'ns', name: 'sa' }]);
    expect(await impersonate(request({ 'impersonate-user': 'system:serviceaccount:ns:sa', 'impersonate-group': 'g' }), ADMIN, undefined)).toEqual({
      name: 'system:serviceaccount:ns:sa',
      groups: ['g', 'system:authenticated'],
    });
    // Not a ServiceAccount name (an extra colon): a user of that name.
    const odd = recording();
    await impersonate(request({ 'impersonate-user': 'system:serviceaccount:ns:sa:x' }), ADMIN, odd);
    expect(odd.asked[0]).toMatchObject({ resource: 'users', name: 'system:serviceaccount:ns:sa:x' });
  });

  it('adds system:authenticated unless the groups name it or system:unauthenticated; anonymous is unauthenticated', async () => {
    expect((await impersonate(request({ 'impersonate-user': 'x', 'impersonate-group': 'system:unauthenticated' }), ADMIN, undefined)).groups).toEqual([
      'system:unauthenticated',
    ]);
    expect((await impersonate(request({ 'impersonate-user': 'system:anonymous' }), ADMIN, undefined)).groups).toEqual(['system:unauthenticated']);
  });

  it('refuses at the first part not allowed, naming it, and groups, extras or a uid without a user', async () => {
    const err = await impersonate(
      request({ 'impersonate-user': 'jane', 'impersonate-group': 'system:masters' }),
      ADMIN,
      recording(['groups/system:masters']),
    ).catch((e: unknown) => e);
    expect(err instanceof StatusError && err.toStatus()).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'groups "system:masters" is forbidden: User "admin" cannot impersonate resource "groups" in API group "" at the cluster scope: not you',
      details: { name: 'system:masters', kind: 'groups' },
    });
    expect(() => impersonationRequests({ 'impersonate-uid': 'u' })).toThrow('requested [{UID  u  authentication.k8s.io/v1  }] without impersonating a user');
    expect(() => impersonationRequests({ 'impersonate-group': 'g' })).toThrow('requested [{Group  g    }] without impersonating a user');
  });
});
