/**
 * meta.k8s.io/v1 Table responses, as `kubectl get` asks for them: kubectl's
 * pod columns, row objects as PartialObjectMetadata (or the full object with
 * includeObject=Object), and the list's resourceVersion for a following watch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, DEPLOYMENTS, pod, PODS, startApi, type TestApi, type Wire } from './harness.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
  await t.post(PODS, pod('table-a', { labels: { app: 'web' } }));
  await t.post(PODS, pod('table-b', { nodeName: 'n1' }));
  const b = (await t.get(`${PODS}/table-b`)).body;
  await t.put(`${PODS}/table-b/status`, {
    ...b,
    status: {
      ...b.status,
      phase: 'Running',
      podIP: '10.0.0.7',
      containerStatuses: [
        {
          name: 'nginx',
          ready: true,
          restartCount: 2,
          image: 'nginx:1.27',
          imageID: '',
          started: true,
          state: { running: { startedAt: b.metadata.creationTimestamp } },
        },
      ],
    },
  });
});

afterAll(async () => {
  await t?.close();
});

describe('Table output', () => {
  it("lists pods with kubectl's columns and PartialObjectMetadata rows", async () => {
    const r = await t.get(PODS, { accept: TABLE });
    expect(r.status).toBe(200);
    const table = r.body;
    expect(table.kind).toBe('Table');
    expect(table.apiVersion).toBe('meta.k8s.io/v1');
    expect(table.metadata.resourceVersion).toBe((await t.get(PODS)).body.metadata.resourceVersion);
    expect(table.columnDefinitions.map((c: Wire) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Status', 'string', 0],
      ['Restarts', 'string', 0],
      ['Age', 'string', 0],
      ['IP', 'string', 1],
      ['Node', 'string', 1],
      ['Nominated Node', 'string', 1],
      ['Readiness Gates', 'string', 1],
    ]);
    expect(table.columnDefinitions[0].format).toBe('name');
    const [a, b] = table.rows;
    expect(a.cells).toEqual(['table-a', '0/1', 'Pending', '0', expect.stringMatching(/^\d+s$/), '<none>', '<none>', '<none>', '<none>']);
    expect(b.cells.slice(0, 4)).toEqual(['table-b', '1/1', 'Running', '2']);
    expect(b.cells.slice(5)).toEqual(['10.0.0.7', 'n1', '<none>', '<none>']);
    expect(a.object).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: (await t.get(`${PODS}/table-a`)).body.metadata,
    });
    expect(a.object.metadata.labels).toEqual({ app: 'web' });
  });

  it('answers a GET of one object with a one-row Table', async () => {
    const r = await t.get(`${PODS}/table-a`, { accept: TABLE });
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('Table');
    expect(r.body.rows).toHaveLength(1);
    expect(r.body.rows[0].cells[0]).toBe('table-a');
  });

  it('embeds the full object with includeObject=Object (kubectl --sort-by)', async () => {
    const r = await t.get(`${PODS}?includeObject=Object`, { accept: TABLE });
    expect(r.body.rows[0].object.kind).toBe('Pod');
    expect(r.body.rows[0].object.spec.containers[0].image).toBe('nginx:1.27');
  });

  it('uses the Deployment columns for deployments', async () => {
    await t.post(DEPLOYMENTS, deployment('table-web'));
    const r = await t.get(DEPLOYMENTS, { accept: TABLE });
    expect(r.body.columnDefinitions.map((c: Wire) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(r.body.rows[0].cells.slice(0, 4)).toEqual(['table-web', '0/3', 0, 0]);
    expect(r.body.rows[0].cells.slice(5)).toEqual(['nginx', 'nginx:1.27', 'app=web']);
  });

  it('still answers errors as a Status, not a Table', async () => {
    const r = await t.get(`${PODS}/missing`, { accept: TABLE });
    expect(r.status).toBe(404);
    expect(r.body.kind).toBe('Status');
  });

  it('answers plain JSON to a plain Accept', async () => {
    const r = await t.get(PODS, { accept: 'application/json' });
    expect(r.body.kind).toBe('PodList');
  });
});
