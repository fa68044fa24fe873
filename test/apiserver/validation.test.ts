/**
 * Field validation kube-apiserver does, over HTTP: endpoint addresses and
 * external IPs (no unspecified, loopback or link-local address), the 1 MiB
 * data limit of ConfigMaps and Secrets, Service names as DNS-1035 labels,
 * finalizer names, and `immutable`. Every refusal is a 422 with
 * Kubernetes' wording, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configMap, CONFIGMAPS, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;
let local: TestApi;

beforeAll(async () => {
  t = await startApi();
  local = await startApi({ admission: { loopbackEndpoints: true } });
});

afterAll(async () => {
  await Promise.all([t?.close(), local?.close()]);
});

const ENDPOINTS = '/api/v1/namespaces/default/endpoints';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const SERVICES = '/api/v1/namespaces/default/services';
const SECRETS = '/api/v1/namespaces/default/secrets';

function endpoints(name: string, ip: string): Wire {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [{ addresses: [{ ip }], ports: [{ port: 80 }] }] };
}

function slice(name: string, addressType: string, address: string): Wire {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name },
    addressType,
    endpoints: [{ addresses: [address] }],
    ports: [{ port: 80 }],
  };
}

function service(name: string, extra: Wire = {}): Wire {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...extra } };
}

/** Posts, expects 422 with exactly these causes, and that nothing was stored. */
async function refused(api: TestApi, path: string, body: Wire, message: string, causes: { field: string; message: string }[]): Promise<void> {
  const r = await api.post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(422);
  expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, message });
  expect(r.body.details.causes.map((c: Wire) => ({ field: c.field, message: c.message }))).toEqual(causes);
  expect((await api.get(`${path}/${body.metadata.name}`)).status).toBe(404);
}

describe('endpoint addresses', () => {
  it.each([
    ['127.0.0.1', 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ['169.254.169.254', 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    ['0.0.0.0', 'may not be unspecified (0.0.0.0)'],
    ['224.0.0.251', 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
    ['::1', 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ['fe80::1', 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
  ])('refuses Endpoints at %s', async (ip, why) => {
    const name = `ep-${ip.replace(/[.:]/g, '-').replace(/^-+|-+$/g, '') || 'x'}`;
    const msg = `Invalid value: "${ip}": ${why}`;
    await refused(t, ENDPOINTS, endpoints(name, ip), `Endpoints "${name}" is invalid: subsets[0].addresses[0].ip: ${msg}`, [
      { field: 'subsets[0].addresses[0].ip', message: msg },
    ]);
  });

  it("refuses a malformed or non-canonical address with IsValidIP's messages", async () => {
    await refused(
      t,
      ENDPOINTS,
      endpoints('ep-bad', '10.0.0'),
      'Endpoints "ep-bad" is invalid: [subsets[0].addresses[0].ip: Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff), subsets[0].addresses[0].ip: Invalid value: "10.0.0": must be a valid IP address]',
      [
        { field: 'subsets[0].addresses[0].ip', message: 'Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
        { field: 'subsets[0].addresses[0].ip', message: 'Invalid value: "10.0.0": must be a valid IP address' },
      ],
    );
    await refused(
      t,
      ENDPOINTS,
      endpoints('ep-zeros', '010.0.0.1'),
      'Endpoints "ep-zeros" is invalid: subsets[0].addresses[0].ip: Invalid value: "010.0.0.1": must not have leading 0s',
      [{ field: 'subsets[0].addresses[0].ip', message: 'Invalid value: "010.0.0.1": must not have leading 0s' }],
    );
  });

  it("accepts a pod network address, and loopback where the cluster's nodes live on it (kumo up)", async () => {
    expect((await t.post(ENDPOINTS, endpoints('ep-ok', '10.244.1.7'))).status).toBe(201);
    expect((await local.post(ENDPOINTS, endpoints('ep-local', '127.0.0.1'))).status).toBe(201);
    expect((await local.post(SLICES, slice('slice-local', 'IPv4', '127.0.0.1'))).status).toBe(201);
    await refused(
      local,
      ENDPOINTS,
      endpoints('ep-metadata', '169.254.169.254'),
      'Endpoints "ep-metadata" is invalid: subsets[0].addresses[0].ip: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      [{ field: 'subsets[0].addresses[0].ip', message: 'Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)' }],
    );
  });

  it('refuses EndpointSlice addresses that are special or of the other family', async () => {
    await refused(
      t,
      SLICES,
      slice('slice-metadata', 'IPv4', '169.254.169.254'),
      'EndpointSlice.discovery.k8s.io "slice-metadata" is invalid: endpoints[0].addresses[0]: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      [{ field: 'endpoints[0].addresses[0]', message: 'Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)' }],
    );
    await refused(
      t,
      SLICES,
      slice('slice-family', 'IPv6', '10.0.0.1'),
      'EndpointSlice.discovery.k8s.io "slice-family" is invalid: endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be an IPv6 address',
      [{ field: 'endpoints[0].addresses[0]', message: 'Invalid value: "10.0.0.1": must be an IPv6 address' }],
    );
    expect((await t.post(SLICES, slice('slice-ok', 'IPv6', '2001:db8::7'))).status).toBe(201);
  });
});

describe('Services', () => {
  it('refuses external IPs that are no IP or special', async () => {
    await refused(
      t,
      SERVICES,
      service('ext', { externalIPs: ['1.2.3.4', 'nope', '127.0.0.1'] }),
      'Service "ext" is invalid: [spec.externalIPs[1]: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff), spec.externalIPs[2]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)]',
      [
        { field: 'spec.externalIPs[1]', message: 'Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
        { field: 'spec.externalIPs[2]', message: 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)' },
      ],
    );
    expect((await t.post(SERVICES, service('ext-ok', { externalIPs: ['203.0.113.9'] }))).status).toBe(201);
  });

  it('refuses a name that is no DNS-1035 label', async () => {
    const msg =
      "Invalid value: \"0abc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    await refused(t, SERVICES, service('0abc'), `Service "0abc" is invalid: metadata.name: ${msg}`, [{ field: 'metadata.name', message: msg }]);
  });
});

describe('ConfigMap and Secret data', () => {
  const MiB = 1024 * 1024;

  it('refuses more than 1 MiB of data, counting binaryData decoded', async () => {
    await refused(
      t,
      CONFIGMAPS,
      configMap('big', { a: 'x'.repeat(MiB - 10), b: 'y'.repeat(11) }),
      'ConfigMap "big" is invalid: : Too long: may not be more than 1048576 bytes',
      [{ field: '', message: 'Too long: may not be more than 1048576 bytes' }],
    );
    const binary = { ...configMap('big-binary', { a: 'x'.repeat(MiB - 2) }), binaryData: { b: Buffer.from('abc').toString('base64') } };
    await refused(t, CONFIGMAPS, binary, 'ConfigMap "big-binary" is invalid: : Too long: may not be more than 1048576 bytes', [
      { field: '', message: 'Too long: may not be more than 1048576 bytes' },
    ]);
    expect((await t.post(CONFIGMAPS, configMap('just-fits', { a: 'x'.repeat(MiB) }))).status).toBe(201);
  });

  it('refuses a Secret over 1 MiB decoded, from data or stringData', async () => {
    const data = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'big-secret' }, data: { a: Buffer.alloc(MiB + 1).toString('base64') } };
    await refused(t, SECRETS, data, 'Secret "big-secret" is invalid: data: Too long: may not be more than 1048576 bytes', [
      { field: 'data', message: 'Too long: may not be more than 1048576 bytes' },
    ]);
    const stringData = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'big-string' }, stringData: { a: 'x'.repeat(MiB + 1) } };
    await refused(t, SECRETS, stringData, 'Secret "big-string" is invalid: data: Too long: may not be more than 1048576 bytes', [
      { field: 'data', message: 'Too long: may not be more than 1048576 bytes' },
    ]);
  });

  it("keeps an immutable Secret's data and flag", async () => {
    const created = (await t.post(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'frozen' }, immutable: true, stringData: { a: '1' } })).body;
    const r = await t.put(`${SECRETS}/frozen`, { ...created, immutable: false, data: { a: Buffer.from('2').toString('base64') } });
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toEqual([
      { reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' },
      { reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' },
    ]);
    expect((await t.get(`${SECRETS}/frozen`)).body.data).toEqual({ a: Buffer.from('1').toString('base64') });
  });
});

describe('finalizers', () => {
  it('refuses a finalizer that is no qualified name, and orphan with foregroundDeletion', async () => {
    const bad = { ...configMap('fin-bad'), metadata: { name: 'fin-bad', finalizers: ['not a finalizer!'] } };
    const msg =
      "Invalid value: \"not a finalizer!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    await refused(t, CONFIGMAPS, bad, `ConfigMap "fin-bad" is invalid: metadata.finalizers: ${msg}`, [{ field: 'metadata.finalizers', message: msg }]);
    const both = { ...configMap('fin-both'), metadata: { name: 'fin-both', finalizers: ['orphan', 'foregroundDeletion'] } };
    await refused(
      t,
      CONFIGMAPS,
      both,
      'ConfigMap "fin-both" is invalid: metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
      [{ field: 'metadata.finalizers', message: 'Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set' }],
    );
    expect((await t.post(CONFIGMAPS, { ...configMap('fin-ok'), metadata: { name: 'fin-ok', finalizers: ['example.com/cleanup'] } })).status).toBe(201);
  });

  it('lists the finalizers added to an object being deleted', async () => {
    await t.post(CONFIGMAPS, { ...configMap('fin-late'), metadata: { name: 'fin-late', finalizers: ['example.com/a'] } });
    expect((await t.del(`${CONFIGMAPS}/fin-late`)).status).toBe(200);
    const current = (await t.get(`${CONFIGMAPS}/fin-late`)).body;
    const r = await t.put(`${CONFIGMAPS}/fin-late`, {
      ...current,
      metadata: { ...current.metadata, finalizers: ['example.com/a', 'example.com/c', 'example.com/b'] },
    });
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'metadata.finalizers',
        message: 'Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b", "example.com/c"}',
      },
    ]);
  });

  it("takes only standard or qualified names in a namespace's spec.finalizers", async () => {
    const ns = (await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fin-ns' } })).body;
    const r = await t.put('/api/v1/namespaces/fin-ns/finalize', { ...ns, spec: { finalizers: ['kubernetes', 'custom'] } });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'Namespace "fin-ns" is invalid: spec.finalizers[1]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    );
    expect((await t.get('/api/v1/namespaces/fin-ns')).body.spec.finalizers).toEqual(['kubernetes']);
  });
});
