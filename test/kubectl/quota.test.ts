/**
 * ResourceQuota and LimitRange with the real kubectl on `kumo up`'s control
 * plane (the quota controller keeps status): kubectl's columns and
 * describers, kube's admission messages as kubectl prints them, a
 * ReplicaSet held back by a quota, LimitRange defaults on a created pod.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite();
const { ok, refused } = k;

function pod(name: string, resources = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: app\n    image: busybox\n${resources}`;
}

const sized = (cpu: string, memory: string) =>
  `    resources:\n      requests: {cpu: "${cpu}", memory: "${memory}"}\n      limits: {cpu: "${cpu}", memory: "${memory}"}\n`;

/** The quota's status.used once the controller has counted it (every hard name present). */
async function counted(ns: string, name: string): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const q = JSON.parse(await ok(['get', 'quota', name, '-n', ns, '-o', 'json']));
      const hard = Object.keys(q.status?.hard ?? {});
      return hard.length > 0 && hard.every((h) => q.status.used?.[h] !== undefined) ? (q.status.used as Record<string, string>) : undefined;
    },
    { what: `quota ${ns}/${name} counted` },
  );
}

describe('ResourceQuota with kubectl', () => {
  it('creates a quota, shows its usage in kubectl get and describe, and refuses a pod over it', async () => {
    await ok(['create', 'namespace', 'team']);
    expect(await ok(['create', 'quota', 'compute', '-n', 'team', '--hard=pods=2,requests.cpu=1,requests.memory=1Gi,limits.cpu=2'])).toBe(
      'resourcequota/compute created\n',
    );
    expect(await counted('team', 'compute')).toEqual({ pods: '0', 'requests.cpu': '0', 'requests.memory': '0', 'limits.cpu': '0' });
    await ok(['create', '-n', 'team', '-f', '-'], pod('small', sized('500m', '256Mi')));
    await waitFor(async () => (await counted('team', 'compute')).pods === '1', { what: 'the pod charged' });

    const table = rows(await ok(['get', 'quota', '-n', 'team']));
    expect(table).toEqual([
      ['NAME', 'AGE', 'REQUEST', 'LIMIT'],
      ['compute', expect.any(String), 'pods: 1/2, requests.cpu: 500m/1, requests.memory: 256Mi/1Gi', 'limits.cpu: 500m/2'],
    ]);
    const described = await ok(['describe', 'quota', 'compute', '-n', 'team']);
    expect(described).toMatch(/^Name:\s+compute$/m);
    expect(described).toMatch(/^Resource\s+Used\s+Hard$/m);
    expect(described).toMatch(/^limits\.cpu\s+500m\s+2$/m);
    expect(described).toMatch(/^requests\.memory\s+256Mi\s+1Gi$/m);

    expect(await refused(['create', '-n', 'team', '-f', '-'], pod('large', sized('800m', '256Mi')))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "large" is forbidden: exceeded quota: compute, requested: requests.cpu=800m, used: requests.cpu=500m, limited: requests.cpu=1',
    );
    expect(await refused(['create', '-n', 'team', '-f', '-'], pod('unsized'))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "unsized" is forbidden: failed quota: compute: must specify limits.cpu for: app; requests.cpu for: app; requests.memory for: app',
    );
    expect(await k.kubectl(['get', 'pod', 'large', '-n', 'team'])).toMatchObject({ code: 1 });
  });

  it('stops a Deployment’s ReplicaSet at the quota with a FailedCreate event, and frees a finished pod’s share', async () => {
    await ok(['create', 'namespace', 'capped']);
    await ok(['create', 'quota', 'two-pods', '-n', 'capped', '--hard=pods=2']);
    await counted('capped', 'two-pods');
    await ok(['create', 'deployment', 'web', '-n', 'capped', '--image=busybox', '--replicas=3']);
    const event = await waitFor(
      async () => {
        const out = await ok(['get', 'events', '-n', 'capped', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[0].message}']);
        return out !== '' ? out : undefined;
      },
      { what: 'a FailedCreate event', timeoutMs: 20_000 },
    );
    expect(event).toMatch(
      /^Error creating: pods "web-[a-z0-9]+-[a-z0-9]*" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2$/,
    );
    expect(rows(await ok(['get', 'pods', '-n', 'capped', '--no-headers']))).toHaveLength(2);

    // A pod in a terminal phase no longer counts: the controller recounts, and the ReplicaSet's next try fits.
    const [first] = rows(await ok(['get', 'pods', '-n', 'capped', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name']));
    await ok(['patch', 'pod', first![0]!, '-n', 'capped', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Succeeded"}}']);
    await waitFor(async () => rows(await ok(['get', 'pods', '-n', 'capped', '--no-headers'])).length === 3, { what: 'a replacement pod', timeoutMs: 20_000 });
    expect(await counted('capped', 'two-pods')).toEqual({ pods: '2' });
    expect(JSON.parse(await ok(['get', 'quota', 'two-pods', '-n', 'capped', '-o', 'json'])).status.hard).toEqual({ pods: '2' });
  });

  it('is explained and applied server-side from its Kubernetes type', async () => {
    expect(await ok(['explain', 'resourcequota.spec.hard'])).toContain('hard is the set of desired hard limits for each named resource.');
    const applied = 'apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: applied\nspec:\n  hard: {configmaps: "5"}\n';
    expect(await ok(['apply', '--server-side', '-f', '-'], applied)).toBe('resourcequota/applied serverside-applied\n');
    expect(await counted('default', 'applied')).toEqual({ configmaps: expect.any(String) });
  });

  it('refuses an invalid quota with kube’s message', async () => {
    expect(await refused(['create', 'quota', 'bad', '--hard=pods=-1'])).toBe(
      'error: failed to create quota: ResourceQuota "bad" is invalid: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
    );
  });
});

describe('LimitRange with kubectl', () => {
  it('shows its columns and describer, gives a pod its defaults, and refuses one over its max', async () => {
    await ok(['create', 'namespace', 'limited']);
    const limits = [
      'apiVersion: v1',
      'kind: LimitRange',
      'metadata:',
      '  name: defaults',
      'spec:',
      '  limits:',
      '  - type: Container',
      '    default: {cpu: 500m, memory: 256Mi}',
      '    defaultRequest: {cpu: 250m, memory: 128Mi}',
      '    max: {cpu: "1"}',
      '',
    ].join('\n');
    await ok(['create', '-n', 'limited', '-f', '-'], limits);
    const table = rows(await ok(['get', 'limits', '-n', 'limited']));
    expect(table[0]).toEqual(['NAME', 'CREATED AT']);
    expect(table[1]).toEqual(['defaults', expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)]);
    const described = await ok(['describe', 'limits', 'defaults', '-n', 'limited']);
    expect(described).toMatch(/^Type\s+Resource\s+Min\s+Max\s+Default Request\s+Default Limit\s+Max Limit\/Request Ratio$/m);
    expect(described).toMatch(/^Container\s+cpu\s+-\s+1\s+250m\s+500m\s+-$/m);

    await ok(['run', 'plain', '-n', 'limited', '--image=busybox']);
    const created = JSON.parse(await ok(['get', 'pod', 'plain', '-n', 'limited', '-o', 'json']));
    expect(created.spec.containers[0].resources).toEqual({ requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(created.metadata.annotations['kubernetes.io/limit-ranger']).toBe(
      'LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain',
    );

    expect(await refused(['create', '-n', 'limited', '-f', '-'], pod('greedy', '    resources:\n      limits: {cpu: "2"}\n'))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "greedy" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
  });
});
