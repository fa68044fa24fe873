/** `kubectl describe statefulset` (describeStatefulSet and describeVolumeClaimTemplates in kubectl v0.35). */
import type { StatefulSet } from '../../api/apps/v1/statefulset.js';
import type { Event } from '../../api/core/v1/event.js';
import type { Pod } from '../../api/core/v1/pod.js';
import { storageClassOf } from '../columns.js';
import { labelSelectorText } from '../selector.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline, rfc1123z } from './common.js';
import { describePodTemplate } from './pod.js';
import { podPhaseCounts } from './workloads.js';
import { LEVEL_0, LEVEL_1, type PrefixWriter, tabbed } from './writer.js';

type ClaimTemplate = NonNullable<NonNullable<StatefulSet['spec']>['volumeClaimTemplates']>[number];

function describeVolumeClaimTemplates(templates: readonly ClaimTemplate[], w: PrefixWriter): void {
  if (templates.length === 0) {
    w.write(LEVEL_0, 'Volume Claims:\t<none>\n');
    return;
  }
  w.write(LEVEL_0, 'Volume Claims:\n');
  for (const pvc of templates) {
    w.write(LEVEL_1, `Name:\t${pvc.metadata.name ?? ''}\n`);
    w.write(LEVEL_1, `StorageClass:\t${storageClassOf({ ...pvc, apiVersion: 'v1', kind: 'PersistentVolumeClaim' })}\n`);
    printLabelsMultiline(w, 'Labels', pvc.metadata.labels, '  ');
    printLabelsMultiline(w, 'Annotations', pvc.metadata.annotations, '  ');
    const capacity = pvc.spec?.resources?.requests?.storage;
    w.write(LEVEL_1, `Capacity:\t${capacity === undefined ? '<default>' : String(capacity)}\n`);
    // Go's %s of a []PersistentVolumeAccessMode.
    w.write(LEVEL_1, `Access Modes:\t[${(pvc.spec?.accessModes ?? []).join(' ')}]\n`);
  }
}

export function describeStatefulSet(s: StatefulSet, pods: readonly Pod[], events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    const spec = s.spec ?? {};
    w.write(LEVEL_0, `Name:\t${s.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${s.metadata.namespace ?? ''}\n`);
    w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(s.metadata.creationTimestamp)}\n`);
    w.write(LEVEL_0, `Selector:\t${labelSelectorText(spec.selector)}\n`);
    printLabelsMultiline(w, 'Labels', s.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', s.metadata.annotations);
    w.write(LEVEL_0, `Replicas:\t${spec.replicas ?? 1} desired | ${s.status?.replicas ?? 0} total\n`);
    w.write(LEVEL_0, `Update Strategy:\t${spec.updateStrategy?.type ?? ''}\n`);
    const ru = spec.updateStrategy?.rollingUpdate;
    if (ru && typeof ru.partition === 'number') {
      w.write(LEVEL_1, `Partition:\t${ru.partition}\n`);
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) w.write(LEVEL_1, `MaxUnavailable:\t${String(ru.maxUnavailable)}\n`);
    }
    const c = podPhaseCounts(pods, s.metadata.uid);
    w.write(LEVEL_0, `Pods Status:\t${c.running} Running / ${c.waiting} Waiting / ${c.succeeded} Succeeded / ${c.failed} Failed\n`);
    describePodTemplate(spec.template, w);
    describeVolumeClaimTemplates(spec.volumeClaimTemplates ?? [], w);
    if (events) describeEvents(events, w, now);
  });
}
