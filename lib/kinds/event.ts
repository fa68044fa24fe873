/** Event (v1): namespaced. */
import { EventSchema } from '../api/core/v1/event.js';
import { eventPrinter } from '../printers/columns.js';
import { defineKind } from './kind.js';
import { eventStrategy } from './strategies/core.js';

export const eventKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Event',
  resource: 'events',
  namespaced: true,
  schema: EventSchema,
  shortNames: ['ev'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: false },
  authorization: { nodes: 'own' },
  strategy: eventStrategy,
  printer: eventPrinter,
  describer: 'generic',
});
