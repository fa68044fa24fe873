/** EndpointSlice (discovery.k8s.io/v1): namespaced. */
import { EndpointSliceSchema, type EndpointSlice } from '../api/discovery/v1/endpointslice.js';
import { endpointSlicePrinter } from '../printers/columns.js';
import { describeEndpointSlice } from '../printers/describe/network.js';
import { defineKind } from './kind.js';
import { endpointSliceStrategy } from './strategies/discovery.js';

export const endpointSliceKind = defineKind({
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  resource: 'endpointslices',
  namespaced: true,
  schema: EndpointSliceSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  strategy: endpointSliceStrategy,
  printer: endpointSlicePrinter,
  describer: async (obj, ctx) => describeEndpointSlice(obj as EndpointSlice, await ctx.events(), ctx.now),
});
