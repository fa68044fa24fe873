/**
 * The store key of a resource (lib/api/store-key.ts): the built-in kinds
 * keep the keys their data was written under, every other resource is
 * qualified by its group, and no two resources share a key.
 */
import { describe, expect, it } from 'vitest';
import { compileFieldSelector, FieldSelectorError, parseFieldSelector, pinnedNodeName } from '#lib/api/fields';
import { resourceOfStoreKey, resourceTypes } from '#lib/kinds/resources';
import { groupResourceOf, storeResource } from '#lib/api/store-key';

describe('storeResource', () => {
  it('keeps every kind served before keys carried the group under the bare plural its data was written under', () => {
    // The core kinds and the five group kinds stored before keys carried the group; every kind added since is qualified.
    const legacy = ['deployments', 'replicasets', 'jobs', 'leases', 'endpointslices'];
    for (const t of resourceTypes) {
      expect(storeResource(t), t.resource).toBe(t.group === '' || legacy.includes(t.resource) ? t.resource : `${t.group}/${t.resource}`);
    }
    expect(
      resourceTypes
        .filter((t) => legacy.includes(t.resource))
        .map((t) => t.resource)
        .sort(),
    ).toEqual([...legacy].sort());
  });

  it('qualifies a built-in kind added since (PriorityClass, CustomResourceDefinition) by its group', () => {
    expect(storeResource({ group: 'scheduling.k8s.io', resource: 'priorityclasses' })).toBe('scheduling.k8s.io/priorityclasses');
    expect(storeResource({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' })).toBe('apiextensions.k8s.io/customresourcedefinitions');
  });

  it('gives every served resource its own key, and finds its storage version by it', () => {
    // A resource served in two versions (autoscaling/v1 and v2 HorizontalPodAutoscalers) is stored once, in one of them.
    const stored = resourceTypes.filter((t) => !t.conversion || t.conversion.storageVersion === t.version);
    const keys = stored.map((t) => storeResource(t));
    expect(new Set(keys).size).toBe(keys.length);
    for (const t of resourceTypes) expect(resourceOfStoreKey(storeResource(t))).toBe(stored.find((s) => s.group === t.group && s.resource === t.resource));
  });

  it('qualifies a resource of another group that shares a built-in plural', () => {
    expect(storeResource({ group: 'example.com', resource: 'events' })).toBe('example.com/events');
    expect(storeResource({ group: 'example.com', resource: 'deployments' })).toBe('example.com/deployments');
    expect(storeResource({ group: 'example.com', resource: 'leases' })).toBe('example.com/leases');
    expect(resourceOfStoreKey('example.com/events')).toBeUndefined();
  });

  it('qualifies a built-in group resource that was never stored bare', () => {
    expect(storeResource({ group: 'apps', resource: 'statefulsets' })).toBe('apps/statefulsets');
    expect(storeResource({ group: 'apps', resource: 'jobs' })).toBe('apps/jobs');
  });

  it('reads the group and plural back from a key', () => {
    for (const t of resourceTypes) expect(groupResourceOf(storeResource(t))).toEqual({ group: t.group, resource: t.resource });
    expect(groupResourceOf('example.com/events')).toEqual({ group: 'example.com', resource: 'events' });
    expect(groupResourceOf('kumo-serviceips')).toEqual({ group: '', resource: 'kumo-serviceips' });
  });
});

describe('field selectors by store key', () => {
  it("gives a custom resource named like a built-in only the common fields, never the built-in's or its node index", () => {
    const reqs = parseFieldSelector('spec.nodeName=n1');
    expect(() => compileFieldSelector(storeResource({ group: 'example.com', resource: 'pods' }), reqs)).toThrow(FieldSelectorError);
    expect(pinnedNodeName(storeResource({ group: 'example.com', resource: 'pods' }), reqs)).toBeUndefined();
    expect(pinnedNodeName(storeResource({ group: '', resource: 'pods' }), reqs)).toBe('n1');
    const named = compileFieldSelector(storeResource({ group: 'example.com', resource: 'pods' }), parseFieldSelector('metadata.name=a'));
    expect(named({ apiVersion: 'example.com/v1', kind: 'Pod', metadata: { name: 'a' } })).toBe(true);
  });
});
