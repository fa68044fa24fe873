/**
 * The cluster DNS's records kept from Kubernetes objects: an update replaces
 * what the object's previous version left in every index, a delete removes
 * it, and only what DNS serves is kept (ready addresses, pods not
 * terminating). The SOA serial moves with the injected clock.
 */
import { describe, expect, it } from 'vitest';
import { ClusterRecords } from '#lib/agent/dns/cluster-records';
import type { Pod } from '#lib/api/core/v1/pod';
import type { Service } from '#lib/api/core/v1/service';
import type { EndpointSlice } from '#lib/api/discovery/v1/endpointslice';
import type { KObject } from '#lib/api/object';
import { ManualClock } from '#lib/util/clock';

const svc = (clusterIP: string, extra: Service['spec'] = {}): Service & KObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'ns' },
  spec: { clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80 }], ...extra },
});

const slice = (endpoints: EndpointSlice['endpoints']): EndpointSlice & KObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-abc', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv6',
  endpoints,
});

const pod = (ip: string, deletionTimestamp?: string): Pod & KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', ...(deletionTimestamp ? { deletionTimestamp } : {}) },
  status: { podIP: ip },
});

describe('cluster DNS records', () => {
  it("replaces a Service's ClusterIP on update and forgets it on delete", () => {
    const r = new ClusterRecords();
    r.setService(svc('10.96.0.10'));
    r.setService(svc('10.96.0.11'));
    expect(r.servicesByIP('10.96.0.10')).toEqual([]);
    expect(r.servicesByIP('10.96.0.11').map((s) => s.name)).toEqual(['web']);
    expect(r.service('ns', 'web')).toMatchObject({ kind: 'ClusterIP', clusterIPs: ['10.96.0.11'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] });
    r.setService(svc('None'));
    expect(r.service('ns', 'web')?.kind).toBe('Headless');
    expect(r.servicesByIP('10.96.0.11')).toEqual([]);
    r.deleteService(svc('None'));
    expect(r.service('ns', 'web')).toBeUndefined();
  });

  it('keeps ready addresses only, canonical, named by hostname or dashed address, and drops them with their slice', () => {
    const r = new ClusterRecords();
    r.setEndpointSlice(
      slice([
        { addresses: ['fd00:0:0::1'], hostname: 'web-0', conditions: { ready: true } },
        { addresses: ['fd00::2'], conditions: {} },
        { addresses: ['fd00::3'], conditions: { ready: false, serving: true, terminating: true } },
      ]),
    );
    expect(r.endpoints('ns', 'web').map((e) => [e.address, e.hostname])).toEqual([
      ['fd00::1', 'web-0'],
      ['fd00::2', 'fd00--2'],
    ]);
    expect(r.endpointsByIP('fd00::1').map((e) => e.service)).toEqual(['web']);
    expect(r.endpoints('ns', 'web')[0]!.ports).toEqual([{ name: '', protocol: '', port: -1 }]);
    r.setEndpointSlice(slice([{ addresses: ['fd00::2'] }]));
    expect(r.endpointsByIP('fd00::1')).toEqual([]);
    r.deleteEndpointSlice(slice([]));
    expect(r.endpoints('ns', 'web')).toEqual([]);
    expect(r.endpointsByIP('fd00::2')).toEqual([]);
  });

  it('forgets a pod once it is terminating, and moves the serial with every change', () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const r = new ClusterRecords(clock);
    r.setPod(pod('10.244.0.5'));
    expect(r.podsByIP('10.244.0.5').map((p) => p.name)).toEqual(['p']);
    clock.advance(60_000);
    r.setPod(pod('10.244.0.5', '2026-01-01T00:01:00Z'));
    expect(r.podsByIP('10.244.0.5')).toEqual([]);
    expect(r.lastModified()).toBe(Date.parse('2026-01-01T00:01:00Z'));
    expect(r.synced()).toBe(false);
    r.markSynced();
    expect(r.synced()).toBe(true);
  });
});
