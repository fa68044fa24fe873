/**
 * Pod Security under the cloud stack's defaults (enforce baseline, the
 * deploy-time admin exempt), asserted through the API with kumo tokens:
 * written once and run in-process (test/auth) and against the bundled
 * Lambda artifact on the emulator (test/cloud).
 */
import { describe, expect, it } from 'vitest';
import { issuedToken, mintToken } from '#lib/auth/tokens';
import type { AuthTarget, Wire } from './cases.js';

/** A pod that would own its node: privileged, in the host's network and PID namespaces, with the host's root mounted, pinned to a node. */
function rootOnNode(name: string): Wire {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName: 'node-1',
      hostNetwork: true,
      hostPID: true,
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      containers: [{ name: 'c', image: 'busybox:1', securityContext: { privileged: true }, volumeMounts: [{ name: 'root', mountPath: '/host' }] }],
    },
  };
}

export function podSecurityCases(label: string, target: () => AuthTarget): void {
  const t = () => target();
  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${seq++}`;

  async function ok(method: string, path: string, token: string, body?: unknown): Promise<Wire> {
    const r = await t().send(method, path, { token, body });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  describe(`Pod Security with the stack's defaults (${label})`, () => {
    it('refuses a namespace admin a pod that would be root on a node, and stores nothing', async () => {
      const ns = unique('tenant');
      await ok('POST', '/api/v1/namespaces', t().adminToken, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const minted = mintToken({ role: 'admin', namespace: ns });
      const token = issuedToken(minted, await ok('POST', '/api/v1/namespaces/kumo-system/secrets', t().adminToken, minted.secret));
      const r = await t().send('POST', `/api/v1/namespaces/${ns}/pods`, { token, body: rootOnNode('escape') });
      expect(r.status, JSON.stringify(r.body)).toBe(403);
      expect(r.body).toMatchObject({
        kind: 'Status',
        reason: 'Forbidden',
        code: 403,
        message:
          'pods "escape" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)',
        details: { name: 'escape', kind: 'pods' },
      });
      expect((await t().send('GET', `/api/v1/namespaces/${ns}/pods/escape`, { token: t().adminToken })).status).toBe(404);
      // Nor can it lift the level: its namespace is not its to relabel.
      const relabel = await t().send('PATCH', `/api/v1/namespaces/${ns}`, {
        token,
        body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
        contentType: 'application/merge-patch+json',
      });
      expect(relabel.status).toBe(403);
      // An ordinary pod is admitted.
      expect(
        (
          await t().send('POST', `/api/v1/namespaces/${ns}/pods`, {
            token,
            body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fine' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
          })
        ).status,
      ).toBe(201);
    });

    it('exempts the deploy-time admin, who may also label a namespace privileged for others', async () => {
      const ns = unique('ops');
      await ok('POST', '/api/v1/namespaces', t().adminToken, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      expect((await t().send('POST', `/api/v1/namespaces/${ns}/pods`, { token: t().adminToken, body: rootOnNode('agent') })).status).toBe(201);
      const other = mintToken({ role: 'admin' });
      const otherToken = issuedToken(other, await ok('POST', '/api/v1/namespaces/kumo-system/secrets', t().adminToken, other.secret));
      // Another cluster admin is not exempt (exemptions name users), until the namespace says privileged.
      expect((await t().send('POST', `/api/v1/namespaces/${ns}/pods`, { token: otherToken, body: rootOnNode('agent-2') })).status).toBe(403);
      const labelled = await t().send('PATCH', `/api/v1/namespaces/${ns}`, {
        token: t().adminToken,
        body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
        contentType: 'application/merge-patch+json',
      });
      expect(labelled.status).toBe(200);
      expect((await t().send('POST', `/api/v1/namespaces/${ns}/pods`, { token: otherToken, body: rootOnNode('agent-2') })).status).toBe(201);
    });
  });
}
