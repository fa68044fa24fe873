/** Namespace (v1): cluster-scoped. */
import { NamespaceSchema, type Namespace } from '../api/core/v1/namespace.js';
import { namespacePrinter } from '../printers/columns.js';
import { describeNamespace } from '../printers/describe/cluster.js';
import type { LimitRange } from '../api/core/v1/limitrange.js';
import type { ResourceQuota } from '../api/core/v1/resourcequota.js';
import type { KObject } from '../api/object.js';
import { tolerate } from './describe.js';
import { defineKind } from './kind.js';
import { limitRangeKind } from './limitrange.js';
import { resourceQuotaKind } from './resourcequota.js';
import { namespaceStrategy, SYSTEM_NAMESPACES } from './strategies/core.js';

export const namespaceKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  resource: 'namespaces',
  namespaced: false,
  schema: NamespaceSchema,
  shortNames: ['ns'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  strategy: namespaceStrategy,
  printer: namespacePrinter,
  bootstrap: SYSTEM_NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  // kubectl lists the namespace's quotas and limit ranges beside it.
  describer: async (obj, ctx) => {
    const ns = obj.metadata.name ?? '';
    const [quotas, limits] = await Promise.all([
      tolerate(ctx.list<ResourceQuota & KObject>(resourceQuotaKind, ns, {}), undefined),
      tolerate(ctx.list<LimitRange & KObject>(limitRangeKind, ns, {}), undefined),
    ]);
    return describeNamespace(obj as Namespace, quotas, limits);
  },
});
