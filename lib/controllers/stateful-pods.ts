/**
 * A StatefulSet's pods and claims as pure functions of the set and an
 * ordinal, after kube's pkg/controller/statefulset/stateful_set_utils.go:
 * stable names (`<set>-<ordinal>`), identity labels, hostname and
 * subdomain, one claim per volumeClaimTemplates entry
 * (`<template>-<set>-<ordinal>`), and the claim owner references that
 * persistentVolumeClaimRetentionPolicy asks for.
 */
import type { StatefulSet } from '../api/apps/v1/statefulset.js';
import type { PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { Pod, PodTemplateSpec } from '../api/core/v1/pod.js';
import type { KObject, OwnerReference } from '../api/object.js';
import { deepEqual } from '../util/json.js';
import { POD_REVISION_LABEL } from './history.js';
import { isPodAvailable, isPodReady } from './pod-util.js';
import { podFromTemplate } from './podset.js';

export type StatefulSetObject = StatefulSet & KObject;
export type Claim = PersistentVolumeClaim & KObject;

/** apps.StatefulSetPodNameLabel: the pod's own name, so a Service can select one replica. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** apps.PodIndexLabel: the pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export function podName(set: StatefulSetObject, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

/** kube's getParentNameAndOrdinal: the ordinal of a pod named `<set>-<n>`, or undefined for any other name. */
export function ordinalOf(set: StatefulSetObject, pod: Pod): number | undefined {
  const name = pod.metadata.name ?? '';
  const prefix = `${set.metadata.name}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** The first ordinal (spec.ordinals.start) and the replica count. */
export function ordinalRange(set: StatefulSetObject): { start: number; replicas: number } {
  return { start: set.spec?.ordinals?.start ?? 0, replicas: set.spec?.replicas ?? 1 };
}

export function claimName(set: StatefulSetObject, template: string, ordinal: number): string {
  return `${template}-${set.metadata.name}-${ordinal}`;
}

/** kube's getPersistentVolumeClaims: the claims the pod at `ordinal` mounts, labelled with the set's selector labels. */
export function claimsFor(set: StatefulSetObject, ordinal: number): Claim[] {
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const meta = t.metadata ?? {};
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(set, meta.name ?? '', ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(meta.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      },
      spec: structuredClone(t.spec ?? {}),
    };
  });
}

/**
 * kube's newVersionedStatefulSetPod: the pod at `ordinal` from `template`
 * (the current or the update revision's), with its identity (labels,
 * hostname, subdomain), its revision label and a persistentVolumeClaim volume
 * per claim template, ahead of the template's other volumes.
 */
export function newStatefulPod(set: StatefulSetObject, template: PodTemplateSpec, revisionName: string, ordinal: number): KObject {
  const name = podName(set, ordinal);
  const pod = podFromTemplate(set, template, name) as Pod & KObject;
  pod.metadata.labels = { ...pod.metadata.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [POD_REVISION_LABEL]: revisionName };
  const spec = (pod.spec ??= {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const templates = (set.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '');
  const claimVolumes = templates.map((t) => ({ name: t, persistentVolumeClaim: { claimName: claimName(set, t, ordinal) } }));
  const others = (spec.volumes ?? []).filter((v) => !templates.includes(v.name));
  if (claimVolumes.length + others.length > 0) spec.volumes = [...claimVolumes, ...others];
  return pod;
}

/** The revision a pod was made from (its controller-revision-hash label, a ControllerRevision's name). */
export function podRevision(pod: Pod): string | undefined {
  return pod.metadata.labels?.[POD_REVISION_LABEL];
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp;
}

/** kube's isRunningAndReady. */
export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

/** kube's isRunningAndAvailable: running, and ready for minReadySeconds. */
export function isRunningAndAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  return pod.status?.phase === 'Running' && isPodAvailable(pod, minReadySeconds, now);
}

/** kube's isHealthy: running, ready and not terminating. */
export function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

/** A pod that will not run again: kube recreates it (isFailed, isSucceeded). */
export function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

function ownerRef(owner: KObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '' };
}

/**
 * The owner references a claim should carry (kube's
 * updateClaimOwnerRefForSetAndPod): the set's when whenDeleted is Delete and
 * the pod is not condemned; the pod's when whenScaled is Delete and the pod
 * is condemned (scaled away), so the garbage collector deletes the claim
 * with the pod; none under Retain/Retain. References to other owners are
 * kept. Returns undefined when the claim already has exactly these.
 */
export function claimOwnerRefs(claim: Claim, set: StatefulSetObject, pod: KObject | undefined, condemned: boolean): OwnerReference[] | undefined {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  const wantSet = policy?.whenDeleted === 'Delete' && !(condemned && policy.whenScaled === 'Delete');
  const wantPod = !!pod && condemned && policy?.whenScaled === 'Delete';
  const refs = (claim.metadata.ownerReferences ?? []).filter(
    (r) => r.uid !== set.metadata.uid && !(r.kind === 'Pod' && r.apiVersion === 'v1' && r.name === pod?.metadata.name),
  );
  if (wantSet) refs.push(ownerRef(set));
  if (wantPod) refs.push(ownerRef(pod));
  return deepEqual(refs, claim.metadata.ownerReferences ?? []) ? undefined : refs;
}
