/**
 * `kumo describe` and `kumo get` print what kubectl prints for Ingress,
 * IngressClass and NetworkPolicy (networking.k8s.io/v1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliCluster, type CliCluster, sideBySide } from './harness.js';

const OBJECTS = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: [10.1.0.7]
- addresses: [10.1.0.8]
  conditions: {ready: false}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: routed, labels: {app: web}}
spec:
  tls: [{hosts: [web.example.com], secretName: web-tls}, {hosts: [sni.example.com]}]
  defaultBackend: {resource: {apiGroup: example.com, kind: Bucket, name: static}}
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /named, pathType: ImplementationSpecific, backend: {service: {name: web, port: {name: http}}}}
      - {path: /missing, pathType: Exact, backend: {service: {name: nowhere, port: {number: 81}}}}
  - http:
      paths:
      - {path: /any, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: fallback}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: acme}
spec:
  controller: acme.io/lb
  parameters: {apiGroup: acme.io, kind: Params, name: p, scope: Namespace, namespace: default}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, annotations: {team: data}}
spec:
  podSelector:
    matchExpressions: [{key: app, operator: In, values: [db, cache]}]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: ops}}
      podSelector: {matchLabels: {role: api}}
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24, 172.17.2.0/24]}
    ports: [{port: 5432}, {port: metrics, protocol: UDP}, {port: 8000, endPort: 8080}]
  - {}
  egress:
  - ports: [{port: 53, protocol: UDP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only}
spec:
  podSelector: {matchLabels: {app: batch}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
  - to: [{podSelector: {}}]
`;

describe('kumo describe and get for networking.k8s.io/v1', () => {
  let c: CliCluster;
  beforeAll(async () => {
    c = await startCliCluster();
    const applied = await c.kubectl(['apply', '-f', c.file('net.yaml', OBJECTS)]);
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterAll(async () => c?.dispose());

  const sameAsKubectl: string[][] = [
    ['describe', 'ingress', 'routed'],
    ['describe', 'ing', 'fallback'],
    ['describe', 'ingressclass', 'kumo'],
    ['describe', 'ingressclass', 'acme'],
    ['describe', 'netpol', 'db'],
    ['describe', 'networkpolicy', 'deny-all'],
    ['describe', 'netpol', 'egress-only'],
    ['get', 'ingress'],
    ['get', 'ingressclass'],
    ['get', 'netpol'],
  ];
  for (const args of sameAsKubectl) {
    it(`prints what kubectl prints for \`${args.join(' ')}\``, async () => {
      const { kumo, kubectl } = await sideBySide(c, args);
      expect(kumo).toEqual(kubectl);
    });
  }
});
