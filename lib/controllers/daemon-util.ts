/**
 * What the DaemonSet controller decides per node, after kube's
 * pkg/controller/daemon/util and NodeShouldRunDaemonPod: the tolerations
 * every daemon pod gets, the node affinity that pins a pod to its node, which
 * node a pod is for, and whether a node should run (or may keep) the pod.
 * Pure: no reads, no clock.
 */
import type { Affinity, Pod, PodSpec, PodTemplateSpec, Toleration } from '../api/core/v1/pod.js';
import type { Node, Taint } from '../api/core/v1/node.js';
import { matchesNodeSelector } from '../api/node-affinity.js';
import type { KObject } from '../api/object.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, tolerates } from '../api/taints.js';

/** The label naming a daemon pod's template generation (extensions.DaemonSetTemplateGenerationKey). */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/**
 * kube's AddOrUpdateDaemonPodTolerations: daemon pods survive a node's
 * not-ready and unreachable NoExecute taints and ignore its pressure and
 * unschedulable NoSchedule taints (and network-unavailable with hostNetwork).
 */
function daemonTolerations(spec: PodSpec): Toleration[] {
  const out: Toleration[] = [
    { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) out.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return out;
}

/** AddOrUpdateTolerationInPodSpec for each daemon toleration: one the spec already has (same key, operator, value, effect) is replaced in place. */
export function withDaemonTolerations(spec: PodSpec): PodSpec {
  const tolerations = [...(spec.tolerations ?? [])];
  for (const t of daemonTolerations(spec)) {
    const i = tolerations.findIndex(
      (x) => (x.key ?? '') === t.key && (x.operator ?? 'Equal') === t.operator && (x.value ?? '') === '' && (x.effect ?? '') === t.effect,
    );
    if (i >= 0) tolerations[i] = t;
    else tolerations.push(t);
  }
  return { ...spec, tolerations };
}

/**
 * kube's ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity
 * becomes the one term `metadata.name In [node]`, so the scheduler binds the
 * pod there (and nowhere else) with all its other checks.
 */
export function pinToNode(affinity: Affinity | null | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  return { ...(affinity ?? {}), nodeAffinity: { ...(affinity?.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: required } };
}

/** The node a daemon pod is for: its nodeName, else the node its pinning affinity names (kube's GetTargetNodeName). */
export function targetNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const field = (term.matchFields ?? []).find((f) => f.key === 'metadata.name' && f.operator === 'In' && (f.values ?? []).length === 1);
    if (field) return field.values![0];
  }
  return undefined;
}

export interface NodeVerdict {
  /** A daemon pod should run here (created if missing). */
  shouldRun: boolean;
  /** A daemon pod already here may stay (false: it is deleted). */
  shouldContinueRunning: boolean;
}

/**
 * kube's NodeShouldRunDaemonPod over the template with the daemon
 * tolerations: a node the template's nodeSelector or required node affinity
 * excludes runs nothing; an untolerated NoSchedule taint keeps new pods off
 * but lets a running one stay; an untolerated NoExecute taint removes it.
 */
export function nodeShouldRunDaemonPod(template: PodTemplateSpec | null | undefined, node: Node & KObject): NodeVerdict {
  const spec = withDaemonTolerations(template?.spec ?? {});
  const pod: Pod = { metadata: {}, spec } as Pod;
  if (!matchesNodeSelector(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const untolerated = (taint: Taint) => !(spec.tolerations ?? []).some((t) => tolerates(t, taint));
  const taints = node.spec?.taints ?? [];
  if (taints.some((t) => t.effect === 'NoExecute' && untolerated(t))) return { shouldRun: false, shouldContinueRunning: false };
  if (taints.some((t) => t.effect === 'NoSchedule' && untolerated(t))) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * Resolves maxSurge and maxUnavailable against the desired number of pods,
 * percentages rounded up (kube's updatedDesiredNodeCounts); both 0 means
 * maxUnavailable 1, so an update always progresses.
 */
export function surgeAndUnavailable(
  ru: { maxSurge?: number | string | null; maxUnavailable?: number | string | null } | null | undefined,
  desired: number,
): { maxSurge: number; maxUnavailable: number } {
  const scaled = (v: number | string | null | undefined, dflt: number) => {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number') return v;
    const m = /^(\d+)%$/.exec(v);
    return m ? Math.ceil((Number(m[1]) * desired) / 100) : Number(v) || 0;
  };
  const maxSurge = scaled(ru?.maxSurge, 0);
  const maxUnavailable = scaled(ru?.maxUnavailable, 1);
  return maxSurge === 0 && maxUnavailable === 0 ? { maxSurge, maxUnavailable: 1 } : { maxSurge, maxUnavailable };
}
