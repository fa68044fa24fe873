/**
 * A list's resourceVersion and resourceVersionMatch over HTTP, as
 * kube-apiserver answers them: the newest data, data not older than a
 * revision, the data at exactly a revision (pages included), and the 400,
 * 422, 410 and 504 answers for what cannot be served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#lib/util/clock';
import { configMap, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;
const clock = new ManualClock();
const NS = '/api/v1/namespaces/versions/configmaps';
/** The collection's revision after the first three config maps, before later changes. */
let early: string;

function names(list: Wire): string[] {
  return list.items.map((i: Wire) => i.metadata.name);
}

beforeAll(async () => {
  t = await startApi({}, { clock, retentionMs: 60_000 });
  expect((await t.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'versions' } })).status).toBe(201);
  for (const n of ['a', 'b', 'c']) expect((await t.post(NS, configMap(n, { v: '1' }))).status).toBe(201);
  early = (await t.get(NS)).body.metadata.resourceVersion;
  expect((await t.put(`${NS}/a`, configMap('a', { v: '2' }))).status).toBe(200);
  expect((await t.del(`${NS}/b`)).status).toBe(200);
  expect((await t.post(NS, configMap('d', { v: '1' }))).status).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

describe('list resourceVersion semantics', () => {
  it('serves the newest data without a resourceVersion, with "0", and not older than a revision it has reached', async () => {
    for (const q of [
      '',
      '?resourceVersion=0',
      `?resourceVersion=${early}`,
      `?resourceVersion=${early}&resourceVersionMatch=NotOlderThan`,
      '?resourceVersion=0&resourceVersionMatch=NotOlderThan',
    ]) {
      const r = await t.get(`${NS}${q}`);
      expect(r.status, q).toBe(200);
      expect(names(r.body), q).toEqual(['a', 'c', 'd']);
    }
  });

  it('serves the objects as they were at an Exact revision, stamped with it', async () => {
    const r = await t.get(`${NS}?resourceVersion=${early}&resourceVersionMatch=Exact`);
    expect(r.status).toBe(200);
    expect(r.body.metadata.resourceVersion).toBe(early);
    expect(names(r.body)).toEqual(['a', 'b', 'c']);
    expect(r.body.items[0].data).toEqual({ v: '1' });
  });

  it('pages an Exact list (and a legacy one: a resourceVersion with a limit) at its revision, whatever changes in between', async () => {
    for (const [kind, q] of [
      ['exact', `resourceVersion=${early}&resourceVersionMatch=Exact`],
      ['legacy', `resourceVersion=${early}`],
    ] as const) {
      const p1 = await t.get(`${NS}?limit=2&${q}`);
      expect(p1.status).toBe(200);
      expect(names(p1.body)).toEqual(['a', 'b']);
      expect(p1.body.metadata.continue).toBeTruthy();
      expect((await t.post(NS, configMap(`bx-${kind}`))).status).toBe(201);
      const p2 = await t.get(`${NS}?limit=2&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
      expect(p2.status).toBe(200);
      expect(p2.body.metadata.resourceVersion).toBe(early);
      expect(names(p2.body)).toEqual(['c']);
    }
  });

  it('answers 504 Timeout for a revision the store has not reached', async () => {
    const current = Number((await t.get(NS)).body.metadata.resourceVersion);
    for (const q of [
      `resourceVersion=${current + 5}`,
      `resourceVersion=${current + 5}&resourceVersionMatch=NotOlderThan`,
      `resourceVersion=${current + 5}&resourceVersionMatch=Exact`,
    ]) {
      const r = await t.get(`${NS}?${q}`);
      expect(r.status, q).toBe(504);
      expect(r.body, q).toMatchObject({
        kind: 'Status',
        reason: 'Timeout',
        code: 504,
        message: `Timeout: Too large resource version: ${current + 5}, current: ${current}`,
        details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
      });
      // As kube's response writer, the retry also goes in the header clients read.
      expect(r.headers.get('retry-after'), q).toBe('1');
    }
  });

  it.each([
    ['resourceVersion=abc', 400, 'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'],
    ['resourceVersion=-1', 400, 'invalid resource version: resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax'],
    [
      'resourceVersion=99999999999999999999',
      400,
      'invalid resource version: resourceVersion: Invalid value: "99999999999999999999": strconv.ParseUint: parsing "99999999999999999999": value out of range',
    ],
    [
      'resourceVersionMatch=Exact',
      422,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    ],
    [
      'resourceVersion=0&resourceVersionMatch=Exact',
      422,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    ],
    [
      'resourceVersion=1&resourceVersionMatch=Newest',
      422,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""',
    ],
    [
      'resourceVersion=1&resourceVersionMatch=Exact&continue=x',
      422,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided',
    ],
    ['resourceVersion=1&continue=x', 400, 'specifying resource version is not allowed when using continue'],
    ['sendInitialEvents=true', 422, 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'],
  ])("refuses %s with kube-apiserver's answer", async (q, code, message) => {
    const r = await t.get(`${NS}?${q}`);
    expect(r.status).toBe(code);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', code, message });
  });

  it('answers 410 for an Exact read or a page of a revision compacted away, offering a token that goes on at the newest data', async () => {
    const p1 = await t.get(`${NS}?limit=1&resourceVersion=${early}&resourceVersionMatch=Exact`);
    expect(p1.status).toBe(200);
    clock.advance(120_000);
    expect((await t.put(`${NS}/c`, configMap('c', { v: '3' }))).status).toBe(200);
    await t.store.compact();

    const exact = await t.get(`${NS}?resourceVersion=${early}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(410);
    expect(exact.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410, message: 'The resourceVersion for the provided list is too old.' });

    const page = await t.get(`${NS}?limit=1&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
    expect(page.status).toBe(410);
    expect(page.body).toMatchObject({ reason: 'Expired', code: 410 });
    expect(page.body.message).toMatch(/^The provided continue parameter is too old to display a consistent list result\./);
    const rest = await t.get(`${NS}?continue=${encodeURIComponent(page.body.metadata.continue)}`);
    expect(rest.status).toBe(200);
    expect(names(rest.body)).toEqual(['bx-exact', 'bx-legacy', 'c', 'd']);
    expect(rest.body.items.find((i: Wire) => i.metadata.name === 'c').data).toEqual({ v: '3' });
  });
});
