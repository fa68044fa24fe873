/** ReplicaSet (apps/v1): namespaced. */
import { ReplicaSetSchema, type ReplicaSet } from '../api/apps/v1/replicaset.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { replicaSetPrinter } from '../printers/columns.js';
import { describeReplicaSet } from '../printers/describe/workloads.js';
import { labelSelectorText } from '../printers/selector.js';
import { defineKind } from './kind.js';
import { podKind } from './pod.js';
import { replicaSetStrategy } from './strategies/apps.js';

export const replicaSetKind = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  resource: 'replicasets',
  namespaced: true,
  schema: ReplicaSetSchema,
  shortNames: ['rs'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: replicaSetStrategy,
  printer: replicaSetPrinter,
  describer: async (obj, ctx) => {
    const rs = obj as ReplicaSet;
    let pods: Pod[] | Error;
    try {
      pods = await ctx.list<Pod & KObject>(podKind, obj.metadata.namespace, { labelSelector: labelSelectorText(rs.spec?.selector) });
    } catch (err) {
      pods = err instanceof Error ? err : new Error(String(err));
    }
    return describeReplicaSet(rs, pods, await ctx.events(), ctx.now);
  },
});
