/**
 * `kubectl describe` for deployments, replica sets, replication controllers and jobs
 * (describeDeployment, describeReplicaSet, describeReplicationController, describeJob in kubectl v0.35).
 */
import type { Deployment } from '../../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../../api/apps/v1/replicaset.js';
import { equalIgnoreHash } from '../../api/apps/v1/template-hash.js';
import type { Job } from '../../api/batch/v1/job.js';
import type { Event } from '../../api/core/v1/event.js';
import type { Pod } from '../../api/core/v1/pod.js';
import type { ReplicationController } from '../../api/core/v1/replicationcontroller.js';
import { formatLabels } from '../table-printer.js';
import { labelSelectorText as selectorText } from '../selector.js';
import { humanDuration } from '../duration.js';
import { describeEvents, printAnnotationsMultiline, printController, printLabelsMultiline, rfc1123z } from './common.js';
import { describePodTemplate } from './pod.js';
import { LEVEL_0, LEVEL_1, type PrefixWriter, tabbed } from './writer.js';

interface Condition {
  type: string;
  status: string;
  reason?: string | null;
}

function describeConditions(conditions: readonly Condition[] | null | undefined, w: PrefixWriter): void {
  if ((conditions ?? []).length === 0) return;
  w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tReason\n');
  w.write(LEVEL_1, '----\t------\t------\n');
  for (const c of conditions ?? []) w.write(LEVEL_1, `${c.type} \t${c.status}\t${c.reason ?? ''}\n`);
}

/**
 * The deployment's old and new ReplicaSets among `all` (those it controls,
 * found by owner UID), as deploymentutil.GetAllReplicaSets splits them: the
 * new one is the oldest whose template equals the deployment's ignoring
 * pod-template-hash; every other controlled one is old.
 */
export function splitReplicaSets(d: Deployment, all: readonly ReplicaSet[]): { oldRSs: ReplicaSet[]; newRS: ReplicaSet | undefined } {
  const owned = all
    .filter((rs) => (rs.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === d.metadata.uid))
    .sort((a, b) => {
      const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
      const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
      return ta !== tb ? ta - tb : (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
    });
  const newRS = owned.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
  return { oldRSs: owned.filter((rs) => rs !== newRS), newRS };
}

function rsList(list: readonly ReplicaSet[]): string {
  const s = list.map((rs) => `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`).join(', ');
  return s === '' ? '<none>' : s;
}

export function describeDeployment(d: Deployment, replicaSets: readonly ReplicaSet[], events: readonly Event[] | undefined, now: number): string {
  const { oldRSs, newRS } = splitReplicaSets(d, replicaSets);
  return tabbed((w) => {
    const spec = d.spec ?? ({} as NonNullable<Deployment['spec']>);
    const st = d.status ?? {};
    w.write(LEVEL_0, `Name:\t${d.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${d.metadata.namespace ?? ''}\n`);
    w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`);
    printLabelsMultiline(w, 'Labels', d.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', d.metadata.annotations);
    w.write(LEVEL_0, `Selector:\t${selectorText(spec.selector)}\n`);
    w.write(
      LEVEL_0,
      `Replicas:\t${spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`,
    );
    w.write(LEVEL_0, `StrategyType:\t${spec.strategy?.type ?? ''}\n`);
    w.write(LEVEL_0, `MinReadySeconds:\t${spec.minReadySeconds ?? 0}\n`);
    const ru = spec.strategy?.rollingUpdate as { maxUnavailable?: string | number; maxSurge?: string | number } | null | undefined;
    if (ru) w.write(LEVEL_0, `RollingUpdateStrategy:\t${String(ru.maxUnavailable ?? 0)} max unavailable, ${String(ru.maxSurge ?? 0)} max surge\n`);
    describePodTemplate(spec.template, w);
    describeConditions(st.conditions as Condition[] | undefined, w);
    if (oldRSs.length > 0 || newRS) {
      w.write(LEVEL_0, `OldReplicaSets:\t${rsList(oldRSs)}\n`);
      w.write(LEVEL_0, `NewReplicaSet:\t${rsList(newRS ? [newRS] : [])}\n`);
    }
    if (events) describeEvents(events, w, now);
  });
}

/** Pod phase counts of the pods `ownerUid` controls, as getPodStatusForController counts them. */
export function podPhaseCounts(pods: readonly Pod[], ownerUid: string | undefined): { running: number; waiting: number; succeeded: number; failed: number } {
  const counts = { running: 0, waiting: 0, succeeded: 0, failed: 0 };
  for (const p of pods) {
    if (!(p.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === ownerUid)) continue;
    switch (p.status?.phase) {
      case 'Running':
        counts.running++;
        break;
      case 'Pending':
        counts.waiting++;
        break;
      case 'Succeeded':
        counts.succeeded++;
        break;
      case 'Failed':
        counts.failed++;
        break;
    }
  }
  return counts;
}

export function describeReplicaSet(rs: ReplicaSet, pods: readonly Pod[] | Error, events: readonly Event[] | undefined, now: number): string {
  return describePodSet(rs, selectorText(rs.spec?.selector) || '<none>', true, pods, events, now);
}

/** kubectl's describeReplicationController: a ReplicaSet's description without Controlled By, its map selector as labels.FormatLabels prints it. */
export function describeReplicationController(
  rc: ReplicationController,
  pods: readonly Pod[] | Error,
  events: readonly Event[] | undefined,
  now: number,
): string {
  return describePodSet(rc, formatLabels(rc.spec?.selector ?? {}), false, pods, events, now);
}

type PodSetOwner = ReplicaSet | ReplicationController;

function describePodSet(
  set: PodSetOwner,
  selector: string,
  withController: boolean,
  pods: readonly Pod[] | Error,
  events: readonly Event[] | undefined,
  now: number,
): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${set.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${set.metadata.namespace ?? ''}\n`);
    w.write(LEVEL_0, `Selector:\t${selector}\n`);
    printLabelsMultiline(w, 'Labels', set.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', set.metadata.annotations);
    const controlledBy = withController ? printController(set.metadata) : undefined;
    if (controlledBy) w.write(LEVEL_0, `Controlled By:\t${controlledBy}\n`);
    w.write(LEVEL_0, `Replicas:\t${set.status?.replicas ?? 0} current / ${set.spec?.replicas ?? 1} desired\n`);
    w.write(LEVEL_0, 'Pods Status:\t');
    if (pods instanceof Error) w.write(LEVEL_0, `error in fetching pods: ${pods.message}\n`);
    else {
      const c = podPhaseCounts(pods, set.metadata.uid);
      w.write(LEVEL_0, `${c.running} Running / ${c.waiting} Waiting / ${c.succeeded} Succeeded / ${c.failed} Failed\n`);
    }
    describePodTemplate(set.spec?.template, w);
    describeConditions(set.status?.conditions as Condition[] | undefined, w);
    if (events) describeEvents(events, w, now);
  });
}

export function describeJob(job: Job, events: readonly Event[] | undefined, now: number): string {
  return tabbed((w) => {
    const spec = job.spec ?? ({} as NonNullable<Job['spec']>);
    const st = job.status ?? {};
    w.write(LEVEL_0, `Name:\t${job.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${job.metadata.namespace ?? ''}\n`);
    w.write(LEVEL_0, `Selector:\t${selectorText(spec.selector)}\n`);
    printLabelsMultiline(w, 'Labels', job.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', job.metadata.annotations);
    const controlledBy = printController(job.metadata);
    if (controlledBy) w.write(LEVEL_0, `Controlled By:\t${controlledBy}\n`);
    if (spec.parallelism !== undefined && spec.parallelism !== null) w.write(LEVEL_0, `Parallelism:\t${spec.parallelism}\n`);
    if (spec.completions !== undefined && spec.completions !== null) w.write(LEVEL_0, `Completions:\t${spec.completions}\n`);
    else w.write(LEVEL_0, 'Completions:\t<unset>\n');
    const extra = spec as { completionMode?: string | null; suspend?: boolean | null; ttlSecondsAfterFinished?: number | null };
    if (extra.completionMode) w.write(LEVEL_0, `Completion Mode:\t${extra.completionMode}\n`);
    if (extra.suspend !== undefined && extra.suspend !== null) w.write(LEVEL_0, `Suspend:\t${extra.suspend}\n`);
    if (spec.backoffLimit !== undefined && spec.backoffLimit !== null) w.write(LEVEL_0, `Backoff Limit:\t${spec.backoffLimit}\n`);
    if (extra.ttlSecondsAfterFinished !== undefined && extra.ttlSecondsAfterFinished !== null) {
      w.write(LEVEL_0, `TTL Seconds After Finished:\t${extra.ttlSecondsAfterFinished}\n`);
    }
    if (st.startTime) w.write(LEVEL_0, `Start Time:\t${rfc1123z(st.startTime)}\n`);
    if (st.completionTime) w.write(LEVEL_0, `Completed At:\t${rfc1123z(st.completionTime)}\n`);
    if (st.startTime && st.completionTime) w.write(LEVEL_0, `Duration:\t${humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}\n`);
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
      w.write(LEVEL_0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
    }
    const ready = (st as { ready?: number | null }).ready;
    if (ready === undefined || ready === null) {
      w.write(LEVEL_0, `Pods Statuses:\t${st.active ?? 0} Active / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed\n`);
    } else {
      w.write(LEVEL_0, `Pods Statuses:\t${st.active ?? 0} Active (${ready} Ready) / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed\n`);
    }
    if (extra.completionMode === 'Indexed') {
      const idx = (st as { completedIndexes?: string | null }).completedIndexes ?? '';
      w.write(LEVEL_0, `Completed Indexes:\t${capIndexes(idx, 50)}\n`);
    }
    describePodTemplate(spec.template, w);
    if (events) describeEvents(events, w, now);
  });
}

function capIndexes(indexes: string, softLimit: number): string {
  if (indexes.length === 0) return '<none>';
  let ix = softLimit;
  for (; ix < indexes.length; ix++) if (indexes[ix] === ',') break;
  return ix >= indexes.length ? indexes : `${indexes.slice(0, ix + 1)}...`;
}
