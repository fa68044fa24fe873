/**
 * ResourceQuota and LimitRange over HTTP, without controllers: a quota's
 * status is written through its status subresource as the quota controller
 * would, so each rule of kube's ResourceQuota and LimitRanger admission is
 * seen on its own (the Status body, what is or is not stored and charged).
 * Racing creates are run on SQLite and on DynamoDB (the emulator) through
 * two API servers sharing the table, as two API function instances do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '#lib/store/types';
import { ensureEmulator } from '../helpers/moto.js';
import { NAMESPACES, serversSharingTable, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

const core = (ns: string, resource: string) => `/api/v1/namespaces/${ns}/${resource}`;

async function namespace(name: string, on: TestApi<Store> = t): Promise<void> {
  expect((await on.post(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
}

/** A quota with the status the quota controller would write: hard from spec, used as given (0 for the rest). */
async function quota(ns: string, name: string, hard: Record<string, string>, used: Record<string, string> = {}, spec: Wire = {}, on: TestApi<Store> = t) {
  const path = core(ns, 'resourcequotas');
  expect((await on.post(path, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard, ...spec } })).status).toBe(201);
  const current = (await on.get(`${path}/${name}`)).body;
  const zero = Object.fromEntries(Object.keys(hard).map((k) => [k, '0']));
  expect((await on.put(`${path}/${name}/status`, { ...current, status: { hard, used: { ...zero, ...used } } })).status).toBe(200);
}

const used = async (ns: string, name: string, on: TestApi<Store> = t) => (await on.get(`${core(ns, 'resourcequotas')}/${name}`)).body.status.used;

function pod(name: string, resources?: Wire, spec: Wire = {}): Wire {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'busybox', ...(resources ? { resources } : {}) }], ...spec },
  };
}

const configMap = (name: string): Wire => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });

describe('ResourceQuota validation', () => {
  it("refuses kube's invalid quotas with 422 and stores nothing", async () => {
    await namespace('rq-invalid');
    const create = (name: string, spec: Wire) =>
      t.post(core('rq-invalid', 'resourcequotas'), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec });
    const negative = await create('neg', { hard: { pods: '-1' } });
    expect(negative.status).toBe(422);
    expect(negative.body.message).toBe('ResourceQuota "neg" is invalid: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0');
    expect((await create('frac', { hard: { secrets: '1500m' } })).body.message).toBe(
      'ResourceQuota "frac" is invalid: spec.hard[secrets]: Invalid value: "1500m": must be an integer',
    );
    expect((await create('odd', { hard: { widgets: '1' } })).body.message).toBe(
      'ResourceQuota "odd" is invalid: spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
    );
    expect((await create('both', { hard: { pods: '1' }, scopes: ['Terminating', 'NotTerminating'] })).body.message).toBe(
      'ResourceQuota "both" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating", "NotTerminating"}: conflicting scopes',
    );
    expect((await create('be', { hard: { cpu: '1' }, scopes: ['BestEffort'] })).body.message).toBe(
      'ResourceQuota "be" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort"}: unsupported scope applied to resource',
    );
    expect(
      (await create('sel', { hard: { pods: '1' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }] } })).body.message,
    ).toBe(
      "ResourceQuota \"sel\" is invalid: spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
    );
    expect((await t.get(core('rq-invalid', 'resourcequotas'))).body.items).toEqual([]);
  });

  it('drops a status given on create', async () => {
    await namespace('rq-create');
    const r = await t.post(core('rq-create', 'resourcequotas'), {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'q' },
      spec: { hard: { pods: '1' } },
      status: { hard: { pods: '100' }, used: { pods: '0' } },
    });
    expect(r.status).toBe(201);
    expect(r.body.status).toBeUndefined();
  });
});

describe('ResourceQuota admission', () => {
  it('counts objects: the second ConfigMap over a quota of one is refused with kube’s message, the first charged', async () => {
    await namespace('rq-count');
    await quota('rq-count', 'objects', { configmaps: '1', 'count/secrets': '5' });
    expect((await t.post(core('rq-count', 'configmaps'), configMap('a'))).status).toBe(201);
    expect(await used('rq-count', 'objects')).toEqual({ configmaps: '1', 'count/secrets': '0' });
    const refused = await t.post(core('rq-count', 'configmaps'), configMap('b'));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message: 'configmaps "b" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, limited: configmaps=1',
      details: { name: 'b', kind: 'configmaps' },
    });
    expect((await t.get(`${core('rq-count', 'configmaps')}/b`)).status).toBe(404);
    expect(await used('rq-count', 'objects')).toEqual({ configmaps: '1', 'count/secrets': '0' });
  });

  it('refuses a quota’d object while the controller has not counted its quota', async () => {
    await namespace('rq-unknown');
    const path = core('rq-unknown', 'resourcequotas');
    await t.post(path, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'fresh' }, spec: { hard: { configmaps: '3' } } });
    const current = (await t.get(`${path}/fresh`)).body;
    await t.put(`${path}/fresh/status`, { ...current, status: { hard: { configmaps: '3' } } });
    expect((await t.post(core('rq-unknown', 'configmaps'), configMap('a'))).body.message).toBe(
      'configmaps "a" is forbidden: status unknown for quota: fresh, resources: configmaps',
    );
  });

  it('charges compute in canonical quantities, refuses what exceeds it, and names what a container leaves out', async () => {
    await namespace('rq-compute');
    await quota('rq-compute', 'compute', { 'requests.cpu': '1', 'limits.memory': '1Gi', pods: '10' });
    const pods = core('rq-compute', 'pods');
    expect((await t.post(pods, pod('bare'))).body.message).toBe(
      'pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: app; requests.cpu for: app',
    );
    const sized = { requests: { cpu: '600m' }, limits: { memory: '512Mi' } };
    expect((await t.post(pods, pod('first', sized))).status).toBe(201);
    expect(await used('rq-compute', 'compute')).toEqual({ 'requests.cpu': '600m', 'limits.memory': '512Mi', pods: '1' });
    const over = await t.post(pods, { ...pod('', sized), metadata: { generateName: 'web-' } });
    expect(over.status).toBe(403);
    expect(over.body.message).toBe(
      'pods "web-" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1',
    );
    // A dry run is checked but not charged.
    expect((await t.post(`${pods}?dryRun=All`, pod('dry', { requests: { cpu: '400m' }, limits: { memory: '512Mi' } }))).status).toBe(201);
    expect((await used('rq-compute', 'compute'))['requests.cpu']).toBe('600m');
    expect((await t.post(pods, pod('second', { requests: { cpu: '400m' }, limits: { memory: '512Mi' } }))).status).toBe(201);
    expect(await used('rq-compute', 'compute')).toEqual({ 'requests.cpu': '1', 'limits.memory': '1Gi', pods: '2' });
  });

  it('applies scoped quotas to the pods in their scope only', async () => {
    await namespace('rq-scopes');
    await quota('rq-scopes', 'best-effort', { pods: '1' }, {}, { scopes: ['BestEffort'] });
    await quota(
      'rq-scopes',
      'high',
      { pods: '1' },
      {},
      { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } },
    );
    expect(
      (
        await t.post('/apis/scheduling.k8s.io/v1/priorityclasses', {
          apiVersion: 'scheduling.k8s.io/v1',
          kind: 'PriorityClass',
          metadata: { name: 'high' },
          value: 100,
        })
      ).status,
    ).toBe(201);
    const pods = core('rq-scopes', 'pods');
    expect((await t.post(pods, pod('be-1'))).status).toBe(201);
    expect((await t.post(pods, pod('be-2'))).body.message).toBe(
      'pods "be-2" is forbidden: exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1',
    );
    const burstable = { requests: { cpu: '100m' } };
    expect((await t.post(pods, pod('burst-1', burstable))).status).toBe(201);
    expect((await t.post(pods, pod('high-1', burstable, { priorityClassName: 'high' }))).status).toBe(201);
    expect((await t.post(pods, pod('high-2', burstable, { priorityClassName: 'high' }))).body.message).toBe(
      'pods "high-2" is forbidden: exceeded quota: high, requested: pods=1, used: pods=1, limited: pods=1',
    );
    expect(await used('rq-scopes', 'best-effort')).toEqual({ pods: '1' });
  });

  it('counts node ports and load balancers of Services, storage per class of claims, and any kind by count/', async () => {
    await namespace('rq-kinds');
    await quota('rq-kinds', 'misc', {
      'services.nodeports': '1',
      'gold.storageclass.storage.k8s.io/requests.storage': '5Gi',
      'count/deployments.apps': '0',
    });
    const svc = (name: string, ports: number): Wire => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { type: 'NodePort', selector: { app: 'x' }, ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: 80 + i })) },
    });
    expect((await t.post(core('rq-kinds', 'services'), svc('two', 2))).body.message).toBe(
      'services "two" is forbidden: exceeded quota: misc, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1',
    );
    expect((await t.post(core('rq-kinds', 'services'), svc('one', 1))).status).toBe(201);
    const claim = (name: string, size: string): Wire => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { storageClassName: 'gold', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
    });
    expect((await t.post(core('rq-kinds', 'persistentvolumeclaims'), claim('big', '10Gi'))).body.message).toBe(
      'persistentvolumeclaims "big" is forbidden: exceeded quota: misc, requested: gold.storageclass.storage.k8s.io/requests.storage=10Gi, used: gold.storageclass.storage.k8s.io/requests.storage=0, limited: gold.storageclass.storage.k8s.io/requests.storage=5Gi',
    );
    expect((await t.post(core('rq-kinds', 'persistentvolumeclaims'), claim('small', '2Gi'))).status).toBe(201);
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    expect((await t.post('/apis/apps/v1/namespaces/rq-kinds/deployments', deploy)).body.message).toBe(
      'deployments.apps "d" is forbidden: exceeded quota: misc, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0',
    );
    expect(await used('rq-kinds', 'misc')).toEqual({
      'services.nodeports': '1',
      'gold.storageclass.storage.k8s.io/requests.storage': '2Gi',
      'count/deployments.apps': '0',
    });
  });

  it('lets exactly as many of many racing creates through as the quota allows', async () => {
    await race([t]);
  });
});

/** Ten pod creates at once, spread over `servers`, against a quota of three pods: three 201s, seven 403s, three charged. */
async function race(servers: TestApi<Store>[]): Promise<void> {
  const [first] = servers as [TestApi<Store>];
  await namespace('rq-race', first);
  await quota('rq-race', 'three', { pods: '3' }, {}, {}, first);
  const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => servers[i % servers.length]!.post(core('rq-race', 'pods'), pod(`racer-${i}`))));
  expect(replies.map((r) => r.status).sort()).toEqual([201, 201, 201, 403, 403, 403, 403, 403, 403, 403]);
  for (const r of replies.filter((r) => r.status === 403))
    expect(r.body.message).toMatch(/exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3$/);
  expect((await first.get(core('rq-race', 'pods'))).body.items).toHaveLength(3);
  expect(await used('rq-race', 'three', first)).toEqual({ pods: '3' });
}

describe('LimitRange and LimitRanger admission', () => {
  const limits = (ns: string, items: Wire[]) =>
    t.post(core(ns, 'limitranges'), { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits' }, spec: { limits: items } });

  it('defaults a Container item (default limit from max, default request from default) and refuses kube’s invalid ones', async () => {
    await namespace('lr-valid');
    const created = await limits('lr-valid', [{ type: 'Container', max: { cpu: '1' }, min: { memory: '64Mi' } }]);
    expect(created.status).toBe(201);
    expect(created.body.spec.limits[0]).toEqual({
      type: 'Container',
      max: { cpu: '1' },
      min: { memory: '64Mi' },
      default: { cpu: '1' },
      defaultRequest: { cpu: '1', memory: '64Mi' },
    });
    await namespace('lr-invalid');
    const bad = await limits('lr-invalid', [
      { type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } },
      { type: 'Pod', default: { cpu: '1' } },
    ]);
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe(
      'LimitRange "limits" is invalid: [spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1, spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1, spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1, spec.limits[1].default: Forbidden: may not be specified when `type` is \'Pod\']',
    );
    expect((await t.get(core('lr-invalid', 'limitranges'))).body.items).toEqual([]);
  });

  it('gives containers the defaults they leave out, says so in the annotation, and enforces max, min and ratio', async () => {
    await namespace('lr-pods');
    expect(
      (
        await limits('lr-pods', [
          {
            type: 'Container',
            default: { cpu: '500m', memory: '256Mi' },
            defaultRequest: { cpu: '250m' },
            max: { cpu: '1' },
            maxLimitRequestRatio: { memory: '2' },
          },
          { type: 'Pod', max: { memory: '1Gi' } },
        ])
      ).status,
    ).toBe(201);
    const pods = core('lr-pods', 'pods');
    const created = await t.post(pods, pod('defaulted', { limits: { memory: '128Mi' } }));
    expect(created.status).toBe(201);
    expect(created.body.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '128Mi' } });
    expect(created.body.metadata.annotations['kubernetes.io/limit-ranger']).toBe(
      'LimitRanger plugin set: cpu request for container app; cpu limit for container app',
    );

    expect((await t.post(pods, pod('big', { limits: { cpu: '2' } }))).body.message).toBe(
      'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
    expect((await t.post(pods, pod('ratio', { requests: { memory: '100Mi' }, limits: { memory: '300Mi' } }))).body.message).toBe(
      'pods "ratio" is forbidden: memory max limit to request ratio per Container is 2, but provided ratio is 3.000000',
    );
    const twoBig = {
      ...pod('pair'),
      spec: { containers: ['a', 'b'].map((name) => ({ name, image: 'busybox', resources: { limits: { memory: '600Mi' }, requests: { memory: '600Mi' } } })) },
    };
    expect((await t.post(pods, twoBig)).body.message).toBe('pods "pair" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi');
    expect((await t.get(`${pods}/big`)).status).toBe(404);
  });

  it('enforces storage min and max on claims, on create and on resize', async () => {
    await namespace('lr-claims');
    expect((await limits('lr-claims', [{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } }])).status).toBe(201);
    const claims = core('lr-claims', 'persistentvolumeclaims');
    const claim = (name: string, size: string): Wire => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
    });
    expect((await t.post(claims, claim('tiny', '500Mi'))).body.message).toBe(
      'persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
    );
    expect((await t.post(claims, claim('ok', '5Gi'))).status).toBe(201);
    const grown = await t.patch(`${claims}/ok`, { spec: { resources: { requests: { storage: '20Gi' } } } }, 'application/merge-patch+json');
    expect(grown.status).toBe(403);
    expect(grown.body.message).toBe('persistentvolumeclaims "ok" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi');
  });
});

// The cloud's case: two API function instances sharing only the DynamoDB table, each quota charged by conditional writes.
const emulator = await ensureEmulator();
describe.skipIf(!emulator)('ResourceQuota on DynamoDB (the emulator), two API servers', () => {
  const servers = serversSharingTable(2, emulator);

  it('lets exactly as many of many racing creates through as the quota allows', async () => {
    await race(servers);
  });
});
