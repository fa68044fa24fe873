/** Lease (coordination.k8s.io/v1): namespaced. */
import { LeaseSchema } from '../api/coordination/v1/lease.js';
import { leasePrinter } from '../printers/columns.js';
import { defineKind } from './kind.js';

export const leaseKind = defineKind({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  resource: 'leases',
  namespaced: true,
  schema: LeaseSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: false },
  authorization: { nodes: 'own' },
  strategy: { noGeneration: true },
  printer: leasePrinter,
  describer: 'generic',
});
