/** Pod (v1): namespaced. */
import { PodSchema, type Pod } from '../api/core/v1/pod.js';
import { podPrinter } from '../printers/columns.js';
import { describePod } from '../printers/describe/pod.js';
import { defineKind } from './kind.js';
import { admitPodLimits } from './limitranger.js';
import { admitPodPriority } from './priorityclass.js';
import { admitPodServiceAccount } from './serviceaccount-admission.js';
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
  authorization: { nodes: 'own' },
  // kube-apiserver's plugin order: LimitRanger's defaults and limits, ServiceAccount (serviceaccount-admission.ts),
  // then Priority, which resolves a pod's priorityClassName (the PriorityClass kind declares it).
  strategy: {
    ...podStrategy,
    admit: async (obj, old, ctx) => {
      await admitPodLimits(obj, old, ctx);
      await admitPodServiceAccount(obj, old, ctx);
      await admitPodPriority(obj, old, ctx);
    },
  },
  printer: podPrinter,
  describer: async (obj, ctx) => describePod(obj as Pod, await ctx.events({ withKind: false }), ctx.now),
});
