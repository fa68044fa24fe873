/**
 * `kumo get svc,ep`, `get endpointslices`, `describe svc|ep|endpointslice`
 * and the storage kinds print what kubectl v1.35 prints for the same objects,
 * on a cluster whose controllers fill Endpoints, EndpointSlices and claims
 * (simulated nodes run the pods).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import { type CliCluster, sideBySide, startCliCluster } from './harness.js';

const rt = (name: string) => resourceByName(name)!;

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {tier: front}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: admin, port: 9000, targetPort: 9090}
---
apiVersion: v1
kind: Service
metadata:
  name: lonely
spec:
  selector: {app: nobody}
  ports:
  - {port: 5432}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: manual-pv
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: /tmp/kumo-manual-pv, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources:
    requests: {storage: 1Gi}
`;

describe('kumo get/describe for Services, Endpoints, EndpointSlices and volumes', () => {
  let c: CliCluster;
  let sliceName = '';
  beforeAll(async () => {
    c = await startCliCluster({ controllers: true, fakeNodes: { names: ['node-1', 'node-2'] } });
    expect((await c.kumo(['apply', '-f', c.file('svc.yaml', MANIFESTS)])).code).toBe(0);
    const slice = await waitFor(
      async () => {
        const list = await c.cluster.client.list<KObject & { endpoints?: unknown[] }>(rt('endpointslices'), 'default', {
          labelSelector: 'kubernetes.io/service-name=web',
        });
        return list.items.length === 1 && (list.items[0]!.endpoints ?? []).length === 4 ? list.items[0] : undefined;
      },
      { what: '4 endpoints for web' },
    );
    sliceName = slice.metadata.name!;
    await waitFor(
      async () =>
        (await c.cluster.client.get<KObject & { status?: { phase?: string } }>(rt('persistentvolumeclaims'), 'default', 'data')).status?.phase === 'Bound',
      { what: 'the claim to bind' },
    );
  });
  afterAll(async () => c?.dispose());

  it('prints the endpoints of a Service in `get svc,ep`, with the deprecation warning kubectl shows', async () => {
    const res = await c.kumo(['get', 'svc,ep']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n');
    // Ports sorted by name (admin before http), each with the 4 ready addresses: 8, of which 3 shown.
    expect(res.stdout).toMatch(/\nendpoints\/web +\d+\.\d+\.\d+\.\d+:9090,\d+\.\d+\.\d+\.\d+:9090,\d+\.\d+\.\d+\.\d+:9090 \+ 5 more\.\.\. +\d+s\n/);
    expect(res.stdout).toMatch(/\nendpoints\/lonely +<none> +\d+s\n/);
  });

  const SLICE = '<the slice of web>';
  const sameAsKubectl: string[][] = [
    ['get', 'svc,ep'],
    ['get', 'svc', '-o', 'wide'],
    ['get', 'endpoints', 'web', 'lonely'],
    ['get', 'endpointslices'],
    ['describe', 'svc', 'web'],
    ['describe', 'svc', 'lonely'],
    ['describe', 'ep', 'web'],
    ['describe', 'endpointslice', SLICE],
    ['get', 'pvc,pv'],
    ['get', 'pvc', '-o', 'wide'],
    ['describe', 'pvc', 'data'],
    ['describe', 'pv', 'manual-pv'],
  ];
  for (const args of sameAsKubectl) {
    it(`prints what kubectl prints for \`${args.join(' ')}\``, async () => {
      const { kumo, kubectl } = await sideBySide(
        c,
        args.map((a) => (a === SLICE ? sliceName : a)),
      );
      expect(kumo).toEqual(kubectl);
    });
  }
});
