/**
 * A node's DNS server as the agent assembles it (lib/agent/dns/node-dns.ts),
 * without containers: fed from a `kumo up` API by its informers, listening on
 * the fallback address when its node-local address cannot be added (here: a
 * device that does not exist, as without CAP_NET_ADMIN), answering through
 * Node's resolver, and releasing its sockets when stopped. The host's
 * resolv.conf as the kubelet is pointed at it (systemd-resolved's stub).
 */
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '#lib/api/core/v1/service';
import type { KObject } from '#lib/api/object';
import { ETC_RESOLV_CONF, readHostResolvConf, SYSTEMD_RESOLV_CONF } from '#lib/agent/dns/host-resolv-conf';
import { NodeDns } from '#lib/agent/dns/node-dns';
import { resourceByName } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type TestUpstream } from './dns.js';

const NO_DEVICE = 'kumo-nodev0';

/** Whether something accepts TCP connections on host:53. */
function tcpOpen(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(53, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('NodeDns', () => {
  // A loopback address of its own (all of 127/8 is the host's): nothing else of the host's listens there on 53.
  const fallback = `127.53.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  let c: Awaited<ReturnType<typeof startCluster>>;
  let upstream: TestUpstream;
  let clusterIP = '';

  beforeAll(async () => {
    c = await startCluster();
    upstream = await startUpstream({ 'outside.example A': [{ name: 'outside.example', type: 'A', ttl: 30, data: '192.0.2.9' }] });
    const svc = await c.client.create<Service & KObject>(resourceByName('services')!, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ port: 80 }] },
    });
    clusterIP = svc.spec!.clusterIP!;
  });

  afterAll(async () => {
    await upstream?.close();
    await c?.dispose();
  });

  const nodeDns = (fallbackAddress: () => Promise<string | undefined>) =>
    new NodeDns({
      client: c.client,
      device: NO_DEVICE,
      fallbackAddress,
      upstreams: [{ address: '127.0.0.1', port: upstream.port }],
      logger: silentLogger,
    });

  it('serves on the fallback address when its own cannot be added, and lets go of it when stopped', async () => {
    const dns = nodeDns(async () => fallback);
    expect(await dns.start()).toBe(fallback);
    expect(dns.address).toBe(fallback);
    await waitFor(() => dns.records.synced(), { what: 'the records to list every kind' });
    const resolver = new Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([fallback]);
    expect(await resolver.resolve4('web.default.svc.cluster.local')).toEqual([clusterIP]);
    expect(await resolver.resolve4('outside.example')).toEqual(['192.0.2.9']);
    await dns.stop();
    expect(dns.address).toBeUndefined();
    expect(await tcpOpen(fallback)).toBe(false);
    // The UDP socket is gone too: another server binds the same address and port at once.
    const again = nodeDns(async () => fallback);
    expect(await again.start()).toBe(fallback);
    await again.stop();
  });

  it('serves nowhere, and says so, when there is no fallback either', async () => {
    const dns = nodeDns(async () => undefined);
    expect(await dns.start()).toBeUndefined();
    await dns.stop();
  });
});

describe('the host resolv.conf', () => {
  const files = (entries: Record<string, string>) => (path: string) => entries[path];

  it('is /etc/resolv.conf', () => {
    const etc = 'nameserver 10.0.0.2\nsearch corp.example\n';
    expect(readHostResolvConf(files({ [ETC_RESOLV_CONF]: etc, [SYSTEMD_RESOLV_CONF]: 'nameserver 10.9.9.9\n' }))).toEqual({ path: ETC_RESOLV_CONF, text: etc });
  });

  it("is systemd-resolved's upstream file where /etc/resolv.conf names only its stub", () => {
    const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n';
    const upstreams = 'nameserver 10.0.0.2\nnameserver 10.0.0.3\n';
    expect(readHostResolvConf(files({ [ETC_RESOLV_CONF]: stub, [SYSTEMD_RESOLV_CONF]: upstreams }))).toEqual({ path: SYSTEMD_RESOLV_CONF, text: upstreams });
    // Without systemd-resolved's file, the stub is all there is.
    expect(readHostResolvConf(files({ [ETC_RESOLV_CONF]: stub }))).toEqual({ path: ETC_RESOLV_CONF, text: stub });
  });

  it('is empty when there is none', () => {
    expect(readHostResolvConf(files({}))).toEqual({ path: ETC_RESOLV_CONF, text: '' });
  });
});
