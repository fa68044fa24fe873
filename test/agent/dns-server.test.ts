/**
 * The cluster DNS server over real sockets on loopback. Its records come
 * from a `kumo up` cluster with simulated nodes, through the informers an
 * agent feeds them with (recordInformers): Services, pods made ready by the fake nodes, and the
 * EndpointSlices the endpoints controller writes (plus hand-written slices
 * for a 40-address Service and an IPv6 one). Names outside the cluster go to
 * a tiny upstream resolver the test runs on loopback, never the network.
 *
 * Queries go out through Node's own resolver (c-ares, which follows CNAMEs
 * and retries truncated answers over TCP as libc does) where a user's view
 * is what counts, and as raw dns-packet messages where flags, sections and
 * malformed input are.
 */
import { Resolver } from 'node:dns/promises';
import { decode, encode } from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterRecords } from '#lib/agent/dns/cluster-records';
import { ClusterZone } from '#lib/agent/dns/cluster-zone';
import { Forwarder } from '#lib/agent/dns/forwarder';
import { DnsServer } from '#lib/agent/dns/server';
import { frame } from '#lib/agent/dns/tcp-framing';
import type { Pod } from '#lib/api/core/v1/pod';
import type { Service } from '#lib/api/core/v1/service';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import type { Informer } from '#lib/client/informer';
import { recordInformers } from '#lib/agent/dns/node-dns';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { askTcp, query, rcodeOf, startSilent, startUpstream, type TestUpstream, UdpClient } from './dns.js';
import { silentLogger } from '#lib/log/logger';

const rt = (name: string) => resourceByName(name)!;
const NS = 'dns';

function pod(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } };
}
function service(name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec };
}
function slice(name: string, service: string, addressType: string, endpoints: { addresses: string[]; hostname?: string }[]): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service } },
    addressType,
    endpoints,
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  };
}
const dashed = (ip: string) => ip.replaceAll('.', '-');
const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (err: NodeJS.ErrnoException) => err.code,
  );

describe('cluster DNS server', () => {
  let c: Awaited<ReturnType<typeof startCluster>>;
  let records: ClusterRecords;
  let informers: Informer[];
  let upstream: TestUpstream;
  let server: DnsServer;
  let port: number;
  let resolver: Resolver;
  const ips: Record<string, string> = {};
  let clusterIP = '';

  beforeAll(async () => {
    upstream = await startUpstream({
      'example.test A': [{ name: 'example.test', type: 'A', ttl: 30, data: '192.0.2.10' }],
      'external.example.test A': [{ name: 'external.example.test', type: 'A', ttl: 30, data: '192.0.2.20' }],
      // Over 512 bytes: truncated over UDP, whole over TCP.
      'big.example.test TXT': Array.from({ length: 20 }, (_, i) => ({ name: 'big.example.test', type: 'TXT' as const, ttl: 30, data: `${i}`.padEnd(60, 'x') })),
    });
    c = await startCluster({ fakeNodes: { names: ['n1'], startDelayMs: 20 }, resyncIntervalMs: 60_000 });
    await c.client.create(rt('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const create = (kind: string, obj: KObject) => c.client.create(rt(kind), NS, obj);
    await create(
      'services',
      service('web', {
        selector: { app: 'web' },
        ports: [
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
    );
    await create('services', service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] }));
    await create('services', service('ext', { type: 'ExternalName', externalName: 'external.example.test' }));
    await create('services', service('alias', { type: 'ExternalName', externalName: `web.${NS}.svc.cluster.local` }));
    await create('services', service('many', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
    await create('services', service('v6', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
    for (const name of ['web-a', 'web-b']) await create('pods', pod(name, { app: 'web' }));
    // A StatefulSet's pods: hostname and subdomain naming the headless Service.
    for (const name of ['db-0', 'db-1']) await create('pods', pod(name, { app: 'db' }, { hostname: name, subdomain: 'db' }));
    await create(
      'endpointslices',
      slice(
        'many-1',
        'many',
        'IPv4',
        Array.from({ length: 40 }, (_, i) => ({ addresses: [`10.1.0.${i + 1}`] })),
      ),
    );
    await create('endpointslices', slice('v6-1', 'v6', 'IPv6', [{ addresses: ['fd00::1'], hostname: 'six' }, { addresses: ['fd00::2'] }]));

    // The agent's feed: informers over the four kinds.
    records = new ClusterRecords();
    informers = recordInformers(c.client, records);
    await Promise.all(informers.map((i) => i.start()));
    records.markSynced();

    const zone = new ClusterZone(records);
    server = new DnsServer({ zone, forwarder: new Forwarder({ upstreams: [{ address: '127.0.0.1', port: upstream.port }] }), port: 0, logger: silentLogger });
    ({ port } = await server.start());
    resolver = new Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);

    await waitFor(
      () => {
        const ready = (svc: string, n: number) => records.endpoints(NS, svc).length === n;
        return ready('web', 2) && ready('db', 2) && ready('many', 40) && ready('v6', 2) && records.service(NS, 'alias') !== undefined;
      },
      { what: 'the records of every Service' },
    );
    for (const p of (await c.client.list<Pod & KObject>(rt('pods'), NS)).items) ips[p.metadata.name!] = p.status!.podIP!;
    clusterIP = (await c.client.get<Service & KObject>(rt('services'), NS, 'web')).spec!.clusterIP!;
  });

  afterAll(async () => {
    await server?.stop();
    await Promise.all((informers ?? []).map((i) => i.stop()));
    await c?.dispose();
    await upstream?.close();
  });

  it("answers a ClusterIP Service's name with its ClusterIP, authoritatively, TTL 5", async () => {
    expect(await resolver.resolve4(`web.${NS}.svc.cluster.local`)).toEqual([clusterIP]);
    const udp = new UdpClient(port);
    const reply = await udp.ask(query(`web.${NS}.svc.cluster.local`, 'A'));
    udp.close();
    expect(rcodeOf(reply)).toBe('NOERROR');
    expect(reply.flag_aa).toBe(true);
    expect(reply.answers).toEqual([expect.objectContaining({ name: `web.${NS}.svc.cluster.local`, type: 'A', ttl: 5, data: clusterIP })]);
  });

  it("answers a headless Service with one A per ready endpoint, and each StatefulSet pod's own name", async () => {
    expect((await resolver.resolve4(`db.${NS}.svc.cluster.local`)).sort()).toEqual([ips['db-0'], ips['db-1']].sort());
    expect(await resolver.resolve4(`db-0.db.${NS}.svc.cluster.local`)).toEqual([ips['db-0']]);
    expect(await resolver.resolve4(`db-1.db.${NS}.svc.cluster.local`)).toEqual([ips['db-1']]);
    // An endpoint without a hostname is named by its dashed address.
    expect(await resolver.resolve4(`${dashed(ips['web-a']!)}.web.${NS}.svc.cluster.local`)).toEqual([ips['web-a']]);
  });

  it('drops an endpoint that turns not ready, and its name with it', async () => {
    const cur = await c.client.get<Pod & KObject>(rt('pods'), NS, 'db-1');
    const setReady = async (ready: boolean) => {
      const p = await c.client.get<Pod & KObject>(rt('pods'), NS, 'db-1');
      const conditions = (p.status?.conditions ?? []).map((x) => (x.type === 'Ready' ? { ...x, status: ready ? 'True' : 'False' } : x));
      await c.client.updateStatus(rt('pods'), { ...p, status: { ...p.status, conditions } } as KObject);
    };
    await setReady(false);
    await waitFor(async () => (await resolver.resolve4(`db.${NS}.svc.cluster.local`)).length === 1, { what: 'one address left' });
    expect(await resolver.resolve4(`db.${NS}.svc.cluster.local`)).toEqual([ips['db-0']]);
    expect(await errorCode(resolver.resolve4(`db-1.db.${NS}.svc.cluster.local`))).toBe('ENOTFOUND');
    await setReady(true);
    await waitFor(async () => (await resolver.resolve4(`db.${NS}.svc.cluster.local`)).length === 2, { what: 'both addresses back' });
    expect(cur.status?.podIP).toBe(ips['db-1']);
  });

  it('answers SRV per named port: the Service for a ClusterIP, each endpoint for a headless one, addresses alongside', async () => {
    expect(await resolver.resolveSrv(`_http._tcp.web.${NS}.svc.cluster.local`)).toEqual([
      { name: `web.${NS}.svc.cluster.local`, port: 80, priority: 0, weight: 100 },
    ]);
    expect(await resolver.resolveSrv(`_dns._udp.web.${NS}.svc.cluster.local`)).toEqual([
      { name: `web.${NS}.svc.cluster.local`, port: 53, priority: 0, weight: 100 },
    ]);
    const db = await resolver.resolveSrv(`_pg._tcp.db.${NS}.svc.cluster.local`);
    expect(db.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: `db-0.db.${NS}.svc.cluster.local`, port: 5432, priority: 0, weight: 50 },
      { name: `db-1.db.${NS}.svc.cluster.local`, port: 5432, priority: 0, weight: 50 },
    ]);
    const udp = new UdpClient(port);
    const reply = await udp.ask(query(`_pg._tcp.db.${NS}.svc.cluster.local`, 'SRV'));
    udp.close();
    expect(reply.additionals?.map((a) => [a.name, a.type, 'data' in a ? a.data : undefined]).sort()).toEqual(
      [
        [`db-0.db.${NS}.svc.cluster.local`, 'A', ips['db-0']],
        [`db-1.db.${NS}.svc.cluster.local`, 'A', ips['db-1']],
      ].sort(),
    );
    // No such port name or protocol: no such name.
    expect(await errorCode(resolver.resolveSrv(`_http._udp.web.${NS}.svc.cluster.local`))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolveSrv(`_nope._tcp.db.${NS}.svc.cluster.local`))).toBe('ENOTFOUND');
  });

  it('answers PTR for ClusterIPs and endpoint addresses, and forwards the PTR of any other address', async () => {
    expect(await resolver.reverse(clusterIP)).toEqual([`web.${NS}.svc.cluster.local`]);
    expect(await resolver.reverse(ips['db-0']!)).toEqual([`db-0.db.${NS}.svc.cluster.local`]);
    expect(await resolver.reverse('fd00::2')).toEqual([`fd00--2.v6.${NS}.svc.cluster.local`]);
    expect(await errorCode(resolver.reverse('192.0.2.99'))).toBe('ENOTFOUND');
    expect(upstream.asked).toContain('udp 99.2.0.192.in-addr.arpa PTR');
  });

  it("answers a pod's dashed address in its own namespace only, and only for a pod that has it", async () => {
    const ip = ips['web-a']!;
    expect(await resolver.resolve4(`${dashed(ip)}.${NS}.pod.cluster.local`)).toEqual([ip]);
    expect(await errorCode(resolver.resolve4(`${dashed(ip)}.default.pod.cluster.local`))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolve4(`10-9-9-9.${NS}.pod.cluster.local`))).toBe('ENOTFOUND');
  });

  it('answers an ExternalName Service with a CNAME, followed upstream or inside the zone', async () => {
    expect(await resolver.resolveCname(`ext.${NS}.svc.cluster.local`)).toEqual(['external.example.test']);
    expect(await resolver.resolve4(`ext.${NS}.svc.cluster.local`)).toEqual(['192.0.2.20']);
    expect(await resolver.resolve4(`alias.${NS}.svc.cluster.local`)).toEqual([clusterIP]);
  });

  it('answers AAAA for IPv6 endpoints, by Service and by endpoint hostname', async () => {
    expect((await resolver.resolve6(`v6.${NS}.svc.cluster.local`)).sort()).toEqual(['fd00::1', 'fd00::2']);
    expect(await resolver.resolve6(`six.v6.${NS}.svc.cluster.local`)).toEqual(['fd00::1']);
  });

  it('tells NXDOMAIN from NODATA, each with the zone SOA in the authority section', async () => {
    const udp = new UdpClient(port);
    const soa = {
      name: 'cluster.local',
      type: 'SOA',
      ttl: 5,
      data: expect.objectContaining({
        mname: 'ns.dns.cluster.local',
        rname: 'hostmaster.cluster.local',
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 5,
      }),
    };
    for (const [name, type, rcode] of [
      [`nope.${NS}.svc.cluster.local`, 'A', 'NXDOMAIN'],
      [`nope.svc.cluster.local`, 'A', 'NXDOMAIN'],
      [`a.b.c.web.${NS}.svc.cluster.local`, 'A', 'NXDOMAIN'],
      [`web.${NS}.other.cluster.local`, 'A', 'NXDOMAIN'],
      [`web.${NS}.svc.cluster.local`, 'AAAA', 'NOERROR'],
      [`web.${NS}.svc.cluster.local`, 'MX', 'NOERROR'],
      [`${NS}.svc.cluster.local`, 'A', 'NOERROR'],
      ['cluster.local', 'A', 'NOERROR'],
    ] as const) {
      const reply = await udp.ask(query(name, type));
      expect([name, type, rcodeOf(reply), reply.flag_aa, reply.answers]).toEqual([name, type, rcode, true, []]);
      expect(reply.authorities).toEqual([expect.objectContaining(soa)]);
    }
    udp.close();
    expect(await errorCode(resolver.resolve4(`nope.${NS}.svc.cluster.local`))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolve6(`web.${NS}.svc.cluster.local`))).toBe('ENODATA');
    expect(await resolver.resolveTxt('dns-version.cluster.local')).toEqual([['1.1.0']]);
  });

  it('truncates an answer too large for UDP, and gives it whole over TCP', async () => {
    const name = `many.${NS}.svc.cluster.local`;
    const udp = new UdpClient(port);
    const plain = await udp.ask(query(name, 'A'));
    const edns = await udp.ask(
      query(name, 'A', {
        additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
      }),
    );
    udp.close();
    for (const reply of [plain, edns]) {
      expect(reply.flag_tc).toBe(true);
      expect(reply.answers).toEqual([]);
    }
    expect(edns.additionals).toEqual([expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232 })]);
    const { replies } = await askTcp(port, [frame(encode(query(name, 'A')))]);
    expect(replies[0]!.flag_tc).toBe(false);
    expect(replies[0]!.answers).toHaveLength(40);
    // A resolver retries over TCP by itself.
    expect(await resolver.resolve4(name)).toHaveLength(40);
  });

  it("forwards other names to the host's resolvers, retrying over TCP when the UDP answer is truncated", async () => {
    expect(await resolver.resolve4('example.test')).toEqual(['192.0.2.10']);
    expect(upstream.asked).toContain('udp example.test A');
    const txt = await resolver.resolveTxt('big.example.test');
    expect(txt).toHaveLength(20);
    expect(upstream.asked.filter((q) => q.endsWith('big.example.test TXT'))).toEqual(
      expect.arrayContaining(['udp big.example.test TXT', 'tcp big.example.test TXT']),
    );
    expect(await errorCode(resolver.resolve4('missing.example.test'))).toBe('ENOTFOUND');
  });

  describe('forwarding failures', () => {
    let silent: Awaited<ReturnType<typeof startSilent>>;
    beforeAll(async () => {
      silent = await startSilent();
    });
    afterAll(async () => silent?.close());

    async function withServer<T>(forwarder: Forwarder, fn: (port: number) => Promise<T>): Promise<T> {
      const s = new DnsServer({ zone: new ClusterZone(records), forwarder, port: 0, logger: silentLogger });
      const { port: p } = await s.start();
      try {
        return await fn(p);
      } finally {
        await s.stop();
      }
    }

    it('skips a resolver that does not answer in time for the next one', async () => {
      const forwarder = new Forwarder({
        upstreams: [
          { address: '127.0.0.1', port: silent.port },
          { address: '127.0.0.1', port: upstream.port },
        ],
        timeoutMs: 200,
      });
      const reply = await withServer(forwarder, async (p) => {
        const udp = new UdpClient(p);
        const r = await udp.ask(query('example.test', 'A'));
        udp.close();
        return r;
      });
      expect(rcodeOf(reply)).toBe('NOERROR');
      expect(reply.answers).toEqual([expect.objectContaining({ data: '192.0.2.10' })]);
    });

    it('answers SERVFAIL when no resolver answers, and REFUSED beyond the concurrent forwards allowed', async () => {
      const forwarder = new Forwarder({ upstreams: [{ address: '127.0.0.1', port: silent.port }], timeoutMs: 300, maxConcurrent: 1 });
      const [first, second] = await withServer(forwarder, async (p) => {
        const udp = new UdpClient(p);
        const a = query('example.test', 'A', { id: 1 });
        const b = query('example.test', 'A', { id: 2 });
        udp.send(a);
        udp.send(b);
        const replies = [await udp.next(), await udp.next()];
        udp.close();
        return replies.map((r) => (({ id, rcode }) => ({ id, rcode }))(decodeReply(r)));
      });
      expect(first).toEqual({ id: 2, rcode: 'REFUSED' });
      expect(second).toEqual({ id: 1, rcode: 'SERVFAIL' });
    });
  });

  it('answers SERVFAIL, not NXDOMAIN, for unknown cluster names until its records have synced', async () => {
    const s = new DnsServer({ zone: new ClusterZone(new ClusterRecords()), port: 0, logger: silentLogger });
    const { port: p } = await s.start();
    const udp = new UdpClient(p);
    const reply = await udp.ask(query(`web.${NS}.svc.cluster.local`, 'A'));
    udp.close();
    await s.stop();
    expect(rcodeOf(reply)).toBe('SERVFAIL');
  });

  describe('malformed queries', () => {
    const header = (id: number, flags: number, qd: number) => {
      const b = Buffer.alloc(12);
      b.writeUInt16BE(id, 0);
      b.writeUInt16BE(flags, 2);
      b.writeUInt16BE(qd, 4);
      return b;
    };

    it('drops what is shorter than a header or is a response, and answers FORMERR or NOTIMP with the query ID otherwise', async () => {
      const udp = new UdpClient(port);
      udp.send(Buffer.from([1, 2, 3]));
      udp.send(header(7, 0x8000, 1));
      // The first reply to arrive answers the next query: the two above got none.
      const ok = await udp.ask(query(`web.${NS}.svc.cluster.local`, 'A', { id: 99 }));
      expect([ok.id, rcodeOf(ok)]).toEqual([99, 'NOERROR']);

      const cases: [string, Buffer, string][] = [
        ['a question cut short', Buffer.concat([header(11, 0, 1), Buffer.from([3, 97, 98])]), 'FORMERR'],
        [
          'two questions',
          encode({
            ...query('a.test', 'A'),
            id: 12,
            questions: [
              { name: 'a.test', type: 'A' },
              { name: 'b.test', type: 'A' },
            ],
          }),
          'FORMERR',
        ],
        ['no question', header(13, 0, 0), 'FORMERR'],
        ['a bad label', Buffer.concat([header(14, 0, 1), Buffer.from([0x80, 0, 0, 1, 0, 1])]), 'FORMERR'],
        ['over 4096 bytes', Buffer.concat([header(15, 0, 1), Buffer.alloc(5000)]), 'FORMERR'],
        ['opcode STATUS', encode({ ...query('a.test', 'A'), id: 16, flags: 2 << 11 }), 'NOTIMP'],
      ];
      for (const [what, message, rcode] of cases) {
        const reply = await udp.ask(message);
        expect([what, reply.id, rcodeOf(reply), reply.type]).toEqual([what, message.readUInt16BE(0), rcode, 'response']);
      }
      udp.close();
    });

    it('closes a TCP connection that announces more than a query may be, and answers the ones before it', async () => {
      const good = frame(encode(query(`web.${NS}.svc.cluster.local`, 'A', { id: 5 })));
      const huge = Buffer.from([0xff, 0xff, 0, 0]);
      const { replies, closed } = await askTcp(port, [good, huge], 2);
      expect(closed).toBe(true);
      expect(replies.map((r) => r.id)).toEqual([5]);
    });

    it('answers any bytes without crashing: nothing, or a response with the same ID (seeded fuzz)', async () => {
      const s = new DnsServer({ zone: new ClusterZone(records), port: 0, logger: silentLogger });
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 600 }), async (bytes) => {
          const message = Buffer.from(bytes);
          const reply = await s.handle(message, 'udp');
          if (message.length < 12 || (message[2]! & 0x80) !== 0) return reply === undefined;
          const decoded = decodeReply(reply!);
          return decoded.type === 'response' && decoded.id === message.readUInt16BE(0);
        }),
        { seed: 17, numRuns: 500 },
      );
      // And the listening server still answers after a burst of garbage.
      const udp = new UdpClient(port);
      for (const bytes of fc.sample(fc.uint8Array({ minLength: 12, maxLength: 300 }), { seed: 17, numRuns: 100 })) udp.send(Buffer.from(bytes));
      udp.send(query(`web.${NS}.svc.cluster.local`, 'A', { id: 4242 }));
      let ok = decode(await udp.next());
      while (ok.id !== 4242) ok = decode(await udp.next());
      udp.close();
      expect(ok.answers).toEqual([expect.objectContaining({ data: clusterIP })]);
    });
  });
});

function decodeReply(b: Buffer): { id: number; rcode: string; type: string | undefined } {
  const p = decode(b);
  return { id: p.id ?? -1, rcode: rcodeOf(p), type: p.type };
}
