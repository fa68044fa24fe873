/**
 * The way in from a pod, as `kumo up` serves it: the `default/kubernetes`
 * Service (first address of the service range, `https` 443 → the API
 * server's port, no selector) with the Endpoints and EndpointSlice the API
 * server keeps at start, and a serving certificate that names the ClusterIP
 * and the Service's names, so an in-cluster client trusting the CA verifies
 * the server however it dials it.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '#lib/local/cluster';
import { localTls } from '#lib/local/tls';
import { silentLogger } from '#lib/log/logger';

const root = mkdtempSync(join(tmpdir(), 'kumo-k8s-svc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function getJson(cluster: LocalCluster, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.url}${path}`,
      { ca: Buffer.from(cluster.caData!, 'base64'), headers: { authorization: `Bearer ${cluster.adminToken}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The server's certificate, verified against the cluster CA (not against the name dialled). */
function peerCertificate(cluster: LocalCluster): Promise<PeerCertificate> {
  const { hostname, port } = new URL(cluster.url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: hostname, port: Number(port), ca: Buffer.from(cluster.caData!, 'base64'), checkServerIdentity: () => undefined }, () => {
      const cert = sock.getPeerCertificate();
      sock.end();
      resolve(cert);
    });
    sock.on('error', reject);
  });
}

describe('the kubernetes Service on kumo up', () => {
  it('points at the API server, is kept current across restarts, and the certificate names it', async () => {
    const dataDir = join(root, 'data');
    // An older kumo's certificate: the CA stays, the server certificate is made again with the Service's names.
    const older = localTls(dataDir, ['localhost', '127.0.0.1']);
    const opts = { dataDir, port: 0, logger: silentLogger, serviceClusterIPRange: '10.123.0.0/16', fakeNodes: { names: ['node-1'], startDelayMs: 50 } };
    const cluster = new LocalCluster(opts);
    await cluster.start();
    let firstPort: number;
    try {
      firstPort = Number(new URL(cluster.url).port);
      const svc = await getJson(cluster, '/api/v1/namespaces/default/services/kubernetes');
      expect(svc.status).toBe(200);
      expect(svc.body).toMatchObject({
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          type: 'ClusterIP',
          clusterIP: '10.123.0.1',
          clusterIPs: ['10.123.0.1'],
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: firstPort }],
        },
      });
      expect((svc.body.spec as Record<string, unknown>).selector).toBeUndefined();

      const eps = await getJson(cluster, '/api/v1/namespaces/default/endpoints/kubernetes');
      expect(eps.body).toMatchObject({
        metadata: { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
        subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: firstPort, protocol: 'TCP' }] }],
      });
      const slice = await getJson(cluster, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
      expect(slice.body).toMatchObject({
        metadata: { labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
        ports: [{ name: 'https', port: firstPort, protocol: 'TCP' }],
      });

      const cert = await peerCertificate(cluster);
      for (const name of ['10.123.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']) {
        expect(checkServerIdentity(name, cert), name).toBeUndefined();
      }
      expect(checkServerIdentity('10.123.0.2', cert)).toBeInstanceOf(Error);
      // Same CA as before: kubeconfigs written earlier keep working.
      expect(Buffer.from(cluster.caData!, 'base64').toString()).toBe(older.caPem);
      expect(new X509Certificate(readFileSync(join(dataDir, 'tls', 'server.crt'))).verify(new X509Certificate(older.caPem).publicKey)).toBe(true);
    } finally {
      await cluster.stop();
    }

    // A restart on another port: the API server brings the Service's targetPort and its endpoints along.
    const again = new LocalCluster({ ...opts, fakeNodes: undefined, controllers: false });
    await again.start();
    try {
      const port = Number(new URL(again.url).port);
      expect(port).not.toBe(firstPort);
      const svc = await getJson(again, '/api/v1/namespaces/default/services/kubernetes');
      expect(svc.body).toMatchObject({ spec: { clusterIP: '10.123.0.1', ports: [{ port: 443, targetPort: port }] } });
      const eps = await getJson(again, '/api/v1/namespaces/default/endpoints/kubernetes');
      expect(eps.body).toMatchObject({ subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port }] }] });
      const slice = await getJson(again, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
      expect(slice.body).toMatchObject({ endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ port }] });
      const list = await getJson(again, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes');
      expect((list.body.items as unknown[]).length).toBe(1);
    } finally {
      await again.stop();
    }
  });
});
