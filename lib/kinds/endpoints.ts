/** Endpoints (v1): namespaced. */
import { EndpointsSchema, type Endpoints } from '../api/core/v1/endpoints.js';
import { endpointsPrinter } from '../printers/columns.js';
import { describeEndpoints } from '../printers/describe/network.js';
import { defineKind } from './kind.js';
import { endpointsStrategy } from './strategies/discovery.js';

export const endpointsKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  resource: 'endpoints',
  namespaced: true,
  schema: EndpointsSchema,
  shortNames: ['ep'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  deprecation: 'v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice',
  strategy: endpointsStrategy,
  printer: endpointsPrinter,
  describer: async (obj, ctx) => describeEndpoints(obj as Endpoints, await ctx.events(), ctx.now),
});
