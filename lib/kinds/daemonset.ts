/** DaemonSet (apps/v1): namespaced; its controller is lib/controllers/daemonset.ts. */
import { DaemonSetSchema, type DaemonSet } from '../api/apps/v1/daemonset.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { AGE, col, NAME, selectorString, templateInfo, type Printer } from '../printers/columns.js';
import { describeDaemonSet } from '../printers/describe/daemonset.js';
import { age } from '../printers/duration.js';
import { labelSelectorText } from '../printers/selector.js';
import { formatLabels } from '../printers/table-printer.js';
import { tolerate } from './describe.js';
import { defineKind } from './kind.js';
import { podKind } from './pod.js';
import { daemonSetStrategy } from './strategies/daemonset.js';

/** kubectl's printDaemonSet. */
const daemonSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer'),
    col('Current', 'integer'),
    col('Ready', 'integer'),
    col('Up-to-date', 'integer'),
    col('Available', 'integer'),
    col('Node Selector'),
    AGE,
    col('Containers', 'string', 1),
    col('Images', 'string', 1),
    col('Selector', 'string', 1),
  ],
  row(obj, now) {
    const ds = obj as DaemonSet;
    const st = ds.status ?? {};
    const [containers, images] = templateInfo(ds.spec?.template);
    return [
      ds.metadata.name ?? '',
      st.desiredNumberScheduled ?? 0,
      st.currentNumberScheduled ?? 0,
      st.numberReady ?? 0,
      st.updatedNumberScheduled ?? 0,
      st.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds.metadata.creationTimestamp, now),
      containers,
      images,
      selectorString(ds.spec?.selector),
    ];
  },
};

export const daemonSetKind = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  resource: 'daemonsets',
  namespaced: true,
  schema: DaemonSetSchema,
  shortNames: ['ds'],
  categories: ['all'],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: daemonSetStrategy,
  printer: daemonSetPrinter,
  describer: async (obj, ctx) => {
    const ds = obj as DaemonSet;
    const labelSelector = labelSelectorText(ds.spec?.selector);
    const pods = await tolerate(ctx.list<Pod & KObject>(podKind, obj.metadata.namespace, { labelSelector }), []);
    return describeDaemonSet(ds, pods, await ctx.events(), ctx.now);
  },
});
