/**
 * The agent's pure logic: the pod status computed from what the runtime
 * shows, the restart back-off, `$(VAR)` expansion, downward-API env values
 * and the exec and attach parameters.
 */
import { describe, expect, it } from 'vitest';
import { Backoff, goDuration } from '#lib/agent/backoff';
import { expand, resolveEnv } from '#lib/agent/container-config';
import { pauseBinary } from '#lib/agent/docker/pause-image';
import { attachParams, execParams } from '#lib/client/exec-channel';
import type { ContainerInfo } from '#lib/agent/runtime';
import { computePodStatus, type Observation } from '#lib/agent/status';
import { podSummary } from '#lib/printers/pod-status';
import { ManualClock } from '#lib/util/clock';
import type { P } from './harness.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ref = { uid: 'u1', name: 'web', namespace: 'default' };

function pod(spec: P['spec'], status: P['status'] = { phase: 'Pending', qosClass: 'BestEffort' }): P {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5' },
    spec: { restartPolicy: 'Always', ...spec },
    status,
  } as P;
}

function inst(name: string, kind: ContainerInfo['kind'], n: number, state: ContainerInfo['state'], extra: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `${name}-${n}`,
    pod: ref,
    name,
    kind,
    restartCount: n,
    state,
    createdAt: T0 + n,
    image: 'img',
    imageID: 'sha256:1',
    startedAt: '2026-01-01T00:00:01Z',
    ...extra,
  };
}

const sandbox = inst('POD', 'sandbox', 0, 'running', { ip: '172.17.0.9' });

function observe(p: P, containers: ContainerInfo[], extra: Partial<Observation> = {}) {
  return computePodStatus({ pod: p, containers, waiting: new Map(), probes: new Map(), hostIP: '10.0.0.1', runtime: 'docker', now: T0 + 10_000, ...extra });
}

describe('computePodStatus', () => {
  it('reports Init:0/2 while the first init container runs', () => {
    const p = pod({ initContainers: [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'app' }] });
    const s = observe(p, [sandbox, inst('a', 'init', 0, 'running')]);
    expect(s.phase).toBe('Pending');
    expect(s.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [a b]',
    });
    expect(s.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(podSummary({ ...p, status: s }, T0).status).toBe('Init:0/2');
  });

  it('counts a started sidecar as initialized and its readiness in ContainersReady', () => {
    const p = pod({
      initContainers: [{ name: 'side', restartPolicy: 'Always', readinessProbe: { exec: { command: ['true'] } } }],
      containers: [{ name: 'app' }],
    });
    const side = inst('side', 'sidecar', 0, 'running');
    const app = inst('app', 'app', 0, 'running');
    const s = observe(p, [sandbox, side, app], { probes: new Map([[side.id, { started: true, ready: false }]]) });
    expect(s.phase).toBe('Running');
    expect(s.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(s.conditions?.find((c) => c.type === 'ContainersReady')).toMatchObject({ status: 'False', message: 'containers with unready status: [side]' });
    expect(s.podIP).toBe('172.17.0.9');
  });

  it('shows CrashLoopBackOff with the last termination while a restart waits', () => {
    const p = pod({ containers: [{ name: 'app' }] });
    const dead = inst('app', 'app', 2, 'exited', { exitCode: 1, reason: 'Error', finishedAt: '2026-01-01T00:00:05Z' });
    const s = observe(p, [sandbox, inst('app', 'app', 1, 'exited', { exitCode: 1 }), dead], {
      waiting: new Map([['app', { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app pod=web_default(u1)' }]]),
    });
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses?.[0]).toMatchObject({
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'docker://app-2' } },
      restartCount: 2,
      ready: false,
    });
  });

  it('reports ephemeral containers apart, as the kubelet does: never ready, no `started`, no effect on phase or readiness', () => {
    const p = pod({
      containers: [{ name: 'app' }],
      ephemeralContainers: [
        { name: 'dbg', image: 'busybox' },
        { name: 'ended', image: 'busybox' },
        { name: 'new', image: 'busybox' },
      ],
    });
    const s = observe(p, [
      sandbox,
      inst('app', 'app', 0, 'running'),
      inst('dbg', 'ephemeral', 0, 'running'),
      inst('ended', 'ephemeral', 0, 'exited', { exitCode: 3, reason: 'Error', finishedAt: '2026-01-01T00:00:05Z' }),
    ]);
    expect(s.phase).toBe('Running');
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s.containerStatuses?.map((c) => c.name)).toEqual(['app']);
    expect(s.ephemeralContainerStatuses).toEqual([
      {
        name: 'dbg',
        state: { running: { startedAt: '2026-01-01T00:00:01Z' } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: 'busybox',
        imageID: 'sha256:1',
        containerID: 'docker://dbg-0',
      },
      {
        name: 'ended',
        state: {
          terminated: { exitCode: 3, reason: 'Error', startedAt: '2026-01-01T00:00:01Z', finishedAt: '2026-01-01T00:00:05Z', containerID: 'docker://ended-0' },
        },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: 'busybox',
        imageID: 'sha256:1',
        containerID: 'docker://ended-0',
      },
      { name: 'new', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: 'busybox', imageID: '' },
    ]);
  });

  it('keeps transition times of conditions that did not change, and other writers’ conditions', () => {
    const p = pod({ containers: [{ name: 'app' }] });
    const first = observe(p, [sandbox, inst('app', 'app', 0, 'running')]);
    first.conditions!.push({ type: 'DisruptionTarget', status: 'True' });
    const again = computePodStatus({
      pod: { ...p, status: first },
      containers: [sandbox, inst('app', 'app', 0, 'running')],
      waiting: new Map(),
      probes: new Map(),
      hostIP: '10.0.0.1',
      runtime: 'docker',
      now: T0 + 99_000,
    });
    expect(again).toEqual(first);
  });

  it('Succeeded when every container exited 0 under restartPolicy Never; Failed when one failed', () => {
    const never = pod({ restartPolicy: 'Never', containers: [{ name: 'a' }, { name: 'b' }] });
    const ok = observe(never, [sandbox, inst('a', 'app', 0, 'exited', { exitCode: 0 }), inst('b', 'app', 0, 'exited', { exitCode: 0 })]);
    expect(ok.phase).toBe('Succeeded');
    expect(ok.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(observe(never, [sandbox, inst('a', 'app', 0, 'exited', { exitCode: 0 }), inst('b', 'app', 0, 'exited', { exitCode: 1 })]).phase).toBe('Failed');
    const onFailure = pod({ restartPolicy: 'OnFailure', containers: [{ name: 'a' }] });
    expect(observe(onFailure, [sandbox, inst('a', 'app', 0, 'exited', { exitCode: 1 })]).phase).toBe('Running');
  });
});

describe('Backoff', () => {
  it('restarts at once, then waits 10s doubling to 5m, and starts over after 10 minutes of running', () => {
    const clock = new ManualClock(T0);
    const b = new Backoff(clock);
    expect(b.remaining('k', clock.now())).toBe(0);
    const waits: string[] = [];
    for (let i = 0; i < 7; i++) {
      b.next('k');
      waits.push(goDuration(b.current('k')));
    }
    expect(waits).toEqual(['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '5m0s']);
    const exitedAt = clock.now();
    expect(b.remaining('k', exitedAt)).toBe(300_000);
    clock.advance(100_000);
    expect(b.remaining('k', exitedAt)).toBe(200_000);
    clock.advance(11 * 60_000);
    expect(b.remaining('k', clock.now())).toBe(0);
  });
});

describe('expand', () => {
  it('expands $(VAR) as Kubernetes does', () => {
    const vars = new Map([['A', 'x']]);
    expect(expand('$(A)-$(B)-$$(A)-$A', vars)).toBe('x-$(B)-$(A)-$A');
  });
});

describe('resolveEnv: downward-API fieldRefs, as the kubelet resolves them', () => {
  const ctx = { podIP: '10.0.0.7', hostIP: '192.168.1.2', nodeName: 'n1', nodeAllocatable: { cpuMilli: 2000, memoryBytes: 2 ** 30 } };
  const none = { configMap: async () => undefined, secret: async () => undefined };
  const env = (fieldPath: string) => [{ name: 'V', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } }];
  const labelled = pod({ containers: [] });
  labelled.metadata.labels = { tier: 'web', app: 'shop' };
  const value = async (fieldPath: string) => (await resolveEnv(labelled, { name: 'c', env: env(fieldPath) }, ctx, none))[0]?.[1];

  it('answers spec and status paths from the node, metadata ones from the pod', async () => {
    expect(await value('spec.nodeName')).toBe('n1');
    expect(await value('status.podIP')).toBe('10.0.0.7');
    expect(await value('status.hostIP')).toBe('192.168.1.2');
    expect(await value('spec.serviceAccountName')).toBe('default');
    expect(await value('metadata.uid')).toBe('u1');
    expect(await value("metadata.labels['app']")).toBe('shop');
    expect(await value("metadata.annotations['none']")).toBe('');
  });

  it('formats a whole label map as key="value" lines in key order (FormatMap)', async () => {
    expect(await value('metadata.labels')).toBe('app="shop"\ntier="web"');
  });

  it('refuses a path it cannot resolve with CreateContainerConfigError', async () => {
    await expect(value('spec.hostname')).rejects.toMatchObject({
      reason: 'CreateContainerConfigError',
      message: 'unsupported fieldRef spec.hostname in env V',
    });
  });
});

describe('execParams and attachParams', () => {
  it('validates the exec query', () => {
    expect(execParams(new URLSearchParams('command=ls&command=-l&stdout=true&tty=true&stderr=true'), 'c')).toEqual({
      command: ['ls', '-l'],
      container: 'c',
      stdin: false,
      stdout: true,
      stderr: false,
      tty: true,
    });
    expect(() => execParams(new URLSearchParams('stdout=true'))).toThrow('you must specify at least one command for the container');
    expect(() => execParams(new URLSearchParams('command=ls'))).toThrow('you must specify at least 1 of stdin, stdout, stderr');
  });

  it('validates the attach query: the same streams, no command', () => {
    expect(attachParams(new URLSearchParams('stdin=true&stdout=true&stderr=true&tty=true'), 'dbg')).toEqual({
      container: 'dbg',
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
    });
    expect(() => attachParams(new URLSearchParams('tty=true'), 'dbg')).toThrow('you must specify at least 1 of stdin, stdout, stderr');
  });
});

describe('pause binary', () => {
  it('is a static ELF executable for the host architecture', () => {
    const b = pauseBinary('x64');
    expect(b.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(b.length).toBeLessThan(200);
    expect(pauseBinary('arm64').readUInt16LE(18)).toBe(0xb7);
  });
});
