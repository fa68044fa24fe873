import { describe, expect, it } from 'vitest';
import type { Pod } from '../../lib/api/core/v1/pod.js';
import type { Service } from '../../lib/api/core/v1/service.js';
import type { KObject } from '../../lib/api/object.js';
import { hostsFile, serviceEnv } from '../../lib/agent/service-discovery.js';

function svc(namespace: string, name: string, clusterIP: string, port: number, portName?: string): Service & KObject {
  return { metadata: { namespace, name }, spec: { clusterIP, ports: [{ port, protocol: 'TCP', ...(portName ? { name: portName } : {}) }] } } as Service &
    KObject;
}

const kubernetes = svc('default', 'kubernetes', '10.96.0.1', 443, 'https');
const web = svc('shop', 'web', '10.96.4.4', 80, 'http');
const other = svc('other', 'db', '10.96.5.5', 5432);

describe('serviceEnv', () => {
  it('gives every pod the kubernetes Service as the kubelet does, in any namespace', () => {
    const env = serviceEnv([kubernetes, web, other], 'shop');
    expect(Object.fromEntries([...env].filter(([k]) => k.startsWith('KUBERNETES_')))).toEqual({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    });
    expect(env.get('WEB_SERVICE_HOST')).toBe('10.96.4.4');
    expect(env.has('DB_SERVICE_HOST')).toBe(false);
  });

  it('keeps the kubernetes Service without service links, and only it', () => {
    const env = serviceEnv([kubernetes, web], 'shop', false);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(env.has('WEB_SERVICE_HOST')).toBe(false);
  });

  it('lets a Service named kubernetes in the pod namespace win over the master one', () => {
    const env = serviceEnv([kubernetes, svc('shop', 'kubernetes', '10.96.7.7', 8443)], 'shop');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.7.7');
  });
});

describe('hostsFile', () => {
  it('resolves kubernetes.default.svc and its longer and shorter forms from any namespace', () => {
    const pod = { metadata: { namespace: 'shop', name: 'p' }, spec: {} } as Pod & KObject;
    const line = hostsFile(pod, '172.17.0.9', [kubernetes, web])
      .split('\n')
      .find((l) => l.startsWith('10.96.0.1\t'));
    expect(line).toBe('10.96.0.1\tkubernetes.default.svc.cluster.local kubernetes.default.svc kubernetes.default');
  });
});
