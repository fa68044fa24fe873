/** kube's rule matching and coverage (pure logic): verbs, groups, resources with `*` and subresources, names, URLs. */
import { describe, expect, it } from 'vitest';
import { compactRules, compactString, covers, ruleAllows } from '#lib/kinds/rbac/rules';

describe('ruleAllows', () => {
  const pods = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] };
  it('matches verbs, groups, resources and subresources exactly or by *', () => {
    expect(ruleAllows(pods, { verb: 'get', apiGroup: '', resource: 'pods' })).toBe(true);
    expect(ruleAllows(pods, { verb: 'get', apiGroup: '', resource: 'pods', subresource: 'log' })).toBe(true);
    expect(ruleAllows(pods, { verb: 'get', apiGroup: '', resource: 'pods', subresource: 'exec' })).toBe(false);
    expect(ruleAllows(pods, { verb: 'delete', apiGroup: '', resource: 'pods' })).toBe(false);
    expect(ruleAllows(pods, { verb: 'get', apiGroup: 'apps', resource: 'pods' })).toBe(false);
    const status = { verbs: ['*'], apiGroups: ['*'], resources: ['*/status'] };
    expect(ruleAllows(status, { verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: 'status' })).toBe(true);
    expect(ruleAllows(status, { verb: 'patch', apiGroup: 'apps', resource: 'deployments' })).toBe(false);
  });

  it('limits by resourceNames (a list or create names none, so it does not match)', () => {
    const one = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
    expect(ruleAllows(one, { verb: 'get', apiGroup: '', resource: 'configmaps', name: 'a' })).toBe(true);
    expect(ruleAllows(one, { verb: 'get', apiGroup: '', resource: 'configmaps', name: 'b' })).toBe(false);
    expect(ruleAllows(one, { verb: 'list', apiGroup: '', resource: 'configmaps' })).toBe(false);
  });

  it('matches non-resource URLs exactly or by a trailing *', () => {
    const urls = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(ruleAllows(urls, { verb: 'get', path: '/healthz' })).toBe(true);
    expect(ruleAllows(urls, { verb: 'get', path: '/apis/apps/v1' })).toBe(true);
    expect(ruleAllows(urls, { verb: 'get', path: '/metrics' })).toBe(false);
    expect(ruleAllows(urls, { verb: 'post', path: '/healthz' })).toBe(false);
  });
});

describe('covers', () => {
  it("finds what the owner lacks, broken down per verb, and prints it as kube's escalation message does", () => {
    const owner = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] }];
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'nodes/status'] }]).covered).toBe(true);
    const { covered, missing } = covers(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] }]);
    expect(covered).toBe(false);
    expect(compactRules(missing).map(compactString).sort()).toEqual([
      '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}',
    ]);
  });

  it('holds names: an owner limited to names covers only those names', () => {
    const owner = [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }];
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }]).covered).toBe(true);
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).covered).toBe(false);
  });
});
