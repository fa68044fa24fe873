/**
 * Cluster DNS wired into a docker node (`kumo up` with the docker runtime):
 * the host's one DNS server listens on a node-local link-local address
 * (a random one of 169.254.20.0/24, so a run never meets another cluster's)
 * and every pod's /etc/resolv.conf names it as kube writes it. From a real
 * busybox container: a Service by full and short name, a StatefulSet pod's
 * name under its headless Service, an SRV record, an outside name forwarded
 * to a resolver the test runs on loopback; a hostNetwork pod under
 * ClusterFirstWithHostNet reaches the same server; dnsPolicy Default keeps
 * the host's resolvers; a search list too long is cut with the kubelet's
 * Warning event; the process's /metrics counts the queries as CoreDNS does.
 * Then a standalone agent (runAgent, as `kumo agent` and the ECS node agent
 * run it) with its own server beside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '#lib/api/core/v1/service';
import type { KObject } from '#lib/api/object';
import { readHostResolvConf } from '#lib/agent/dns/host-resolv-conf';
import { parseResolvConf } from '#lib/agent/dns/resolv-conf';
import type { Agent } from '#lib/agent/agent';
import { type RunningAgent, runAgent, standaloneAgentDirs } from '#lib/assembly/agent';
import { PODS, resourceByName } from '#lib/kinds/resources';
import { silentLogger } from '#lib/log/logger';
import { startCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type TestUpstream } from './dns.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, eventsOf, FAST_AGENT, podObject, ready, waitPod } from './harness.js';

const docker = await dockerForTests();
const rt = (name: string) => resourceByName(name)!;
const image = { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent' };
const sleeper = (extra: Record<string, unknown> = {}) => ({
  terminationGracePeriodSeconds: 1,
  containers: [{ name: 'c', ...image, command: ['sleep', '3600'] }],
  ...extra,
});

/** Runs `command` in container `c` of a default-namespace pod; its exit code and output (stdout and stderr). */
async function execIn(agent: Agent, pod: string, command: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const collect = (b: Uint8Array) => (out += Buffer.from(b).toString());
  const code = await agent.exec('default', pod, 'c', command, { stdin: false, tty: false }, { stdout: collect, stderr: collect });
  return { code, out };
}

describe.skipIf(!docker)('cluster DNS on a docker node', () => {
  const node = uniqueNode('dns');
  const address = `169.254.20.${100 + Math.floor(Math.random() * 150)}`;
  let c: Awaited<ReturnType<typeof agentCluster>>;
  let upstream: TestUpstream;
  let clusterIP = '';

  const exec = (pod: string, command: string[]) => execIn(c.agents.get(node)!, pod, command);

  beforeAll(async () => {
    await ensureTestImage();
    upstream = await startUpstream({ 'outside.example A': [{ name: 'outside.example', type: 'A', ttl: 30, data: '192.0.2.7' }] });
    c = await agentCluster({
      runtime: 'docker',
      nodeNames: [node],
      proxy: false,
      dns: { address, upstreams: [{ address: '127.0.0.1', port: upstream.port }] },
    });
    const svc = await c.client.create<Service & KObject>(rt('services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    clusterIP = svc.spec!.clusterIP!;
    await c.client.create(rt('services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-headless' },
      spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] },
    });
    await c.client.create(rt('statefulsets'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        serviceName: 'web-headless',
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: sleeper() },
      },
    });
    await c.client.create(PODS, 'default', podObject('client', sleeper()));
    await c.client.create(PODS, 'default', podObject('host-dns', sleeper({ dnsPolicy: 'Default' })));
  }, 60_000);

  afterAll(async () => {
    await c?.dispose();
    await removeNodeContainers(node);
    await upstream?.close();
  });

  it('serves on the node-local address and names it in the pods’ resolv.conf as the kubelet writes it', async () => {
    expect(c.dns?.address).toBe(address);
    await waitPod(c.client, 'client', ready, 'ready');
    const hostSearches = parseResolvConf(readHostResolvConf().text).searches;
    const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ...hostSearches].join(' ');
    expect((await exec('client', ['cat', '/etc/resolv.conf'])).out).toBe(`search ${search}\nnameserver ${address}\noptions ndots:5\n`);
  }, 30_000);

  it('resolves a Service by its full name and by its short name through the search list', async () => {
    const full = await exec('client', ['nslookup', '-type=a', 'web.default.svc.cluster.local']);
    expect(full.code).toBe(0);
    expect(full.out).toContain(`Address: ${clusterIP}`);
    const short = await exec('client', ['nslookup', '-type=a', 'web']);
    expect(short.out).toContain(`Address: ${clusterIP}`);
  }, 30_000);

  it('resolves a StatefulSet pod by its name under the headless Service', async () => {
    const pod = await waitPod(c.client, 'web-0', (p) => ready(p) && !!p.status?.podIP, 'ready with an IP');
    const name = 'web-0.web-headless.default.svc.cluster.local';
    // The endpoint reaches the records a moment after the pod turns ready.
    const found = await waitFor(
      async () => {
        const r = await exec('client', ['nslookup', '-type=a', name]);
        return r.out.includes(`Address: ${pod.status!.podIP}`) ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 300, what: `${name} to resolve` },
    );
    expect(found.code).toBe(0);
  }, 30_000);

  it('answers SRV for a named port', async () => {
    const srv = await exec('client', ['nslookup', '-type=srv', '_http._tcp.web.default.svc.cluster.local']);
    expect(srv.code).toBe(0);
    expect(srv.out).toContain('_http._tcp.web.default.svc.cluster.local\tservice = 0 100 80 web.default.svc.cluster.local');
  }, 30_000);

  it('forwards an outside name to the upstream resolver', async () => {
    const out = await exec('client', ['nslookup', '-type=a', 'outside.example.']);
    expect(out.out).toContain('Address: 192.0.2.7');
    expect(upstream.asked).toContain('udp outside.example A');
  }, 30_000);

  it('gives a hostNetwork pod under ClusterFirstWithHostNet the same server, reached on the host’s lo', async () => {
    await c.client.create(PODS, 'default', podObject('host-net', sleeper({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' })));
    await waitPod(c.client, 'host-net', ready, 'ready');
    expect(parseResolvConf((await exec('host-net', ['cat', '/etc/resolv.conf'])).out).servers).toEqual([address]);
    expect((await exec('host-net', ['nslookup', '-type=a', 'web.default.svc.cluster.local'])).out).toContain(`Address: ${clusterIP}`);
  }, 30_000);

  it('keeps the host’s resolvers under dnsPolicy Default', async () => {
    await waitPod(c.client, 'host-dns', ready, 'ready');
    const host = parseResolvConf(readHostResolvConf().text);
    const conf = parseResolvConf((await exec('host-dns', ['cat', '/etc/resolv.conf'])).out);
    expect(conf.servers).toEqual(host.servers.slice(0, 3));
    expect(conf.servers).not.toContain(address);
  }, 30_000);

  it('cuts a search list over 32 domains and says so in a Warning event', async () => {
    const searches = Array.from({ length: 32 }, (_, i) => `s${i}.example`);
    await c.client.create(PODS, 'default', podObject('long-search', sleeper({ dnsConfig: { searches } })));
    await waitPod(c.client, 'long-search', ready, 'ready');
    const conf = parseResolvConf((await exec('long-search', ['cat', '/etc/resolv.conf'])).out);
    expect(conf.searches).toHaveLength(32);
    expect(conf.searches.slice(0, 3)).toEqual(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    const events = await waitFor(
      async () => ((await eventsOf(c.client, 'long-search')).some((e) => e.startsWith('DNSConfigForming')) ? eventsOf(c.client, 'long-search') : undefined),
      {
        what: 'the DNSConfigForming event',
      },
    );
    expect(events).toContain(
      `DNSConfigForming: Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${conf.searches.join(' ')}`,
    );
  }, 30_000);

  it('counts queries and responses as CoreDNS does on /metrics', async () => {
    const text = await (await fetch(`${c.url}/metrics`)).text();
    const server = `dns://${address}:53`;
    expect(text).toMatch(
      new RegExp(`coredns_dns_requests_total\\{server="${server}",zone="cluster.local.",view="",proto="udp",family="1",type="SRV"\\} [1-9]`),
    );
    expect(text).toMatch(new RegExp(`coredns_dns_responses_total\\{server="${server}",zone=".",view="",rcode="NOERROR",plugin="forward"\\} [1-9]`));
  });

  it('removes the address it added when it stops', async () => {
    const onLo = () => execFileSync('ip', ['-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
    expect(onLo()).toContain(`inet ${address}/32`);
    await c.dns!.stop();
    expect(onLo()).not.toContain(`inet ${address}/32`);
  });
});

describe.skipIf(!docker)('cluster DNS beside a standalone docker agent (kumo agent, the ECS node agent)', () => {
  const node = uniqueNode('dns-agent');
  const address = `169.254.20.${1 + Math.floor(Math.random() * 99)}`;
  let c: Awaited<ReturnType<typeof startCluster>>;
  let running: RunningAgent;
  let dir = '';

  beforeAll(async () => {
    await ensureTestImage();
    dir = mkdtempSync(join(tmpdir(), 'kumo-dns-agent-'));
    // An API server without agents of its own: the agent joins it as `kumo agent` does.
    c = await startCluster();
    running = await runAgent({
      client: c.client,
      nodeName: node,
      runtime: 'docker',
      nodeIP: '127.0.0.1',
      ...standaloneAgentDirs(dir, node),
      agent: FAST_AGENT,
      dns: { address },
      logger: silentLogger,
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop({ stopPods: true });
    await c?.dispose();
    await removeNodeContainers(node);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names its server in the pods’ resolv.conf, answers from the API, and takes its address away when it stops', async () => {
    const svc = await c.client.create<Service & KObject>(rt('services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api' },
      spec: { ports: [{ port: 443 }] },
    });
    await c.client.create(PODS, 'default', podObject('client', sleeper({ nodeName: node })));
    await waitPod(c.client, 'client', ready, 'ready');
    expect(parseResolvConf((await execIn(running.agent!, 'client', ['cat', '/etc/resolv.conf'])).out).servers).toEqual([address]);
    expect((await execIn(running.agent!, 'client', ['nslookup', '-type=a', 'api.default.svc.cluster.local'])).out).toContain(`Address: ${svc.spec!.clusterIP}`);
    await running.stop({ stopPods: true });
    expect(execFileSync('ip', ['-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' })).not.toContain(`inet ${address}/32`);
  }, 30_000);
});
