/**
 * The access reviews (TokenReview, SelfSubjectReview, SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectAccessReview,
 * SelfSubjectRulesReview) and impersonation, asserted through the API
 * (status code and body): written once and run in-process (test/auth) and
 * on the deployed API bundle on the emulator (test/cloud), against kumo's
 * token authorizer (admin, view, namespaced tokens).
 */
import { waitFor } from '../helpers/wait.js';
import { describe, expect, it } from 'vitest';
import { issuedToken, mintToken, type Grant } from '#lib/auth/tokens';
import type { AuthTarget, Wire } from './cases.js';

const AUTHN = '/apis/authentication.k8s.io/v1';
const AUTHZ = '/apis/authorization.k8s.io/v1';
const TOKENS = '/api/v1/namespaces/kumo-system/secrets';

export function reviewCases(label: string, target: () => AuthTarget): void {
  const t = () => target();
  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${seq++}`;

  async function ok(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<Wire> {
    const r = await t().send(method, path, { token, body, ...(headers ? { headers } : {}) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async function token(grant: Grant): Promise<string> {
    const minted = mintToken(grant);
    return issuedToken(minted, await ok('POST', TOKENS, t().adminToken, minted.secret));
  }

  function expectStatus(r: { status: number; body: Wire }, code: number, reason: string, message?: string | RegExp): void {
    expect(r.status, JSON.stringify(r.body)).toBe(code);
    expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
    if (typeof message === 'string') expect(r.body.message).toBe(message);
    else if (message) expect(r.body.message).toMatch(message);
  }

  const selfReview = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} };
  const ssar = (resourceAttributes: Wire) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } });
  const sar = (spec: Wire) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
  const tokenReview = (spec: Wire) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec });

  describe(`access reviews and impersonation (${label})`, () => {
    it('answers a SelfSubjectReview with the caller, for every token', async () => {
      const admin = await t().send('POST', `${AUTHN}/selfsubjectreviews`, { token: t().adminToken, body: selfReview });
      expect(admin.status, JSON.stringify(admin.body)).toBe(201);
      expect(admin.body).toMatchObject({ kind: 'SelfSubjectReview', status: { userInfo: { groups: ['system:masters', 'system:authenticated'] } } });
      expect(admin.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const view = await token({ role: 'view' });
      const [id] = view.split('.');
      const mine = await ok('POST', `${AUTHN}/selfsubjectreviews`, view, selfReview);
      // Its groups are the authorizer's business; the user, its token id and system:authenticated are the authenticator's.
      expect(mine.status.userInfo).toMatchObject({ username: `kumo:token:${id}`, extra: { 'kumo.dev/token-id': [id] } });
      expect(mine.status.userInfo.groups).toContain('system:authenticated');
    });

    it('answers SelfSubjectAccessReviews by the authorizer: a view token may list pods, not create them, and never read secrets', async () => {
      const view = await token({ role: 'view' });
      const list = await t().send('POST', `${AUTHZ}/selfsubjectaccessreviews`, {
        token: view,
        body: ssar({ verb: 'list', resource: 'pods', namespace: 'default' }),
      });
      expect(list.status, JSON.stringify(list.body)).toBe(201);
      expect(list.body).toMatchObject({
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'list', resource: 'pods' } },
        status: { allowed: true },
      });
      const create = await ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, view, ssar({ verb: 'create', resource: 'pods', namespace: 'default' }));
      // The reason is the authorizer's own (the token rules give one, RBAC none): the decision is what is asserted.
      expect(create.status.allowed).toBe(false);
      const secrets = await ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, view, ssar({ verb: 'get', resource: 'secrets', namespace: 'default' }));
      expect(secrets.status.allowed).toBe(false);
      // A resource this server does not serve is judged by name: view's rules do not name it, a binding that does grants it.
      const unserved = () => ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, view, ssar({ verb: 'list', group: 'example.com', resource: 'gadgets' }));
      expect((await unserved()).status.allowed).toBe(false);
      const user = `kumo:token:${view.split('.')[0]!}`;
      const gadgets = `gadgets-${view.split('.')[0]!}`;
      const rbac = '/apis/rbac.authorization.k8s.io/v1';
      const made = await t().send('POST', `${rbac}/clusterroles`, {
        token: t().adminToken,
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: gadgets },
          rules: [{ apiGroups: ['example.com'], resources: ['gadgets'], verbs: ['list'] }],
        },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const bound = await t().send('POST', `${rbac}/clusterrolebindings`, {
        token: t().adminToken,
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: gadgets },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: gadgets },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
      // The cloud's RBAC view may be a few seconds old in another container: ask until it is current.
      await waitFor(async () => (await unserved()).status.allowed === true, { timeoutMs: 15_000, what: 'the binding to grant gadgets' });
      const admin = await ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, t().adminToken, ssar({ verb: 'delete', resource: 'nodes' }));
      expect(admin.status).toEqual({ allowed: true });
      const nonResource = await ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, view, {
        ...ssar(undefined),
        spec: { nonResourceAttributes: { verb: 'get', path: '/metrics' } },
      });
      expect(nonResource.status).toEqual({ allowed: true });
    });

    it("answers SubjectAccessReviews about another user's groups, to those who may create them", async () => {
      const asViewer = await ok(
        'POST',
        `${AUTHZ}/subjectaccessreviews`,
        t().adminToken,
        sar({ user: 'jane', groups: ['kumo:viewers'], resourceAttributes: { verb: 'watch', resource: 'deployments', group: 'apps' } }),
      );
      expect(asViewer.status).toEqual({ allowed: true });
      const nobody = await ok(
        'POST',
        `${AUTHZ}/subjectaccessreviews`,
        t().adminToken,
        sar({ user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods' } }),
      );
      expect(nobody.status.allowed).toBe(false);
      const view = await token({ role: 'view' });
      expectStatus(
        await t().send('POST', `${AUTHZ}/subjectaccessreviews`, {
          token: view,
          body: sar({ user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods' } }),
        }),
        403,
        'Forbidden',
        /^subjectaccessreviews\.authorization\.k8s\.io is forbidden: User "kumo:token:\w+" cannot create resource "subjectaccessreviews" in API group "authorization\.k8s\.io" at the cluster scope/,
      );
    });

    it("refuses a review that asks nothing or about no one with kube's messages, and serves no verb but create", async () => {
      const empty = await t().send('POST', `${AUTHZ}/subjectaccessreviews`, { token: t().adminToken, body: sar({}) });
      expectStatus(
        empty,
        422,
        'Invalid',
        'SubjectAccessReview.authorization.k8s.io "" is invalid: [spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: "": at least one of user or group must be specified]',
      );
      expect(empty.body.details.causes.map((c: Wire) => c.field)).toEqual(['spec.resourceAttributes', 'spec.user']);
      const both = await t().send('POST', `${AUTHZ}/selfsubjectaccessreviews`, {
        token: t().adminToken,
        body: {
          ...ssar({ verb: 'get', resource: 'pods' }),
          spec: { resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { verb: 'get', path: '/x' } },
        },
      });
      expectStatus(
        both,
        422,
        'Invalid',
        /spec\.nonResourceAttributes: Invalid value: authorization\.NonResourceAttributes\{Path:"\/x", Verb:"get"\}: cannot be specified in combination with resourceAttributes/,
      );
      const named = await t().send('POST', `${AUTHZ}/selfsubjectaccessreviews`, {
        token: t().adminToken,
        body: { ...ssar({ verb: 'get', resource: 'pods' }), metadata: { name: 'x' } },
      });
      expectStatus(named, 422, 'Invalid', /metadata: Invalid value: .*: must be empty/);
      expectStatus(
        await t().send('POST', `${AUTHZ}/selfsubjectrulesreviews`, {
          token: t().adminToken,
          body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: {} },
        }),
        400,
        'BadRequest',
        'no namespace on request',
      );
      expectStatus(
        await t().send('POST', `${AUTHN}/tokenreviews`, { token: t().adminToken, body: tokenReview({}) }),
        400,
        'BadRequest',
        'token is required for TokenReview in authentication',
      );
      // Nothing is kept: no read, list, update or delete.
      for (const [method, path] of [
        ['GET', `${AUTHZ}/subjectaccessreviews`],
        ['GET', `${AUTHN}/tokenreviews/x`],
        ['DELETE', `${AUTHZ}/selfsubjectaccessreviews/x`],
        ['PUT', `${AUTHZ}/namespaces/default/localsubjectaccessreviews/x`],
      ] as const) {
        expectStatus(await t().send(method, path, { token: t().adminToken, ...(method === 'PUT' ? { body: sar({}) } : {}) }), 405, 'MethodNotAllowed');
      }
      const discovery = await ok('GET', AUTHZ, t().adminToken);
      expect(discovery.resources.find((r: Wire) => r.name === 'localsubjectaccessreviews')).toMatchObject({ namespaced: true, verbs: ['create'] });
      expect(discovery.resources.find((r: Wire) => r.name === 'subjectaccessreviews')).toMatchObject({ namespaced: false, verbs: ['create'] });
    });

    it('answers LocalSubjectAccessReviews in their namespace only, to its admin too', async () => {
      const ns = unique('lsar');
      await ok('POST', '/api/v1/namespaces', t().adminToken, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const admin = await token({ role: 'admin', namespace: ns });
      const lsar = (namespace: string, metadata: Wire = {}) => ({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'LocalSubjectAccessReview',
        metadata,
        spec: { groups: ['kumo:viewers'], resourceAttributes: { verb: 'list', resource: 'configmaps', namespace } },
      });
      const local = await t().send('POST', `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`, { token: admin, body: lsar(ns) });
      expect(local.status, JSON.stringify(local.body)).toBe(201);
      expect(local.body).toMatchObject({ metadata: { namespace: ns }, status: { allowed: true } });
      expectStatus(
        await t().send('POST', `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`, { token: admin, body: lsar('default') }),
        422,
        'Invalid',
        'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "default": must match metadata.namespace',
      );
      expectStatus(
        await t().send('POST', `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`, { token: admin, body: lsar('default', { namespace: 'default' }) }),
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
      expectStatus(
        await t().send('POST', `${AUTHZ}/namespaces/default/localsubjectaccessreviews`, { token: admin, body: lsar('default') }),
        403,
        'Forbidden',
        /cannot create resource "localsubjectaccessreviews" in API group "authorization\.k8s\.io" in the namespace "default"/,
      );
    });

    it('answers a SelfSubjectRulesReview with what the authorizer lists (incomplete when it cannot: test/apiserver/reviews.test.ts)', async () => {
      const view = await token({ role: 'view' });
      const rules = await t().send('POST', `${AUTHZ}/selfsubjectrulesreviews`, {
        token: view,
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } },
      });
      expect(rules.status, JSON.stringify(rules.body)).toBe(201);
      expect(rules.body).toMatchObject({ kind: 'SelfSubjectRulesReview', spec: {} });
      expect(rules.body.status).toMatchObject({ resourceRules: expect.any(Array), nonResourceRules: expect.any(Array), incomplete: expect.any(Boolean) });
    });

    it('reviews tokens with the server authenticator: valid, forged, expired, unknown and for another audience', async () => {
      const view = await token({ role: 'view' });
      const [id, secret, mac] = view.split('.') as [string, string, string];
      const valid = await t().send('POST', `${AUTHN}/tokenreviews`, { token: t().adminToken, body: tokenReview({ token: view }) });
      expect(valid.status, JSON.stringify(valid.body)).toBe(201);
      expect(valid.body.status).toMatchObject({
        authenticated: true,
        user: { username: `kumo:token:${id}`, extra: { 'kumo.dev/token-id': [id] } },
        audiences: ['https://kubernetes.default.svc.cluster.local'],
      });
      expect(valid.body.status.user.groups).toContain('system:authenticated');
      expect(valid.body.spec.token).toBe(view);
      const forged = `${id}.${secret}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
      const expired = await token({ role: 'admin', expiresAt: '2020-01-01T00:00:00Z' });
      for (const refused of [forged, expired, 'not-a-token', `nosuchid0.${'y'.repeat(43)}.${'z'.repeat(22)}`]) {
        const r = await ok('POST', `${AUTHN}/tokenreviews`, t().adminToken, tokenReview({ token: refused }));
        expect(r.status, refused).toEqual({});
      }
      const elsewhere = await ok('POST', `${AUTHN}/tokenreviews`, t().adminToken, tokenReview({ token: view, audiences: ['vault'] }));
      expect(elsewhere.status).toEqual({});
      const both = await ok(
        'POST',
        `${AUTHN}/tokenreviews`,
        t().adminToken,
        tokenReview({ token: view, audiences: ['vault', 'https://kubernetes.default.svc.cluster.local'] }),
      );
      expect(both.status).toMatchObject({ authenticated: true, audiences: ['https://kubernetes.default.svc.cluster.local'] });
      // Reviewing tokens takes `create tokenreviews`, which a viewer lacks.
      expectStatus(
        await t().send('POST', `${AUTHN}/tokenreviews`, { token: view, body: tokenReview({ token: view }) }),
        403,
        'Forbidden',
        /cannot create resource "tokenreviews"/,
      );
    });

    it('lets a cluster admin impersonate a ServiceAccount, a user and groups, with their rights and not its own', async () => {
      const sa = await ok('POST', `${AUTHN}/selfsubjectreviews`, t().adminToken, selfReview, { 'impersonate-user': 'system:serviceaccount:team:robot' });
      expect(sa.status.userInfo).toEqual({
        username: 'system:serviceaccount:team:robot',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
      });
      const user = await ok('POST', `${AUTHN}/selfsubjectreviews`, t().adminToken, selfReview, {
        'impersonate-user': 'jane',
        'impersonate-group': 'kumo:viewers, devs',
        'impersonate-uid': 'u-1',
        'impersonate-extra-scopes': 'a, b',
      });
      expect(user.status.userInfo).toEqual({
        username: 'jane',
        uid: 'u-1',
        groups: ['kumo:viewers', 'devs', 'system:authenticated'],
        extra: { scopes: ['a', 'b'] },
      });
      // As the viewer it impersonates, the admin may read but not write: the 403 names the impersonated user.
      const as = { 'impersonate-user': 'jane', 'impersonate-group': 'kumo:viewers' };
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: unique('cm') } };
      expect((await t().send('GET', '/api/v1/namespaces/default/configmaps', { token: t().adminToken, headers: as })).status).toBe(200);
      expectStatus(
        await t().send('POST', '/api/v1/namespaces/default/configmaps', { token: t().adminToken, body: cm, headers: as }),
        403,
        'Forbidden',
        /^configmaps is forbidden: User "jane" cannot create resource "configmaps" in API group "" in the namespace "default"/,
      );
      expect((await t().send('GET', `/api/v1/namespaces/default/configmaps/${cm.metadata.name}`, { token: t().adminToken })).status).toBe(404);
      const canI = await ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, t().adminToken, ssar({ verb: 'list', resource: 'secrets', namespace: 'team' }), {
        'impersonate-user': 'system:serviceaccount:team:robot',
      });
      expect(canI.status.allowed).toBe(false);
      // The self reviews are for authenticated users (kube's system:basic-user): not for system:anonymous.
      expectStatus(
        await t().send('POST', `${AUTHN}/selfsubjectreviews`, { token: t().adminToken, body: selfReview, headers: { 'impersonate-user': 'system:anonymous' } }),
        403,
        'Forbidden',
        /^selfsubjectreviews\.authentication\.k8s\.io is forbidden: User "system:anonymous" cannot create resource "selfsubjectreviews"/,
      );
    });

    it("refuses impersonation the caller may not do with kube's 403, and groups without a user with 400", async () => {
      const view = await token({ role: 'view' });
      const [id] = view.split('.');
      const asUser = await t().send('GET', '/api/v1/namespaces/default/pods', { token: view, headers: { 'impersonate-user': 'kumo-admin' } });
      expectStatus(
        asUser,
        403,
        'Forbidden',
        new RegExp(`^users "kumo-admin" is forbidden: User "kumo:token:${id}" cannot impersonate resource "users" in API group "" at the cluster scope`),
      );
      expect(asUser.body.details).toEqual({ name: 'kumo-admin', kind: 'users' });
      const ns = unique('imp');
      await ok('POST', '/api/v1/namespaces', t().adminToken, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const nsAdmin = await token({ role: 'admin', namespace: ns });
      // A namespace's admin may act as its ServiceAccounts (kube's admin role), not as those of another namespace or as a group.
      const own = await ok('POST', `${AUTHN}/selfsubjectreviews`, nsAdmin, selfReview, { 'impersonate-user': `system:serviceaccount:${ns}:robot` });
      expect(own.status.userInfo.username).toBe(`system:serviceaccount:${ns}:robot`);
      expectStatus(
        await t().send('GET', '/api/v1/namespaces/default/pods', { token: nsAdmin, headers: { 'impersonate-user': 'system:serviceaccount:default:robot' } }),
        403,
        'Forbidden',
        /^serviceaccounts "robot" is forbidden: User "kumo:token:\w+" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"/,
      );
      expectStatus(
        await t().send('GET', `/api/v1/namespaces/${ns}/pods`, {
          token: nsAdmin,
          headers: { 'impersonate-user': `system:serviceaccount:${ns}:robot`, 'impersonate-group': 'system:masters' },
        }),
        403,
        'Forbidden',
        /^groups "system:masters" is forbidden: User "kumo:token:\w+" cannot impersonate resource "groups" in API group "" at the cluster scope/,
      );
      expectStatus(
        await t().send('GET', `/api/v1/namespaces/${ns}/pods`, { token: nsAdmin, headers: { 'impersonate-extra-scopes': 'x' } }),
        400,
        'BadRequest',
        'requested [{UserExtra  x  authentication.k8s.io/v1  scopes}] without impersonating a user',
      );
      expectStatus(
        await t().send('GET', `/api/v1/namespaces/${ns}/pods`, { token: view, headers: { 'impersonate-user': 'jane', 'impersonate-extra-scopes': 'x' } }),
        403,
        'Forbidden',
        /^users "jane" is forbidden/,
      );
    });
  });
}
