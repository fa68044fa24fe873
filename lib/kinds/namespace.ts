/** Namespace (v1): cluster-scoped. */
import { NamespaceSchema, type Namespace } from '../api/core/v1/namespace.js';
import { namespacePrinter } from '../printers/columns.js';
import { describeNamespace } from '../printers/describe/cluster.js';
import { defineKind } from './kind.js';
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
  authorization: { nodes: 'read', viewers: 'read' },
  strategy: namespaceStrategy,
  printer: namespacePrinter,
  bootstrap: SYSTEM_NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  describer: async (obj) => describeNamespace(obj as Namespace),
});
