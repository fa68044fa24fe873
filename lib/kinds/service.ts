/** Service (v1): namespaced. */
import { ServiceSchema, type Service } from '../api/core/v1/service.js';
import type { EndpointSlice } from '../api/discovery/v1/endpointslice.js';
import type { KObject } from '../api/object.js';
import { servicePrinter } from '../printers/columns.js';
import { describeService } from '../printers/describe/core.js';
import { tolerate } from './describe.js';
import { defineKind } from './kind.js';
import { endpointSliceKind } from './endpointslice.js';
import { serviceStrategy } from './strategies/core.js';

export const serviceKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Service',
  resource: 'services',
  namespaced: true,
  schema: ServiceSchema,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'read' },
  strategy: serviceStrategy,
  printer: servicePrinter,
  describer: async (obj, ctx) => {
    const slices = await tolerate(
      ctx.list<EndpointSlice & KObject>(endpointSliceKind, obj.metadata.namespace, { labelSelector: `kubernetes.io/service-name=${obj.metadata.name}` }),
      [],
    );
    return describeService(obj as Service, slices, await ctx.events(), ctx.now);
  },
});
