/**
 * Service ClusterIPs and node ports: allocated from configurable ranges,
 * unique even when many Services are created at once, released when a
 * Service is deleted or stops using them, and refused with Kubernetes'
 * messages when asked for taken or out-of-range values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './harness.js';

const SVC = '/api/v1/namespaces/default/services';

function svc(name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

describe('Service address allocation', () => {
  let t: TestApi | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('hands out unique ClusterIPs from the configured range under concurrent creates, and says so when it is full', async () => {
    // A /28 has 14 usable addresses; the first (the `kubernetes` Service's) is never handed out: 13.
    t = await startApi({ admission: { serviceClusterIPRange: '10.200.0.0/28' } });
    const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => t!.post(SVC, svc(`s${i}`))));
    const ok = replies.filter((r) => r.status === 201);
    expect(ok).toHaveLength(13);
    const ips = ok.map((r) => r.body.spec.clusterIP as string);
    expect(new Set(ips).size).toBe(13);
    for (const ip of ips) {
      const last = Number(ip.split('.')[3]);
      expect(ip.startsWith('10.200.0.')).toBe(true);
      expect(last).toBeGreaterThanOrEqual(2);
      expect(last).toBeLessThanOrEqual(14);
    }
    for (const r of replies.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(500);
      expect(r.body.message).toBe('Internal error occurred: failed to allocate a serviceIP: range is full');
    }
    // A failed create changed nothing: no Service exists beyond the 13.
    expect((await t.get(SVC)).body.items).toHaveLength(13);
  });

  it('releases a ClusterIP when its Service is deleted, so a full range has room again', async () => {
    t = await startApi({ admission: { serviceClusterIPRange: '10.201.0.0/29' } });
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await t.post(SVC, svc(`a${i}`)));
    expect(made.every((r) => r.status === 201)).toBe(true);
    expect((await t.post(SVC, svc('extra'))).status).toBe(500);
    const freed = made[2]!.body.spec.clusterIP as string;
    expect((await t.del(`${SVC}/a2`)).status).toBe(200);
    const again = await t.post(SVC, svc('extra'));
    expect(again.status).toBe(201);
    expect(again.body.spec.clusterIP).toBe(freed);
  });

  it('honours a requested ClusterIP, and refuses one that is taken or outside the range', async () => {
    t = await startApi({ admission: { serviceClusterIPRange: '10.202.0.0/24' } });
    const a = await t.post(SVC, svc('a', { clusterIP: '10.202.0.50' }));
    expect(a.status).toBe(201);
    expect(a.body.spec.clusterIPs).toEqual(['10.202.0.50']);
    const taken = await t.post(SVC, svc('b', { clusterIP: '10.202.0.50' }));
    expect(taken.status).toBe(422);
    expect(taken.body.message).toBe(
      'Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.202.0.50"]: failed to allocate IP 10.202.0.50: provided IP is already allocated',
    );
    const outside = await t.post(SVC, svc('c', { clusterIP: '10.9.9.9' }));
    expect(outside.status).toBe(422);
    expect(outside.body.message).toContain('the provided IP (10.9.9.9) is not in the valid range. The range of valid IPs is 10.202.0.0/24');
    // Headless Services get no address at all.
    const headless = await t.post(SVC, svc('h', { clusterIP: 'None' }));
    expect(headless.body.spec.clusterIPs).toEqual(['None']);
  });

  it('allocates unique node ports from the configured range, keeps them on update, frees them when the type changes back', async () => {
    t = await startApi({ admission: { serviceNodePortRange: '31000-31004' } });
    const made = await Promise.all(Array.from({ length: 5 }, (_, i) => t!.post(SVC, svc(`np${i}`, { type: 'NodePort' }))));
    expect(made.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const ports = made.map((r) => r.body.spec.ports[0].nodePort as number);
    expect([...new Set(ports)].sort()).toEqual([31000, 31001, 31002, 31003, 31004]);
    const full = await t.post(SVC, svc('np5', { type: 'NodePort' }));
    expect(full.status).toBe(500);
    expect(full.body.message).toBe('Internal error occurred: failed to allocate a nodePort: range is full');

    // An update that leaves nodePort out keeps it.
    const cur = made[0]!.body;
    const updated = await t.put(`${SVC}/np0`, { ...cur, spec: { ...cur.spec, ports: [{ port: 80 }] } });
    expect(updated.status).toBe(200);
    expect(updated.body.spec.ports[0].nodePort).toBe(ports[0]);

    // Back to ClusterIP: the node port is free for another Service.
    const back = await t.put(`${SVC}/np0`, {
      ...updated.body,
      spec: { ...updated.body.spec, type: 'ClusterIP', ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] },
    });
    expect(back.status).toBe(200);
    const reuse = await t.post(SVC, svc('np6', { type: 'NodePort' }));
    expect(reuse.status).toBe(201);
    expect(reuse.body.spec.ports[0].nodePort).toBe(ports[0]);

    const taken = await t.post(SVC, svc('np7', { type: 'NodePort', ports: [{ port: 80, nodePort: ports[1] }] }));
    expect(taken.status).toBe(422);
    expect(taken.body.message).toBe(`Service "np7" is invalid: spec.ports[0].nodePort: Invalid value: ${ports[1]}: provided port is already allocated`);
    const outside = await t.post(SVC, svc('np8', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }));
    expect(outside.status).toBe(422);
    expect(outside.body.message).toContain(
      'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 31000-31004',
    );
  });

  it('reclaims an address whose record outlived its Service (a write that failed after allocating)', async () => {
    t = await startApi({ admission: { serviceClusterIPRange: '10.203.0.0/29' } });
    // A record left behind by a Service that never got stored.
    await t.store.create({ resource: 'kumo-serviceips', namespace: '', name: '10.203.0.2' }, {
      apiVersion: 'kumo.io/v1',
      kind: 'Allocation',
      metadata: { name: '10.203.0.2' },
      owner: { namespace: 'default', name: 'ghost', uid: 'gone' },
    } as never);
    const a = await t.post(SVC, svc('a', { clusterIP: '10.203.0.2' }));
    expect(a.status).toBe(201);
  });
});
