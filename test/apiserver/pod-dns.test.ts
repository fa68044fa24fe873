/**
 * A pod's DNS settings over HTTP, validated as kube-apiserver 1.35 does
 * (validatePodDNSConfig with relaxed search validation, hostname and
 * subdomain as DNS labels): every refusal is a 422 with kube's wording and
 * stores nothing; what is valid is stored as written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENTS, pod, PODS, startApi, type TestApi, type Wire } from './harness.js';

let t: TestApi;

beforeAll(async () => {
  t = await startApi();
});

afterAll(async () => {
  await t?.close();
});

function dnsPod(name: string, spec: Wire): Wire {
  const p = pod(name);
  return { ...p, spec: { ...p.spec, ...spec } };
}

async function refused(path: string, body: Wire, causes: { field: string; message: string }[]): Promise<Wire> {
  const r = await t.post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(422);
  expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
  expect(r.body.details.causes.map((c: Wire) => ({ field: c.field, message: c.message }))).toEqual(causes);
  expect((await t.get(`${path}/${body.metadata.name}`)).status).toBe(404);
  return r.body;
}

describe('pod DNS settings', () => {
  it('stores dnsPolicy None with its dnsConfig as written', async () => {
    const dnsConfig = {
      nameservers: ['192.0.2.53', '2001:db8::53'],
      searches: ['corp.example.com', '_sip._tcp.example.com.', '.'],
      options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    };
    const r = await t.post(PODS, dnsPod('custom-dns', { dnsPolicy: 'None', dnsConfig, hostname: 'db-0', subdomain: 'db' }));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const stored = (await t.get(`${PODS}/custom-dns`)).body;
    expect(stored.spec).toMatchObject({ dnsPolicy: 'None', dnsConfig, hostname: 'db-0', subdomain: 'db' });
  });

  it('requires dnsConfig, with a nameserver, under dnsPolicy None', async () => {
    const body = await refused(PODS, dnsPod('none-bare', { dnsPolicy: 'None' }), [
      { field: 'spec.dnsConfig', message: 'Required value: must provide `dnsConfig` when `dnsPolicy` is None' },
    ]);
    expect(body.message).toBe('Pod "none-bare" is invalid: spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None');
    await refused(PODS, dnsPod('none-empty', { dnsPolicy: 'None', dnsConfig: { searches: ['a.example'] } }), [
      { field: 'spec.dnsConfig.nameservers', message: 'Required value: must provide at least one DNS nameserver when `dnsPolicy` is None' },
    ]);
  });

  it('refuses more than 3 nameservers and one that is no IP address', async () => {
    await refused(PODS, dnsPod('ns-many', { dnsConfig: { nameservers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', 'dns.example'] } }), [
      {
        field: 'spec.dnsConfig.nameservers',
        message: 'Invalid value: ["192.0.2.1","192.0.2.2","192.0.2.3","dns.example"]: must not have more than 3 nameservers',
      },
      { field: 'spec.dnsConfig.nameservers[3]', message: 'Invalid value: "dns.example": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
    ]);
  });

  it('refuses more than 32 search domains, more than 2048 characters of them, and one that is no subdomain', async () => {
    const many = Array.from({ length: 33 }, (_, i) => `d${i}.example`);
    await refused(PODS, dnsPod('search-many', { dnsConfig: { searches: many } }), [
      { field: 'spec.dnsConfig.searches', message: `Invalid value: ${JSON.stringify(many)}: must not have more than 32 search paths` },
    ]);
    const long = Array.from({ length: 9 }, (_, i) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(40)}${i}.example`);
    await refused(PODS, dnsPod('search-long', { dnsConfig: { searches: long } }), [
      {
        field: 'spec.dnsConfig.searches',
        message: `Invalid value: ${JSON.stringify(long)}: must not have more than 2048 characters (including spaces) in the search list`,
      },
    ]);
    await refused(PODS, dnsPod('search-bad', { dnsConfig: { searches: ['ok.example', 'Bad.Example.', '-x.example'] } }), [
      {
        field: 'spec.dnsConfig.searches[1]',
        message:
          "Invalid value: \"Bad.Example\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')",
      },
      {
        field: 'spec.dnsConfig.searches[2]',
        message:
          "Invalid value: \"-x.example\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')",
      },
    ]);
  });

  it('refuses an option without a name, and a hostname or subdomain that is no DNS label', async () => {
    await refused(PODS, dnsPod('opt-bad', { dnsConfig: { options: [{ value: '2' }] } }), [
      { field: 'spec.dnsConfig.options[0]', message: 'Required value: must not be empty' },
    ]);
    await refused(PODS, dnsPod('names-bad', { hostname: 'Db_0', subdomain: 'db.headless' }), [
      {
        field: 'spec.hostname',
        message:
          "Invalid value: \"Db_0\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      },
      { field: 'spec.subdomain', message: 'Invalid value: "db.headless": must not contain dots' },
    ]);
  });

  it("checks a Deployment's pod template the same way", async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'dns-none' },
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: { metadata: { labels: { app: 'x' } }, spec: { dnsPolicy: 'None', containers: [{ name: 'c', image: 'busybox' }] } },
      },
    };
    await refused(DEPLOYMENTS, d, [{ field: 'spec.template.spec.dnsConfig', message: 'Required value: must provide `dnsConfig` when `dnsPolicy` is None' }]);
  });
});
