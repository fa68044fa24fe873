/**
 * The node proxy against servers on loopback addresses (no containers): a
 * Service without a selector and an EndpointSlice the test writes, so every
 * endpoint condition can be set exactly. Connections go round-robin over
 * ready endpoints, stick to one under ClientIP affinity, fall back to
 * terminating-but-serving endpoints only when nothing is ready, skip an
 * endpoint that refuses, and are refused when no endpoint may take them.
 */
import { createServer, type Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer, candidates } from '#lib/agent/proxy/balancer';
import { NodeProxy } from '#lib/agent/proxy/proxy';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { silentLogger } from '#lib/log/logger';

const rt = (name: string) => resourceByName(name)!;

/** Sends a line and reads the answer (the backend's name); rejects on a reset or an early close. */
function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    let data = '';
    s.on('data', (c) => (data += c.toString()));
    s.on('error', reject);
    s.on('close', () => (data ? resolve(data) : reject(new Error('closed without an answer'))));
    s.connect(port, '127.0.0.1', () => s.end('hi\n'));
  });
}

describe('node proxy (loopback backends)', () => {
  let c: Awaited<ReturnType<typeof startCluster>>;
  let proxy: NodeProxy;
  const servers: Server[] = [];
  let port = 0;
  let nodePort = 0;
  // Backends on 127.0.0.2..4, one port; 127.0.0.5 has nothing listening.
  const backends = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

  const slice = (endpoints: { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }[]): KObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-manual', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    ports: [{ name: 'tcp', port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  });
  const setSlice = async (endpoints: Parameters<typeof slice>[0]) => {
    const cur = await c.client.find(rt('endpointslices'), 'default', 'echo-manual');
    if (cur) await c.client.update(rt('endpointslices'), { ...slice(endpoints), metadata: { ...cur.metadata } });
    else await c.client.create(rt('endpointslices'), 'default', slice(endpoints));
    // The proxy reads slices from its watch: wait until a connection sees the new set.
  };

  beforeAll(async () => {
    const first = createServer((s) => s.end('127.0.0.2'));
    await new Promise<void>((r) => first.listen(0, '127.0.0.2', r));
    port = (first.address() as { port: number }).port;
    servers.push(first);
    for (const ip of backends.slice(1)) {
      const s = createServer((sock) => sock.end(ip));
      await new Promise<void>((r) => s.listen(port, ip, r));
      servers.push(s);
    }
    c = await startCluster({ controllers: false });
    const svc = await c.client.create<KObject & { spec: { ports: { nodePort: number }[] } }>(rt('services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo' },
      spec: { type: 'NodePort', ports: [{ name: 'tcp', port: 7000 }] },
    });
    nodePort = svc.spec.ports[0]!.nodePort;
    proxy = new NodeProxy({ client: c.client, clusterIPs: false, nodePortAddresses: ['127.0.0.1'], logger: silentLogger });
    await proxy.start();
    await waitFor(() => proxy.listening().includes(`127.0.0.1:${nodePort}`), { what: 'the node port to listen' });
  });

  afterAll(async () => {
    await proxy?.stop();
    await c?.dispose();
    for (const s of servers) s.close();
  });

  it('refuses connections while the Service has no endpoint', async () => {
    await expect(ask(nodePort)).rejects.toThrow();
  });

  it('spreads connections round-robin over ready endpoints and skips one that refuses', async () => {
    await setSlice([...backends.map((ip) => ({ ip })), { ip: '127.0.0.5' }]);
    await waitFor(async () => (await ask(nodePort).catch(() => '')) !== '', { what: 'an answer' });
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const who = await ask(nodePort);
      seen.set(who, (seen.get(who) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(backends);
    expect(Math.min(...seen.values())).toBeGreaterThanOrEqual(10);
  });

  it('never sends a connection to a not-ready endpoint, and uses terminating-but-serving ones only when nothing is ready', async () => {
    await setSlice([{ ip: '127.0.0.2' }, { ip: '127.0.0.3', ready: false }, { ip: '127.0.0.4', ready: false, serving: true, terminating: true }]);
    await waitFor(
      async () => {
        const answers = await Promise.all(Array.from({ length: 6 }, () => ask(nodePort)));
        return answers.every((a) => a === '127.0.0.2');
      },
      { what: 'only the ready endpoint to answer' },
    );
    await setSlice([
      { ip: '127.0.0.3', ready: false },
      { ip: '127.0.0.4', ready: false, serving: true, terminating: true },
    ]);
    await waitFor(async () => (await ask(nodePort)) === '127.0.0.4', { what: 'the terminating endpoint to take over' });
    for (let i = 0; i < 10; i++) expect(await ask(nodePort)).toBe('127.0.0.4');
    await setSlice([
      { ip: '127.0.0.3', ready: false },
      { ip: '127.0.0.4', ready: false, serving: false, terminating: true },
    ]);
    await waitFor(
      async () =>
        await ask(nodePort).then(
          () => false,
          () => true,
        ),
      { what: 'connections to be refused' },
    );
  });

  it('keeps a client on one endpoint with sessionAffinity ClientIP', async () => {
    await setSlice(backends.map((ip) => ({ ip })));
    const svc = await c.client.get(rt('services'), 'default', 'echo');
    await c.client.update(rt('services'), { ...svc, spec: { ...(svc.spec as object), sessionAffinity: 'ClientIP' } });
    await waitFor(
      async () => {
        const answers = await Promise.all(Array.from({ length: 12 }, () => ask(nodePort)));
        return new Set(answers).size === 1;
      },
      { what: 'one endpoint for this client' },
    );
  });
});

describe('Balancer', () => {
  const b = (ip: string, ready = true, serving = ready, terminating = false) => ({ ip, port: 80, ready, serving, terminating });

  it('prefers ready endpoints, falls back to serving terminating ones, never to the rest', () => {
    expect(candidates([b('a'), b('b', false), b('c', false, true, true)]).map((x) => x.ip)).toEqual(['a']);
    expect(candidates([b('b', false), b('c', false, true, true)]).map((x) => x.ip)).toEqual(['c']);
    expect(candidates([b('b', false), b('c', false, false, true)])).toEqual([]);
  });

  it('rotates the first choice and offers the others as fallbacks', () => {
    const bal = new Balancer();
    const list = [b('a'), b('b'), b('c')];
    expect(bal.pick(list, 'x', undefined, 0).map((e) => e.ip)).toEqual(['a', 'b', 'c']);
    expect(bal.pick(list, 'x', undefined, 0).map((e) => e.ip)).toEqual(['b', 'c', 'a']);
    expect(bal.pick(list, 'x', undefined, 0).map((e) => e.ip)).toEqual(['c', 'a', 'b']);
  });

  it('keeps a ClientIP affinity until it times out or its endpoint goes', () => {
    const bal = new Balancer();
    const list = [b('a'), b('b'), b('c')];
    const sticky = { timeoutMs: 1_000 };
    const first = bal.pick(list, '10.0.0.9', sticky, 0)[0]!.ip;
    for (let t = 100; t < 900; t += 100) expect(bal.pick(list, '10.0.0.9', sticky, t)[0]!.ip).toBe(first);
    expect(
      bal.pick(
        list.filter((e) => e.ip !== first),
        '10.0.0.9',
        sticky,
        950,
      )[0]!.ip,
    ).not.toBe(first);
  });
});
