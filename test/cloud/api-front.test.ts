/**
 * The way in from a pod on a cloud node: the API function keeps the
 * `default/kubernetes` Service (no Endpoints: a Function URL has no
 * address), and the node proxy answers its ClusterIP itself, terminating
 * TLS with the certificate the stack's cluster CA issued for the Service
 * and sending each request on to the Function URL, token and all. The
 * Function URL is the deployed API bundle on the emulator behind a local
 * HTTPS stand-in with its own CA (Amazon's role).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NodeProxy } from '#lib/agent/proxy/proxy';
import type { KObject } from '#lib/api/object';
import { kubernetesServiceNames } from '#lib/api/core/v1/kubernetes-service';
import { KubeClient } from '#lib/client/client';
import { HttpTransport } from '#lib/client/transport';
import { CONFIGMAPS, ENDPOINTS, SERVICE_ACCOUNTS, SERVICES } from '#lib/kinds/resources';
import { localTls } from '#lib/local/tls';
import { silentLogger } from '#lib/log/logger';
import { needClusterIPs } from '../helpers/cluster-ips.js';
import { waitFor } from '../helpers/wait.js';
import { type ApiModule, type CloudAccount, deployToEmulator, FunctionUrlServer, loadBundle } from './harness.js';

const bundles = inject('cloudBundles');
/** A service range of its own, so its kubernetes ClusterIP is no other test cluster's on this host (KUMO_SERVICE_CLUSTER_IP_RANGE). */
const second = 150 + Math.floor(Math.random() * 50);
const RANGE = `10.${second}.0.0/16`;
const CLUSTER_IP = `10.${second}.0.1`;
const account: CloudAccount | undefined = await deployToEmulator({ KUMO_SERVICE_CLUSTER_IP_RANGE: RANGE });

interface Answer {
  status: number;
  body: string;
}

describe.runIf(account)('the kubernetes Service on a cloud node', () => {
  const a = account!;
  const dir = mkdtempSync(join(tmpdir(), 'kumo-api-front-'));
  let fn: FunctionUrlServer;
  let standIn: https.Server;
  let standInUrl = '';
  let proxy: NodeProxy;
  let client: KubeClient;
  // Amazon's certificate for the Function URL, and the cluster CA's for the Service (what kube-root-ca.crt holds).
  const amazon = localTls(join(dir, 'amazon'), ['localhost']);
  const cluster = localTls(join(dir, 'cluster'), [CLUSTER_IP, ...kubernetesServiceNames()]);

  beforeAll(async () => {
    fn = new FunctionUrlServer((await loadBundle<ApiModule>(bundles.api)).streamingHandler);
    const target = new URL(await fn.start());
    // The Function URL's front: TLS with Amazon's certificate, then the function.
    standIn = https.createServer({ cert: amazon.certPem, key: amazon.keyPem }, (req, res) => {
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(up);
    });
    standIn.listen(0, '127.0.0.1');
    await once(standIn, 'listening');
    standInUrl = `https://localhost:${(standIn.address() as AddressInfo).port}`;
    client = new KubeClient(new HttpTransport({ server: standInUrl, token: a.adminToken, ca: amazon.caPem }));
    // The first request starts the function, which makes the Service.
    await waitFor(() => client.find(SERVICES, 'default', 'kubernetes'), { what: 'the kubernetes Service' });
    proxy = new NodeProxy({
      client,
      nodePortAddresses: [],
      logger: silentLogger,
      apiServer: { upstream: standInUrl, cert: cluster.certPem, key: cluster.keyPem, upstreamCa: amazon.caPem },
    });
    await proxy.start();
  });

  afterAll(async () => {
    await proxy?.stop();
    standIn?.closeAllConnections();
    standIn?.close();
    await fn?.stop();
    rmSync(dir, { recursive: true, force: true });
    await a.dispose();
  });

  function viaService(path: string, opts: { token?: string; ca?: string; servername?: string } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: CLUSTER_IP,
          port: 443,
          path,
          ca: opts.ca ?? cluster.caPem,
          ...(opts.servername ? { servername: opts.servername } : {}),
          headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('is the first address of the service range with https 443, and has no endpoints', async () => {
    expect(await client.get(SERVICES, 'default', 'kubernetes')).toMatchObject({
      spec: { clusterIP: CLUSTER_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 443 }] },
    });
    expect(await client.find(ENDPOINTS, 'default', 'kubernetes')).toBeUndefined();
  });

  it("answers pods with the cluster CA's certificate and carries their token to the Function URL", async (ctx) => {
    await waitFor(() => proxy.listening().includes(`${CLUSTER_IP}:443`) || !!proxy.clusterIPsUnavailable, { what: 'the ClusterIP listener' });
    needClusterIPs(proxy.clusterIPsUnavailable, () => ctx.skip());
    await client.create(CONFIGMAPS, 'default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'seen-through-the-service' },
      data: { a: 'b' },
    } as KObject);

    const listed = await viaService('/api/v1/namespaces/default/configmaps', { token: a.adminToken, servername: 'kubernetes.default.svc' });
    expect(listed.status).toBe(200);
    expect((JSON.parse(listed.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name)).toContain('seen-through-the-service');

    // No token: the API function's own answer comes back.
    const anonymous = await viaService('/api/v1/namespaces/default/configmaps');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });

    // A ServiceAccount's token reaches the API function, which authenticates it: a user it knows, refused for lack of a grant.
    await client.create(SERVICE_ACCOUNTS, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } } as KObject);
    const issued = await client.call<{ status: { token: string } }>({
      method: 'POST',
      path: '/api/v1/namespaces/default/serviceaccounts/reader/token',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
    });
    const asReader = await viaService('/api/v1/namespaces/kube-system/secrets', { token: issued.status.token });
    expect(asReader.status).toBe(403);
    expect(JSON.parse(asReader.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect((JSON.parse(asReader.body) as { message: string }).message).toContain('User "system:serviceaccount:default:reader"');

    // The pod trusts the cluster CA only: Amazon's certificate would not do, and the proxy shows none of it.
    await expect(viaService('/version', { ca: amazon.caPem })).rejects.toThrow(/self[- ]signed|unable to verify|unknown authority/i);
  });

  it('answers 503 with a Status when the Function URL does not answer', async (ctx) => {
    needClusterIPs(proxy.clusterIPsUnavailable, () => ctx.skip());
    standIn.closeAllConnections();
    standIn.close();
    const down = await viaService('/version', { token: a.adminToken });
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect((JSON.parse(down.body) as { message: string }).message).toMatch(/^error trying to reach the API server: /);
  });
});
