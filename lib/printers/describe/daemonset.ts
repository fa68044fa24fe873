/** `kubectl describe daemonset` (describeDaemonSet in kubectl v0.35). */
import type { DaemonSet } from '../../api/apps/v1/daemonset.js';
import type { Event } from '../../api/core/v1/event.js';
import type { Pod } from '../../api/core/v1/pod.js';
import { labelSelectorText } from '../selector.js';
import { formatLabels } from '../table-printer.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from './common.js';
import { describePodTemplate } from './pod.js';
import { podPhaseCounts } from './workloads.js';
import { LEVEL_0, tabbed } from './writer.js';

export function describeDaemonSet(ds: DaemonSet, pods: readonly Pod[], events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    const st = ds.status ?? {};
    w.write(LEVEL_0, `Name:\t${ds.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${ds.metadata.namespace ?? ''}\n`);
    w.write(LEVEL_0, `Selector:\t${labelSelectorText(ds.spec?.selector)}\n`);
    w.write(LEVEL_0, `Node-Selector:\t${formatLabels(ds.spec?.template?.spec?.nodeSelector)}\n`);
    printLabelsMultiline(w, 'Labels', ds.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', ds.metadata.annotations);
    w.write(LEVEL_0, `Desired Number of Nodes Scheduled: ${st.desiredNumberScheduled ?? 0}\n`);
    w.write(LEVEL_0, `Current Number of Nodes Scheduled: ${st.currentNumberScheduled ?? 0}\n`);
    w.write(LEVEL_0, `Number of Nodes Scheduled with Up-to-date Pods: ${st.updatedNumberScheduled ?? 0}\n`);
    w.write(LEVEL_0, `Number of Nodes Scheduled with Available Pods: ${st.numberAvailable ?? 0}\n`);
    w.write(LEVEL_0, `Number of Nodes Misscheduled: ${st.numberMisscheduled ?? 0}\n`);
    const c = podPhaseCounts(pods, ds.metadata.uid);
    w.write(LEVEL_0, `Pods Status:\t${c.running} Running / ${c.waiting} Waiting / ${c.succeeded} Succeeded / ${c.failed} Failed\n`);
    describePodTemplate(ds.spec?.template, w);
    if (events) describeEvents(events, w, now);
  });
}
