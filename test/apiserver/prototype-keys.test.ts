/**
 * `__proto__` is an ordinary key on the wire (a ConfigMap may hold one, Go
 * sees nothing special in it), but `obj[key] = value` in JavaScript replaces
 * a prototype instead, and merging into `obj["__proto__"]` changes
 * Object.prototype for the whole process. Found by the fuzz test: a strategic
 * merge patch of `{"spec":{"__proto__":{"x":...}}}` gave every object in the
 * server an inherited `x`, and the metrics then failed every request with 500.
 * Every patch type and apply keep such keys own members, as Kubernetes keeps them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './harness.js';

let t: TestApi;
const CM = '/api/v1/namespaces/default/configmaps';
const POLLUTION = { polluted: 'yes' };

beforeAll(async () => {
  t = await startApi();
});
afterAll(async () => {
  await t.close();
});
afterEach(async () => {
  await t.del(`${CM}/c`);
});

/** A body with an own `__proto__` member, as a client sends it (JSON.stringify of an object literal would drop it). */
function withProto(outer: string, inner: object): string {
  return `{${outer.replace('$', `"__proto__":${JSON.stringify(inner)}`)}}`;
}

async function create(data: Record<string, string> = { a: '1' }) {
  expect((await t.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data })).status).toBe(201);
}

function expectNoPollution() {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
}

describe('a __proto__ key in a request', () => {
  it.each([
    ['strategic merge patch', 'application/strategic-merge-patch+json'],
    ['merge patch', 'application/merge-patch+json'],
  ])('in a %s is a key of the object, never its prototype', async (_name, contentType) => {
    await create();
    const patched = await t.patch(`${CM}/c`, withProto('"data":{$,"b":"2"}', POLLUTION), contentType);
    expectNoPollution();
    // A data value must be a string: refused as any patch giving a value of the wrong type.
    expect([patched.status, patched.body.kind]).toEqual([422, 'Status']);
    const ok = await t.patch(`${CM}/c`, '{"data":{"__proto__":"x","b":"2"}}', contentType);
    expect(ok.status).toBe(200);
    const got = await t.get(`${CM}/c`);
    expect(JSON.parse(got.text).data).toEqual(JSON.parse('{"a":"1","__proto__":"x","b":"2"}'));
    expectNoPollution();
  });

  it('under an unknown field of a strategic merge patch changes nothing in the process', async () => {
    await create();
    const patched = await t.patch(`${CM}/c`, withProto('"spec":{$}', POLLUTION), 'application/strategic-merge-patch+json');
    expect(patched.status).toBeLessThan(500);
    expectNoPollution();
    expect((await t.get(`${CM}/c`)).body.data).toEqual({ a: '1' });
  });

  it('in a server-side apply is a key of the object', async () => {
    const applied = await t.patch(
      `${CM}/c?fieldManager=test`,
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"__proto__":"x"}}',
      'application/apply-patch+yaml',
    );
    expect(applied.status).toBe(201);
    const again = await t.patch(
      `${CM}/c?fieldManager=test`,
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"__proto__":"y","b":"2"}}',
      'application/apply-patch+yaml',
    );
    expect(again.status).toBe(200);
    expect(JSON.parse((await t.get(`${CM}/c`)).text).data).toEqual(JSON.parse('{"__proto__":"y","b":"2"}'));
    expectNoPollution();
  });

  it('in a JSON patch is refused with a Status, changing nothing', async () => {
    await create();
    const patched = await t.patch(`${CM}/c`, '[{"op":"add","path":"/data/__proto__","value":"x"}]', 'application/json-patch+json');
    expect(patched.status).toBeGreaterThanOrEqual(400);
    expect(patched.status).toBeLessThan(500);
    expect(patched.body.kind).toBe('Status');
    expect((await t.get(`${CM}/c`)).body.data).toEqual({ a: '1' });
    expectNoPollution();
  });
});
