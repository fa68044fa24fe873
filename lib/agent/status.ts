/**
 * The pod status the agent reports, computed from what the runtime shows
 * (the pod's container instances), what the pod worker knows (waiting
 * reasons such as CrashLoopBackOff or ErrImagePull) and what the probes say.
 * Pure: the same observations give the same status, so the worker writes only
 * when something changed. Mirrors the kubelet's generateAPIPodStatus and
 * getPhase.
 */
import type { Container, ContainerState, ContainerStatus, Pod, PodStatus } from '../api/core/v1/pod.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { rfc3339 } from '../util/clock.js';
import { deepEqual } from '../util/json.js';
import type { ContainerInfo } from './runtime.js';

type P = Pod & KObject;

export interface Waiting {
  reason: string;
  message?: string;
}

export interface Observation {
  pod: P;
  /** Every instance of the pod's containers, the sandbox's included. */
  containers: ContainerInfo[];
  /** Why a container is not running although it should (ErrImagePull, CrashLoopBackOff...), by container name. */
  waiting: ReadonlyMap<string, Waiting>;
  /** Probe state by container instance id. */
  probes: ReadonlyMap<string, { started: boolean; ready: boolean }>;
  hostIP: string;
  /** `docker` or `process`: the containerID scheme. */
  runtime: string;
  /** Set once the worker decided the pod is done (all containers stopped for good). */
  terminal?: { phase: 'Succeeded' | 'Failed'; reason?: string; message?: string };
  now: number;
}

/** A container's instances, newest first. */
export function instancesOf(containers: readonly ContainerInfo[], name: string, kind?: ContainerInfo['kind']): ContainerInfo[] {
  return containers
    .filter((c) => c.name === name && c.kind !== 'sandbox' && (kind === undefined || c.kind === kind))
    .sort((a, b) => b.restartCount - a.restartCount || b.createdAt - a.createdAt);
}

export function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function terminated(c: ContainerInfo, scheme: string): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: c.reason ?? (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAt ?? null,
      finishedAt: c.finishedAt ?? null,
      containerID: `${scheme}://${c.id}`,
    },
  } as ContainerState;
}

function containerStatus(spec: Container, instances: ContainerInfo[], obs: Observation, defaultWaiting: string): ContainerStatus {
  const [cur, prev] = instances;
  const waiting = obs.waiting.get(spec.name);
  const status: ContainerStatus = {
    name: spec.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: cur?.restartCount ?? 0,
    image: spec.image ?? '',
    imageID: cur?.imageID ?? '',
    started: false,
  };
  if (cur) status.containerID = `${obs.runtime}://${cur.id}`;
  if (cur?.state === 'running') {
    const probe = obs.probes.get(cur.id);
    status.state = { running: { startedAt: cur.startedAt ?? null } } as ContainerState;
    status.started = probe?.started ?? true;
    status.ready = status.started && (probe?.ready ?? true);
    if (prev?.state === 'exited') status.lastState = terminated(prev, obs.runtime);
  } else if (cur?.state === 'exited') {
    if (waiting) {
      status.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
      status.lastState = terminated(cur, obs.runtime);
    } else {
      status.state = terminated(cur, obs.runtime);
      if (prev?.state === 'exited') status.lastState = terminated(prev, obs.runtime);
    }
  } else {
    status.state = { waiting: waiting ? { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } : { reason: defaultWaiting } };
  }
  return status;
}

/**
 * An ephemeral container's status, as the kubelet reports it: never ready
 * and without `started` (no probes judge it), never restarted.
 */
function ephemeralStatus(spec: Container, instances: ContainerInfo[], obs: Observation, defaultWaiting: string): ContainerStatus {
  const { started: _started, ...status } = containerStatus(spec, instances, obs, defaultWaiting);
  return { ...status, ready: false };
}

/** Whether every regular init container succeeded and every sidecar started (or app containers already exist). */
export function isInitialized(pod: P, containers: readonly ContainerInfo[], probes: Observation['probes']): boolean {
  if ((pod.spec?.containers ?? []).some((c) => instancesOf(containers, c.name, 'app').length > 0)) return true;
  return (pod.spec?.initContainers ?? []).every((ic) => {
    const cur = instancesOf(containers, ic.name)[0];
    if (!cur) return false;
    if (isSidecar(ic)) return cur.state === 'running' && (probes.get(cur.id)?.started ?? true);
    return cur.state === 'exited' && cur.exitCode === 0;
  });
}

/** The pod's phase from its container statuses (the kubelet's getPhase). */
export function podPhase(
  pod: P,
  initStatuses: ContainerStatus[],
  statuses: ContainerStatus[],
  initialized: boolean,
): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const inits = pod.spec?.initContainers ?? [];
  if (!initialized) {
    const failed = initStatuses.some((s, i) => !isSidecar(inits[i]!) && (s.state?.terminated?.exitCode ?? 0) !== 0 && !!s.state?.terminated);
    if (failed && policy === 'Never') return 'Failed';
    return 'Pending';
  }
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  let waiting = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, now: number, reason?: string, message?: string): Condition {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: rfc3339(now),
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  } as Condition;
}

/** Our conditions replace theirs; a condition whose status, reason and message did not change keeps its transition time. */
function mergeConditions(existing: Condition[], ours: Condition[]): Condition[] {
  const byType = new Map(existing.map((c) => [c.type, c]));
  const merged: Condition[] = [];
  for (const c of ours) {
    const old = byType.get(c.type);
    const same =
      old && old.status === c.status && (old.reason ?? undefined) === (c.reason ?? undefined) && (old.message ?? undefined) === (c.message ?? undefined);
    merged.push(same ? { ...c, lastTransitionTime: old.lastTransitionTime ?? c.lastTransitionTime } : c);
  }
  const oursTypes = new Set(ours.map((c) => c.type));
  for (const c of existing) if (!oursTypes.has(c.type)) merged.push(c);
  return merged;
}

/** The status to report for a pod. Fields the agent does not own (qosClass, nominatedNodeName, other conditions) are kept. */
export function computePodStatus(obs: Observation): PodStatus {
  const { pod, containers, now } = obs;
  const current = pod.status ?? {};
  const spec = pod.spec ?? {};
  const sandbox = containers.filter((c) => c.kind === 'sandbox').sort((a, b) => b.createdAt - a.createdAt)[0];
  const sandboxUp = sandbox?.state === 'running';
  const initialized = isInitialized(pod, containers, obs.probes);
  const initSpecs = spec.initContainers ?? [];
  const initStatuses = initSpecs.map((c) => containerStatus(c, instancesOf(containers, c.name), obs, sandboxUp ? 'PodInitializing' : 'PodInitializing'));
  const statuses = (spec.containers ?? []).map((c) =>
    containerStatus(
      c,
      instancesOf(containers, c.name, 'app'),
      obs,
      initialized && sandboxUp ? 'ContainerCreating' : initSpecs.length > 0 ? 'PodInitializing' : 'ContainerCreating',
    ),
  );
  const ephemeralStatuses = (spec.ephemeralContainers ?? []).map((c) =>
    ephemeralStatus(c, instancesOf(containers, c.name, 'ephemeral'), obs, initSpecs.length > 0 ? 'PodInitializing' : 'ContainerCreating'),
  );

  const terminal = obs.terminal ?? (current.phase === 'Succeeded' || current.phase === 'Failed' ? { phase: current.phase } : undefined);
  const phase = terminal?.phase ?? podPhase(pod, initStatuses, statuses, initialized);

  const incompleteInit = initSpecs.filter((c, i) => {
    const s = initStatuses[i]!;
    return isSidecar(c) ? !s.started : s.state?.terminated?.exitCode !== 0;
  });
  const unready = [
    ...initSpecs.filter((c, i) => isSidecar(c) && !initStatuses[i]!.ready),
    ...(spec.containers ?? []).filter((_c, i) => !statuses[i]!.ready),
  ].map((c) => c.name);
  const done = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = !done && unready.length === 0;
  const gates = (spec.readinessGates ?? []).map((g) => g.conditionType);
  const gatesMissing = gates.filter((g) => !(current.conditions ?? []).some((c) => c.type === g && c.status === 'True'));
  const unreadyMessage = `containers with unready status: [${unready.join(' ')}]`;
  const ours: Condition[] = [
    condition('PodReadyToStartContainers', sandboxUp, now),
    condition(
      'Initialized',
      initialized || done,
      now,
      'ContainersNotInitialized',
      `containers with incomplete status: [${incompleteInit.map((c) => c.name).join(' ')}]`,
    ),
    done
      ? condition('Ready', false, now, 'PodCompleted')
      : containersReady && gatesMissing.length > 0
        ? condition('Ready', false, now, 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${gatesMissing[0]}" does not exist.`)
        : condition('Ready', containersReady, now, 'ContainersNotReady', unreadyMessage),
    done ? condition('ContainersReady', false, now, 'PodCompleted') : condition('ContainersReady', containersReady, now, 'ContainersNotReady', unreadyMessage),
  ];
  const hasScheduled = (current.conditions ?? []).some((c) => c.type === 'PodScheduled');
  if (!hasScheduled) ours.push(condition('PodScheduled', true, now));
  const podIP = sandbox?.ip ?? current.podIP ?? undefined;
  const status: PodStatus = {
    ...current,
    phase,
    conditions: mergeConditions(current.conditions ?? [], ours),
    hostIP: obs.hostIP,
    hostIPs: [{ ip: obs.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: current.startTime ?? rfc3339(now),
    ...(initSpecs.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(ephemeralStatuses.length > 0 ? { ephemeralContainerStatuses: ephemeralStatuses } : {}),
  };
  if (terminal?.reason) status.reason = terminal.reason;
  if (terminal?.message) status.message = terminal.message;
  return status;
}

/** Whether a status write would change anything. */
export function statusChanged(current: PodStatus | undefined, next: PodStatus): boolean {
  return !deepEqual(JSON.parse(JSON.stringify(current ?? {})), JSON.parse(JSON.stringify(next)));
}
