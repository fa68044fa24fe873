/** Pod (v1): namespaced. */
import { PodSchema, type Pod } from '../api/core/v1/pod.js';
import { podPrinter } from '../printers/columns.js';
import { describePod } from '../printers/describe/pod.js';
import { defineKind } from './kind.js';
import { admitPodPriority } from './priorityclass.js';
import { podStrategy } from './strategies/pods.js';

export const podKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Pod',
  resource: 'pods',
  namespaced: true,
  schema: PodSchema,
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['status', 'binding', 'log', 'exec', 'attach', 'eviction', 'ephemeralcontainers'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'own', viewers: 'read' },
  // The Priority admission plugin resolves a pod's priorityClassName (the PriorityClass kind declares it).
  strategy: { ...podStrategy, admit: admitPodPriority },
  printer: podPrinter,
  describer: async (obj, ctx) => describePod(obj as Pod, await ctx.events({ withKind: false }), ctx.now),
});
