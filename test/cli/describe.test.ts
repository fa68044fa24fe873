/**
 * `kumo describe` prints what kubectl's describers print for the same
 * objects, including the Events section, and never prints secret values.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { resourceByName } from '#lib/kinds/resources';
import { ROOT, startCliCluster, type CliCluster, sideBySide } from './harness.js';

const rt = (name: string) => resourceByName(name)!;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');

const MORE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels: {a: b, c: d}
  annotations: {note: hello}
data:
  key1: value1
  multi: |
    line1
    line2
binaryData:
  bin: aGVsbG8=
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
type: Opaque
data:
  password: aHVudGVyMg==
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web, tier: front}
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: https
    port: 443
    targetPort: https
---
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  completions: 2
  backoffLimit: 4
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: pi
        image: perl
        command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(20)"]
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 200m, memory: 128Mi}
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels: {team: a}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs1
spec:
  replicas: 2
  selector:
    matchExpressions:
    - {key: app, operator: In, values: [z, "y"]}
    matchLabels: {tier: back}
  template:
    metadata:
      labels: {app: "y", tier: back}
    spec:
      containers:
      - name: c
        image: busybox
        ports:
        - {containerPort: 80, name: http}
        - {containerPort: 53, protocol: UDP}
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: SECRET
          valueFrom: {secretKeyRef: {name: sec, key: password}}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cfg, mountPath: /etc/cfg, readOnly: true, subPath: key1}
        readinessProbe:
          exec: {command: [cat, /tmp/ready]}
        livenessProbe:
          tcpSocket: {port: 80}
      volumes:
      - {name: data, emptyDir: {}}
      - {name: cfg, configMap: {name: cfg}}
      tolerations:
      - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
      nodeSelector: {disk: ssd}
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {kubernetes.io/hostname: node-1, node-role.kubernetes.io/worker: ""}
spec:
  podCIDR: 10.0.0.0/24
  taints:
  - {key: dedicated, value: gpu, effect: NoSchedule}
---
apiVersion: v1
kind: Pod
metadata:
  name: onnode
  labels: {team: blue}
spec:
  nodeName: node-1
  containers:
  - name: a
    image: nginx
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}
    - name: POD_UID
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.uid}}
    - name: TEAM
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: "metadata.labels['team']"}}
    - name: NODE_NAME
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: spec.nodeName}}
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
`;

describe('kumo describe', () => {
  let c: CliCluster;
  beforeAll(async () => {
    c = await startCliCluster();
    expect((await c.kumo(['apply', '-f', join(ROOT, 'examples')])).code).toBe(0);
    expect((await c.kumo(['apply', '-f', c.file('more.yaml', MORE)])).code).toBe(0);
    const client = c.cluster.client;

    // What a scheduler and a kubelet would have recorded about nginx.
    const nginx = await client.get(rt('pods'), 'default', 'nginx');
    const involved = { kind: 'Pod', name: 'nginx', namespace: 'default', uid: nginx.metadata.uid, apiVersion: 'v1' };
    const event = (name: string, extra: Record<string, unknown>): KObject => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'default' },
      ...extra,
    });
    await client.create(
      rt('events'),
      'default',
      event('nginx.1', {
        involvedObject: involved,
        reason: 'Scheduled',
        message: 'Successfully assigned default/nginx to node-1',
        type: 'Normal',
        source: { component: 'default-scheduler' },
        firstTimestamp: ago(300_000),
        lastTimestamp: ago(300_000),
        count: 1,
      }),
    );
    await client.create(
      rt('events'),
      'default',
      event('nginx.2', {
        involvedObject: { ...involved, fieldPath: 'spec.containers{nginx}' },
        reason: 'Pulling',
        message: 'Pulling image "nginx:latest"',
        type: 'Normal',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: ago(240_000),
        lastTimestamp: ago(60_000),
        count: 3,
      }),
    );

    // A debug container in webap1 (kubectl debug's patch), and the status an agent would report for it.
    await client.patch(
      rt('pods'),
      'default',
      'webap1',
      { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox:1.36', command: ['sh'], stdin: true, targetContainerName: 'webap1' }] } },
      'strategic',
      { subresource: 'ephemeralcontainers' },
    );
    const webap1 = await client.get<Pod & KObject>(rt('pods'), 'default', 'webap1');
    const ended = { exitCode: 0, reason: 'Completed', startedAt: ago(120_000), finishedAt: ago(60_000), containerID: 'docker://d1' };
    await client.updateStatus(rt('pods'), {
      ...webap1,
      status: {
        ...webap1.status,
        ephemeralContainerStatuses: [
          {
            name: 'dbg',
            state: { terminated: ended },
            lastState: {},
            ready: false,
            restartCount: 0,
            image: 'busybox:1.36',
            imageID: 'sha256:1',
            containerID: 'docker://d1',
          },
        ],
      },
    });

    // A ReplicaSet the deployment owns, as its controller would have made it.
    const d = await client.get(rt('deployments'), 'default', 'web-deploy');
    const template = structuredClone((d.spec as { template: { metadata: { labels: Record<string, string> } } }).template);
    template.metadata.labels['pod-template-hash'] = 'abc123';
    await client.create(rt('replicasets'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'web-deploy-abc123',
        namespace: 'default',
        labels: { app: 'web', 'pod-template-hash': 'abc123' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-deploy', uid: d.metadata.uid!, controller: true }],
      },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': 'abc123' } }, template },
    });

    // The node's status and lease, as its agent would report them.
    const node = await client.get(rt('nodes'), undefined, 'node-1');
    const now = ago(0);
    await client.updateStatus(rt('nodes'), {
      ...node,
      status: {
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        addresses: [
          { type: 'InternalIP', address: '10.1.2.3' },
          { type: 'Hostname', address: 'node-1' },
        ],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        nodeInfo: {
          kubeletVersion: 'v1.35.0-kumo',
          osImage: 'Linux',
          kernelVersion: '6.1',
          containerRuntimeVersion: 'docker://27',
          operatingSystem: 'linux',
          architecture: 'amd64',
          machineID: 'm',
          systemUUID: 's',
          bootID: 'b',
          kubeProxyVersion: '',
        },
      },
    });
    await client.create(rt('leases'), 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'node-1', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z' },
    });
  });
  afterAll(async () => c?.dispose());

  it('describes pod/nginx with its events, as kubectl lays it out', async () => {
    const res = await c.kumo(['describe', 'pod/nginx']);
    expect(res.code).toBe(0);
    // Padded to "Service Account:", the longest label of a pod's header (every pod has one, as in Kubernetes).
    expect(res.stdout).toMatch(/^Name: {13}nginx\nNamespace: {8}default\n/);
    expect(res.stdout).toContain('\nContainers:\n  nginx:\n    Image:        nginx:latest\n');
    expect(res.stdout).toMatch(/\nEvents:\n {2}Type {4}Reason {5}Age +From +Message\n {2}---- {4}------ {5}---- +---- +-------\n/);
    expect(res.stdout).toMatch(/\n {2}Normal {2}Scheduled {2}5m(?:\d+s)? +default-scheduler {2}Successfully assigned default\/nginx to node-1\n/);
    expect(res.stdout).toMatch(/\n {2}Normal {2}Pulling {4}6\ds \(x3 over 4m(?:\d+s)?\) +kubelet +spec\.containers\{nginx\}: Pulling image "nginx:latest"\n$/);
  });

  it('lists ephemeral containers after the others, with their status', async () => {
    const res = await c.kumo(['describe', 'pod', 'webap1']);
    expect(res.stdout).toMatch(/\nEphemeral Containers:\n {2}dbg:\n {4}Container ID: {2}docker:\/\/d1\n {4}Image: {9}busybox:1\.36\n/);
    expect(res.stdout).toMatch(/\n {4}State: {10}Terminated\n {6}Reason: {7}Completed\n/);
  });

  it('shows a fieldRef env value only where kubectl resolves it: metadata.name and metadata.namespace', async () => {
    const res = await c.kumo(['describe', 'pod', 'onnode']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\n {6}POD_NAME: +onnode \(v1:metadata\.name\)\n/);
    expect(res.stdout).toMatch(/\n {6}POD_UID: +\(v1:metadata\.uid\)\n/);
    expect(res.stdout).toMatch(/\n {6}TEAM: +\(v1:metadata\.labels\['team'\]\)\n/);
    expect(res.stdout).toMatch(/\n {6}NODE_NAME: +\(v1:spec\.nodeName\)\n/);
  });

  const sameAsKubectl: string[][] = [
    ['describe', 'pod', 'onnode'],
    ['describe', 'pod/nginx'],
    ['describe', 'pod', 'webap1'],
    ['describe', 'pods'],
    ['describe', 'pods', 'ngi'],
    ['describe', 'pod', 'nope'],
    ['describe', 'deploy', 'web-deploy'],
    ['describe', 'rs'],
    ['describe', 'node', 'node-1'],
    ['describe', 'ns', 'team-a'],
    ['describe', 'svc', 'web'],
    ['describe', 'cm', 'cfg'],
    ['describe', 'secret', 'sec'],
    ['describe', 'job', 'pi'],
    ['describe', 'event', 'nginx.2'],
    ['describe', 'pods', '-l', 'app=nothing'],
  ];
  for (const args of sameAsKubectl) {
    it(`prints what kubectl prints for \`${args.join(' ')}\``, async () => {
      const { kumo, kubectl } = await sideBySide(c, args);
      expect(kumo).toEqual(kubectl);
    });
  }

  it('never prints secret values, only their sizes', async () => {
    const res = await c.kumo(['describe', 'secret', 'sec']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('password:  7 bytes\n');
    expect(res.stdout).not.toContain('hunter2');
    expect(res.stdout).not.toContain('aHVudGVyMg==');
  });
});
