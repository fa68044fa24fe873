/** Node (v1): cluster-scoped. */
import type { Lease } from '../api/coordination/v1/lease.js';
import { NodeSchema, type Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import { isForbidden } from '../api/errors.js';
import type { KObject } from '../api/object.js';
import { nodePrinter } from '../printers/columns.js';
import { describeNode } from '../printers/describe/cluster.js';
import { defineKind } from './kind.js';
import { leaseKind } from './lease.js';
import { podKind } from './pod.js';
import { nodeStrategy } from './strategies/core.js';

export const nodeKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Node',
  resource: 'nodes',
  namespaced: false,
  schema: NodeSchema,
  shortNames: ['no'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'own' },
  strategy: nodeStrategy,
  printer: nodePrinter,
  describer: async (obj, ctx) => {
    const node = obj as Node;
    const name = node.metadata.name ?? '';
    let pods: Pod[] | 'forbidden';
    try {
      const fieldSelector = `spec.nodeName=${name},status.phase!=Failed,status.phase!=Succeeded`;
      pods = await ctx.list<Pod & KObject>(podKind, undefined, { fieldSelector });
    } catch (err) {
      if (!isForbidden(err)) throw err;
      pods = 'forbidden';
    }
    let lease: Lease | Error;
    try {
      lease = await ctx.get<Lease & KObject>(leaseKind, 'kube-node-lease', name);
    } catch (err) {
      lease = err instanceof Error ? err : new Error(String(err));
    }
    // Node events name the node by UID (controllers) or by name (kubelets); kubectl merges both searches.
    const byUid = await ctx.events();
    const events = byUid && [...byUid, ...((await ctx.events({ uid: name })) ?? [])];
    return describeNode(node, pods, lease, events, ctx.now);
  },
});
