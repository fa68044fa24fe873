/**
 * How the reviews report an authorizer's answers, whatever the authorizer
 * (lib/kinds/*review.ts): a server without one (kube's AlwaysAllow), one
 * that cannot list its rules, and one that lists them, here as small
 * stand-ins behind the real HTTP API; the token and RBAC authorizers'
 * answers are in test/auth/review-cases.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer, ResourceAttributes } from '#lib/api/request';
import { startApi, type TestApi } from './harness.js';

const AUTHZ = '/apis/authorization.k8s.io/v1';
const rulesReview = (namespace: string) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } });
const sar = (resourceAttributes: Partial<ResourceAttributes> & { group?: string }) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user: 'jane', groups: ['devs'], resourceAttributes },
});

/** Allows `get` and creating the reviews themselves; refuses the rest with a reason; records what a review asked. */
function getOnly(): Authorizer & { asked: ResourceAttributes[] } {
  const asked: ResourceAttributes[] = [];
  return {
    asked,
    async authorize(_user, a) {
      if (a.apiGroup === 'authorization.k8s.io' && a.verb === 'create') return undefined;
      asked.push(a);
      return a.verb === 'get' ? undefined : `only get, not ${a.verb}`;
    },
  };
}

describe('reviews without an authorizer (everything allowed)', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(async () => {
    await t.close();
  });

  it('allows every access review and lists every verb on everything', async () => {
    expect((await t.post(`${AUTHZ}/subjectaccessreviews`, sar({ verb: 'delete', resource: 'nodes' }))).body.status).toEqual({ allowed: true });
    const rules = await t.post(`${AUTHZ}/selfsubjectrulesreviews`, rulesReview('default'));
    expect(rules.status).toBe(201);
    expect(rules.body).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: {},
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      },
    });
  });
});

describe('reviews with an authorizer that cannot list its rules', () => {
  let t: TestApi;
  const authorizer = getOnly();
  beforeAll(async () => {
    t = await startApi({ authorizer });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers allowed, or not with the reason, asking by name with the served kind beside it', async () => {
    expect((await t.post(`${AUTHZ}/subjectaccessreviews`, sar({ verb: 'get', resource: 'pods', namespace: 'ns' }))).body.status).toEqual({ allowed: true });
    const refused = await t.post(`${AUTHZ}/subjectaccessreviews`, sar({ verb: 'list', group: 'example.com', resource: 'gadgets' }));
    expect(refused.body.status).toEqual({ allowed: false, reason: 'only get, not list' });
    expect(authorizer.asked[0]).toMatchObject({ verb: 'get', apiGroup: '', resource: 'pods', namespace: 'ns', type: { kind: 'Pod' } });
    expect(authorizer.asked[1]).toEqual({ verb: 'list', apiGroup: 'example.com', resource: 'gadgets' });
    // No non-resource URL is authorized by an authorizer that cannot judge one, as the server answers them.
    const path = await t.post(`${AUTHZ}/subjectaccessreviews`, {
      ...sar({}),
      spec: { user: 'jane', nonResourceAttributes: { verb: 'get', path: '/healthz' } },
    });
    expect(path.body.status).toEqual({ allowed: false, reason: 'no non-resource URL is authorized' });
  });

  it('answers a rules review with no rules, incomplete, saying why', async () => {
    const rules = await t.post(`${AUTHZ}/selfsubjectrulesreviews`, rulesReview('default'));
    expect(rules.body.status).toEqual({
      resourceRules: [],
      nonResourceRules: [],
      incomplete: true,
      evaluationError: 'the authorizer does not support user rule resolution',
    });
  });
});

describe('reviews with an authorizer that lists its rules', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi({
      authorizer: {
        ...getOnly(),
        async rulesFor(user, namespace) {
          return {
            resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: [`${user.name}-${namespace}`] }],
            nonResourceRules: [],
            incomplete: false,
          };
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it("answers a rules review with the caller's rules in the namespace asked", async () => {
    const rules = await t.post(`${AUTHZ}/selfsubjectrulesreviews`, rulesReview('team'));
    expect(rules.body.status).toEqual({
      resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['kumo-admin-team'] }],
      nonResourceRules: [],
      incomplete: false,
    });
  });
});
