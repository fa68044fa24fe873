/**
 * A pod's resolv.conf as the kubelet forms it, per dnsPolicy and dnsConfig,
 * from a node's settings: the exact file, and the kubelet's warnings where
 * its limits cut something.
 */
import { describe, expect, it } from 'vitest';
import { upstreamsFromResolvConf } from '#lib/agent/dns/forwarder';
import { formatResolvConf, type NodeDNSSettings, parseResolvConf, podDNSConfig } from '#lib/agent/dns/resolv-conf';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';

const HOST_FILE = `# written by the host
nameserver 192.0.2.53
nameserver 192.0.2.54
search old.example
search corp.example. lab.example
options rotate timeout:2
`;

const node: NodeDNSSettings = { clusterDNS: ['169.254.20.10'], host: parseResolvConf(HOST_FILE) };

function pod(spec: Pod['spec'] = {}, namespace = 'shop'): Pod & KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace, uid: 'u-1' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } };
}

const file = (p: Pod & KObject, n: NodeDNSSettings = node) => formatResolvConf(podDNSConfig(p, n).config);

describe("a pod's resolv.conf", () => {
  it("reads the node's file as the kubelet does: nameservers add up, the last search and options lines win, trailing dots go", () => {
    expect(parseResolvConf(HOST_FILE)).toEqual({
      servers: ['192.0.2.53', '192.0.2.54'],
      searches: ['corp.example', 'lab.example'],
      options: ['rotate', 'timeout:2'],
    });
  });

  it("takes the node's nameservers as the cluster DNS server's upstreams, never the server itself", () => {
    expect(upstreamsFromResolvConf(HOST_FILE)).toEqual([
      { address: '192.0.2.53', port: 53 },
      { address: '192.0.2.54', port: 53 },
    ]);
    expect(upstreamsFromResolvConf(`nameserver 169.254.20.10\n${HOST_FILE}`, { host: '169.254.20.10', port: 53 })).toHaveLength(2);
  });

  it('ClusterFirst: the cluster DNS server only, the namespace, service and cluster domains before the node’s, ndots:5', () => {
    expect(file(pod())).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 169.254.20.10\noptions ndots:5\n',
    );
    expect(file(pod({ dnsPolicy: 'ClusterFirst' }, 'default'))).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 169.254.20.10\noptions ndots:5\n',
    );
  });

  it("Default, and ClusterFirst on the host's network: the node's own settings; ClusterFirstWithHostNet keeps the cluster's", () => {
    const hostFile = 'search corp.example lab.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions rotate timeout:2\n';
    expect(file(pod({ dnsPolicy: 'Default' }))).toBe(hostFile);
    expect(file(pod({ dnsPolicy: 'ClusterFirst', hostNetwork: true }))).toBe(hostFile);
    expect(file(pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }))).toContain('nameserver 169.254.20.10\n');
  });

  it('None: only dnsConfig; otherwise dnsConfig is appended without duplicates and its options override by name', () => {
    const dnsConfig = { nameservers: ['192.0.2.99'], searches: ['team.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    expect(file(pod({ dnsPolicy: 'None', dnsConfig }))).toBe('search team.example\nnameserver 192.0.2.99\noptions ndots:2 edns0\n');
    const merged = { nameservers: ['169.254.20.10', '192.0.2.99'], searches: ['cluster.local', 'team.example'], options: dnsConfig.options };
    expect(file(pod({ dnsConfig: merged }))).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example team.example\n' +
        'nameserver 169.254.20.10\nnameserver 192.0.2.99\noptions ndots:2 edns0\n',
    );
  });

  it('cuts to 3 nameservers and to 32 search domains of at most 253 characters in 2048, with the kubelet’s warnings', () => {
    const tooMany = podDNSConfig(pod({ dnsConfig: { nameservers: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] } }), node);
    expect(tooMany.config.servers).toEqual(['169.254.20.10', '192.0.2.1', '192.0.2.2']);
    expect(tooMany.warnings).toEqual([
      {
        reason: 'DNSConfigForming',
        message: 'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 169.254.20.10 192.0.2.1 192.0.2.2',
      },
    ]);

    const searches = Array.from({ length: 30 }, (_, i) => `d${i}.example`);
    const cut = podDNSConfig(pod({ dnsConfig: { searches } }), node);
    expect(cut.config.searches).toHaveLength(32);
    expect(cut.config.searches.at(-1)).toBe('d26.example');
    expect(cut.warnings[0]!.message).toBe(
      `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${cut.config.searches.join(' ')}`,
    );

    const huge = `${'a'.repeat(250)}.example`;
    const long = Array.from({ length: 11 }, (_, i) => `${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.x${i}.example`);
    const dropped = podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['192.0.2.1'], searches: [huge, ...long] } }), node);
    // The over-long domain goes, then domains from the end until the line fits.
    expect(dropped.config.searches).toEqual(long.slice(0, 10));
    expect(dropped.config.searches.join(' ').length).toBeLessThanOrEqual(2048);
    expect(dropped.warnings.map((w) => w.reason)).toEqual(['DNSConfigForming']);
  });

  it('falls back to Default with a MissingClusterDNS warning when the node has no cluster DNS, and to loopback without a host file', () => {
    const { config, warnings } = podDNSConfig(pod(), { ...node, clusterDNS: [] });
    expect(formatResolvConf(config)).toBe('search corp.example lab.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions rotate timeout:2\n');
    expect(warnings).toEqual([
      {
        reason: 'MissingClusterDNS',
        message:
          'pod: "web-0_shop(u-1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
      },
    ]);
    expect(file(pod({ dnsPolicy: 'Default' }), { clusterDNS: [], host: undefined, nodeIPs: ['10.0.0.5', 'fd00::5'] })).toBe(
      'search .\nnameserver 127.0.0.1\nnameserver ::1\n',
    );
  });
});
