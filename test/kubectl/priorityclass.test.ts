/**
 * PriorityClass with the real kubectl: the system classes a cluster starts
 * with, kubectl's columns, kube's validation and Priority admission.
 */
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite();
const { ok, refused } = k;

function priorityClass(name: string, value: number, extra = ''): string {
  return `apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: ${name}\nvalue: ${value}\n${extra}`;
}

function pod(name: string, spec = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: busybox\n${spec}`;
}

describe('PriorityClass', () => {
  it('starts with the two system classes, in kubectl get priorityclass columns', async () => {
    const table = rows(await ok(['get', 'priorityclass']));
    expect(table[0]).toEqual(['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    const byName = new Map(table.slice(1).map((r) => [r[0], r]));
    expect(byName.get('system-cluster-critical')).toEqual(['system-cluster-critical', '2000000000', 'false', expect.any(String), 'PreemptLowerPriority']);
    expect(byName.get('system-node-critical')).toEqual(['system-node-critical', '2000001000', 'false', expect.any(String), 'PreemptLowerPriority']);
  });

  it('is explained and applied server-side from its Kubernetes type', async () => {
    expect(await ok(['explain', 'priorityclass.value'])).toContain('value represents the integer value of this priority class.');
    expect(await ok(['apply', '--server-side', '-f', '-'], priorityClass('applied', 7))).toBe('priorityclass.scheduling.k8s.io/applied serverside-applied\n');
    expect(rows(await ok(['get', 'pc', 'applied', '--no-headers']))[0]!.slice(0, 3)).toEqual(['applied', '7', 'false']);
  });

  it('refuses to delete or change a system class', async () => {
    expect(await refused(['delete', 'pc', 'system-node-critical'])).toBe(
      'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted',
    );
    expect(await refused(['patch', 'pc', 'system-cluster-critical', '--type=merge', '-p', '{"value":5}'])).toContain(
      'value: Forbidden: may not be changed in an update.',
    );
    expect(await refused(['create', '-f', '-'], priorityClass('system-mine', 5))).toContain(
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    );
    expect(rows(await ok(['get', 'pc', 'system-node-critical', '--no-headers']))[0]![1]).toBe('2000001000');
  });

  it('refuses a user class above 1000000000, and a second global default', async () => {
    expect(await refused(['create', '-f', '-'], priorityClass('too-high', 1_000_000_001))).toBe(
      'The PriorityClass "too-high" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    );
    await ok(['create', '-f', '-'], priorityClass('everyday', 1000, 'globalDefault: true\ndescription: the default\n'));
    expect(await refused(['create', '-f', '-'], priorityClass('another', 10, 'globalDefault: true\n'))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": priorityclasses.scheduling.k8s.io "another" is forbidden: PriorityClass everyday is already marked as default. Only one default can exist',
    );
    expect(await k.kubectl(['get', 'pc', 'another'])).toMatchObject({ code: 1 });
    const described = await ok(['describe', 'pc', 'everyday']);
    expect(described).toMatch(/^Value:\s+1000$/m);
    expect(described).toMatch(/^GlobalDefault:\s+true$/m);
    expect(described).toMatch(/^Description:\s+the default$/m);
  });

  it('gives pods their class priority (Priority admission), the global default without one, and refuses an unknown class', async () => {
    await ok(['create', 'namespace', 'prio']);
    await ok(['create', '-n', 'prio', '-f', '-'], priorityClass('batch-low', 10, 'preemptionPolicy: Never\n'));
    await ok(['create', '-n', 'prio', '-f', '-'], pod('classed', '  priorityClassName: batch-low\n'));
    await ok(['create', '-n', 'prio', '-f', '-'], pod('critical', '  priorityClassName: system-node-critical\n'));
    await ok(['create', '-n', 'prio', '-f', '-'], pod('plain'));
    const spec = async (name: string) => JSON.parse(await ok(['get', 'pod', name, '-n', 'prio', '-o', 'json'])).spec;
    expect(await spec('classed')).toMatchObject({ priorityClassName: 'batch-low', priority: 10, preemptionPolicy: 'Never' });
    expect(await spec('critical')).toMatchObject({ priority: 2000001000, preemptionPolicy: 'PreemptLowerPriority' });
    expect(await spec('plain')).toMatchObject({ priorityClassName: 'everyday', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });

    expect(await refused(['create', '-n', 'prio', '-f', '-'], pod('lost', '  priorityClassName: nowhere\n'))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "lost" is forbidden: no PriorityClass with name nowhere was found',
    );
    expect(await refused(['create', '-n', 'prio', '-f', '-'], pod('forged', '  priorityClassName: batch-low\n  priority: 99\n'))).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "forged" is forbidden: the integer value of priority (99) must not be provided in pod spec; priority admission controller computed 10 from the given PriorityClass name',
    );
    expect(await k.kubectl(['get', 'pod', 'lost', '-n', 'prio'])).toMatchObject({ code: 1 });
  });
});
