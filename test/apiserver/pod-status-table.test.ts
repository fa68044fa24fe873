/**
 * The STATUS, READY and RESTARTS cells of the pod Table, derived from pod
 * status the way kubectl users know them, as the server sends them to
 * `kubectl get pods`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PODS, pod, startApi, type TestApi, type Wire } from './harness.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

/** Creates a pod (with init containers if asked), sets its status and returns its Table row's [READY, STATUS, RESTARTS]. */
async function cells(name: string, status: Wire, opts: { init?: boolean; delete?: boolean } = {}): Promise<unknown[]> {
  const p = pod(name, { nodeName: 'node-1' });
  if (opts.init) p.spec.initContainers = [{ name: 'setup', image: 'busybox' }];
  expect((await t.post(PODS, p)).status).toBe(201);
  const current = (await t.get(`${PODS}/${name}`)).body;
  expect((await t.put(`${PODS}/${name}/status`, { ...current, status })).status).toBe(200);
  if (opts.delete) expect((await t.del(`${PODS}/${name}`, { gracePeriodSeconds: 30 })).status).toBe(200);
  const table = (await t.get(`${PODS}/${name}`, { accept: TABLE })).body;
  return table.rows[0].cells.slice(1, 4);
}

const running = { running: { startedAt: ago(60) } };

describe('pod Table cells', () => {
  it('Pending before the kubelet reports, ContainerCreating while it starts', async () => {
    expect(await cells('pending', { phase: 'Pending' })).toEqual(['0/1', 'Pending', '0']);
    expect(
      await cells('creating', {
        phase: 'Pending',
        containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }],
      }),
    ).toEqual(['0/1', 'ContainerCreating', '0']);
  });

  it('Running and ready', async () => {
    expect(
      await cells('running', {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, image: 'nginx', imageID: '', state: running }],
      }),
    ).toEqual(['1/1', 'Running', '0']);
  });

  it('CrashLoopBackOff with restarts and the time of the last one, ErrImagePull', async () => {
    expect(
      await cells('crashing', {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'nginx',
            ready: false,
            restartCount: 4,
            image: 'nginx',
            imageID: '',
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(42) } },
          },
        ],
      }),
    ).toEqual(['0/1', 'CrashLoopBackOff', '4 (42s ago)']);
    expect(
      await cells('pull', {
        phase: 'Pending',
        containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, image: 'nope', imageID: '', state: { waiting: { reason: 'ErrImagePull' } } }],
      }),
    ).toEqual(['0/1', 'ErrImagePull', '0']);
  });

  it('Init:0/1 while an init container runs, Init:Error when it failed', async () => {
    const waitingMain = [{ name: 'nginx', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { waiting: { reason: 'PodInitializing' } } }];
    expect(
      await cells(
        'init-running',
        {
          phase: 'Pending',
          initContainerStatuses: [{ name: 'setup', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: running }],
          containerStatuses: waitingMain,
        },
        { init: true },
      ),
    ).toEqual(['0/1', 'Init:0/1', '0']);
    expect(
      await cells(
        'init-failed',
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'setup', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: 1, reason: 'Error' } } },
          ],
          containerStatuses: waitingMain,
        },
        { init: true },
      ),
    ).toEqual(['0/1', 'Init:Error', '0']);
  });

  it('Completed when it ran to success, Terminating while it is deleted', async () => {
    expect(
      await cells('done', {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'nginx', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      }),
    ).toEqual(['0/1', 'Completed', '0']);
    expect(
      await cells(
        'leaving',
        {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, image: 'nginx', imageID: '', state: running }],
        },
        { delete: true },
      ),
    ).toEqual(['1/1', 'Terminating', '0']);
  });
});
