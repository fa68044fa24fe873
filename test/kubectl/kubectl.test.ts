/**
 * Upstream kubectl v1.35, unchanged, against `kumo up`: the everyday
 * commands users know, asserted on what kubectl prints and its exit codes.
 * One cluster (controllers, scheduler, three simulated nodes) serves the
 * file; each test works in its own namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEPLOYMENTS, PODS } from '#lib/kinds/resources';
import type { KObject } from '#lib/api/object';
import { waitFor } from '../helpers/wait.js';
import { type KubectlCluster, kubectlOk, readUntil, rows, startKubectlCluster } from './harness.js';

let k: KubectlCluster;

beforeAll(async () => {
  k = await startKubectlCluster();
});

afterAll(async () => {
  await k?.dispose();
});

const ok = (args: string[], stdin?: string): Promise<string> => kubectlOk(k, args, stdin);

async function namespace(name: string): Promise<string> {
  await ok(['create', 'namespace', name]);
  return name;
}

function deployment(name: string, image: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 80
        env:
        - {name: MODE, value: "prod"}
`;
}

async function rolledOut(ns: string, name: string): Promise<void> {
  await ok(['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=30s']);
}

describe('discovery', () => {
  it('lists every served resource with its short names and kinds (api-resources)', async () => {
    const out = await ok(['api-resources']);
    const table = rows(out);
    expect(table[0]).toEqual(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    // metrics.k8s.io serves `nodes` and `pods` too (as with metrics-server): the core group's rows are the first ones.
    const byName = new Map(
      table
        .slice(1)
        .reverse()
        .map((r) => [r[0], r]),
    );
    expect(table).toContainEqual(['pods', 'metrics.k8s.io/v1beta1', 'true', 'PodMetrics']);
    expect(table).toContainEqual(['nodes', 'metrics.k8s.io/v1beta1', 'false', 'NodeMetrics']);
    expect(byName.get('pods')).toEqual(['pods', 'po', 'v1', 'true', 'Pod']);
    expect(byName.get('deployments')).toEqual(['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
    expect(byName.get('nodes')).toEqual(['nodes', 'no', 'v1', 'false', 'Node']);
    expect(byName.get('events')).toEqual(['events', 'ev', 'v1', 'true', 'Event']);
    expect(byName.get('leases')).toEqual(['leases', 'coordination.k8s.io/v1', 'true', 'Lease']);
  });

  it('lists group versions (api-versions) and refuses unknown types the way kubectl words it', async () => {
    expect((await ok(['api-versions'])).split('\n')).toEqual(expect.arrayContaining(['v1', 'apps/v1', 'batch/v1', 'coordination.k8s.io/v1']));
    const r = await k.kubectl(['get', 'foos']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: the server doesn't have a resource type "foos"`);
  });
});

describe('apply -f (client-side)', () => {
  it('creates, reports unchanged on re-apply, and patches a change with a strategic merge patch', async () => {
    const ns = await namespace('csa');
    const file = k.file('csa/app.yaml', `${deployment('web', 'nginx:1.25')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1"}\n`);
    expect(await ok(['apply', '-f', file, '-n', ns])).toBe('deployment.apps/web created\nconfigmap/cfg created\n');
    expect(await ok(['apply', '-f', file, '-n', ns])).toBe('deployment.apps/web unchanged\nconfigmap/cfg unchanged\n');

    k.file(
      'csa/app.yaml',
      `${deployment('web', 'nginx:1.26').replace('{name: MODE, value: "prod"}', '{name: MODE, value: "debug"}')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1"}\n`,
    );
    expect(await ok(['apply', '-f', file, '-n', ns])).toBe('deployment.apps/web configured\nconfigmap/cfg unchanged\n');

    const d = await k.cluster.client.get(DEPLOYMENTS, ns, 'web');
    const c = (
      d.spec as { template: { spec: { containers: { image: string; env: { name: string; value: string }[]; ports: { containerPort: number }[] }[] } } }
    ).template.spec.containers[0]!;
    expect(c.image).toBe('nginx:1.26');
    expect(c.env).toEqual([{ name: 'MODE', value: 'debug' }]);
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    // The change came as kubectl-client-side-apply's update (a PATCH), recorded in managedFields.
    expect(d.metadata.managedFields?.map((m) => `${m.manager}/${m.operation}`)).toContain('kubectl-client-side-apply/Update');
    expect(JSON.parse(d.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!).spec.template.spec.containers[0].image).toBe('nginx:1.26');
  });

  it('rejects an unknown field under its default strict validation, and accepts every Kubernetes field', async () => {
    const ns = await namespace('strict');
    const bad = k.file(
      'strict/bad.yaml',
      deployment('bad', 'nginx').replace('    spec:\n      containers:', '    spec:\n      frobnicate: true\n      containers:'),
    );
    const r = await k.kubectl(['apply', '-f', bad, '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.template.spec.frobnicate"');
    const rich = k.file(
      'strict/rich.yaml',
      deployment('rich', 'nginx').replace(
        '        ports:',
        '        securityContext: {runAsNonRoot: true, capabilities: {drop: [ALL]}}\n        resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}]\n        ports:',
      ),
    );
    expect(await ok(['apply', '-f', rich, '-n', ns])).toBe('deployment.apps/rich created\n');
  });
});

describe('get', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await namespace('get');
    await ok(['apply', '-n', ns, '-f', k.file('get/web.yaml', deployment('web', 'nginx:1.25', 3))]);
    await rolledOut(ns, 'web');
  });

  it('prints pods with kubectl columns, wide columns and labels', async () => {
    const table = rows(await ok(['get', 'pods', '-n', ns]));
    expect(table[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(table).toHaveLength(4);
    for (const r of table.slice(1)) {
      expect(r[0]).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}$/);
      expect(r.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    }
    const wide = rows(await ok(['get', 'pods', '-n', ns, '-o', 'wide', '--show-labels']));
    expect(wide[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES', 'LABELS']);
    for (const r of wide.slice(1)) {
      expect(r[5]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(r[6]).toMatch(/^node-[123]$/);
      expect(r[9]).toMatch(/^app=web,pod-template-hash=[a-z0-9]+$/);
    }
  });

  it('prints deployments wide, selects by label and lists across namespaces', async () => {
    const wide = rows(await ok(['get', 'deploy', '-n', ns, '-o', 'wide']));
    expect(wide[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(wide[1]).toEqual(['web', '3/3', '3', '3', expect.stringMatching(/^\d+s$/), 'web', 'nginx:1.25', 'app=web']);
    expect(await ok(['get', 'pods', '-n', ns, '-l', 'app=nope'])).toBe('');
    expect(rows(await ok(['get', 'pods', '-n', ns, '-l', 'app in (web)', '-o', 'name']))).toHaveLength(3);
    const all = rows(await ok(['get', 'deploy', '-A']));
    expect(all[0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(all.some((r) => r[0] === ns && r[1] === 'web')).toBe(true);
  });

  it('prints objects as YAML, JSON and jsonpath', async () => {
    const y = parse(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'yaml'])) as KObject;
    expect(y).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns }, status: { readyReplicas: 3 } });
    // kubectl hides managedFields unless asked.
    expect(y.metadata.managedFields).toBeUndefined();
    const list = JSON.parse(await ok(['get', 'pods', '-n', ns, '-o', 'json'])) as { kind: string; items: KObject[] };
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(3);
    expect(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.status.availableReplicas}'])).toBe(
      'nginx:1.25 3',
    );
    const names = (await ok(['get', 'pods', '-n', ns, '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}'])).trim().split('\n');
    expect(names.every((n) => /^node-[123]$/.test(n))).toBe(true);
  });

  it('get all shows pods, deployments and replicasets of a namespace', async () => {
    const out = await ok(['get', 'all', '-n', ns]);
    expect(out).toMatch(/^NAME {2,}READY {2,}STATUS {2,}RESTARTS {2,}AGE\npod\/web-/);
    expect(out).toMatch(/\ndeployment\.apps\/web {2,}3\/3 {2,}3 {2,}3 /);
    expect(out).toMatch(/\nreplicaset\.apps\/web-[a-z0-9]+ {2,}3 {2,}3 {2,}3 /);
  });

  it('get -w prints a row when a change arrives', async () => {
    const child = await k.spawnKubectl(['get', 'deploy', 'web', '-n', ns, '-w']);
    try {
      await readUntil(child, (o) => /\nweb {2,}3\/3/.test(o));
      const next = readUntil(child, (o) => /web {2,}\d\/4/.test(o));
      await ok(['scale', 'deploy/web', '-n', ns, '--replicas=4']);
      expect(await next).toMatch(/web {2,}[34]\/4 {2,}/);
    } finally {
      child.kill();
    }
  });
});

describe('describe', () => {
  it('describes a pod, its deployment and its node, with events', async () => {
    const ns = await namespace('describe');
    await ok(['apply', '-n', ns, '-f', k.file('describe/web.yaml', deployment('web', 'nginx:1.25', 1))]);
    await rolledOut(ns, 'web');
    const pod = (await k.cluster.client.list(PODS, ns)).items[0]!;
    const node = (pod.spec as { nodeName: string }).nodeName;

    const dp = await ok(['describe', 'pod', pod.metadata.name!, '-n', ns]);
    expect(dp).toMatch(new RegExp(`^Name: +${pod.metadata.name}\nNamespace: +${ns}\n`));
    expect(dp).toMatch(new RegExp(`\nNode: +${node}/`));
    expect(dp).toMatch(/\nStatus: +Running\n/);
    expect(dp).toMatch(/\nControlled By: +ReplicaSet\/web-/);
    expect(dp).toMatch(/\n {4}Image: +nginx:1\.25\n/);
    expect(dp).toMatch(/\n {4}Port: +80\/TCP\n/);
    expect(dp).toMatch(/\nEvents:\n +Type +Reason +Age +From +Message\n/);
    expect(dp).toMatch(new RegExp(`Normal +Scheduled +\\S+ +default-scheduler +Successfully assigned ${ns}/${pod.metadata.name} to ${node}`));

    const dd = await ok(['describe', 'deploy', 'web', '-n', ns]);
    expect(dd).toMatch(/\nReplicas: +1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable\n/);
    expect(dd).toMatch(/\nNewReplicaSet: +web-[a-z0-9]+ \(1\/1 replicas created\)\n/);
    expect(dd).toMatch(/ScalingReplicaSet .*Scaled up replica set web-[a-z0-9]+ from 0 to 1/);

    const dn = await ok(['describe', 'node', node]);
    expect(dn).toMatch(new RegExp(`^Name: +${node}\n`));
    expect(dn).toMatch(new RegExp(`\nLease:\n +HolderIdentity: +${node}\n`));
    expect(dn).toMatch(/\n +Ready +True /);
    expect(dn).toMatch(new RegExp(`\nNon-terminated Pods: +\\(\\d+ in total\\)\n(.*\n)*? +${ns} +${pod.metadata.name} `));
  });

  it('describes a service (EndpointSlices are looked up and their absence tolerated)', async () => {
    const ns = await namespace('describe-svc');
    await ok(['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '-n', ns]);
    const out = await ok(['describe', 'svc', 'api', '-n', ns]);
    expect(out).toMatch(/\nType: +ClusterIP\n/);
    expect(out).toMatch(/\nIP: +10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+\n/);
    expect(out).toMatch(/\nPort: +80-8080 +80\/TCP\nTargetPort: +8080\/TCP\n/);
  });
});

describe('create (protobuf request bodies)', () => {
  it('create deployment sends protobuf and the deployment rolls out', async () => {
    const ns = await namespace('create');
    expect(await ok(['create', 'deployment', 'hello', '--image=nginx:1.25', '--replicas=2', '--port=80', '-n', ns])).toBe('deployment.apps/hello created\n');
    await rolledOut(ns, 'hello');
    const d = await k.cluster.client.get(DEPLOYMENTS, ns, 'hello');
    expect(d.spec).toMatchObject({
      replicas: 2,
      selector: { matchLabels: { app: 'hello' } },
      template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] } },
    });
    expect(d.metadata.managedFields?.[0]).toMatchObject({ manager: 'kubectl-create', operation: 'Update' });
    // --replicas=0 is an explicit zero on the wire, not a missing field.
    await ok(['create', 'deployment', 'idle', '--image=nginx', '--replicas=0', '-n', ns]);
    expect((await k.cluster.client.get(DEPLOYMENTS, ns, 'idle')).spec).toMatchObject({ replicas: 0 });
    const dry = parse(await ok(['create', 'deployment', 'dry', '--image=nginx', '--dry-run=server', '-o', 'yaml', '-n', ns])) as KObject;
    expect(dry.metadata.name).toBe('dry');
    expect(await k.cluster.client.find(DEPLOYMENTS, ns, 'dry')).toBeUndefined();
  });

  it('create configmap, secret, job, service and namespace', async () => {
    const ns = await namespace('create2');
    expect(await ok(['create', 'configmap', 'settings', '--from-literal=a=1', '--from-literal=b=two', '-n', ns])).toBe('configmap/settings created\n');
    expect(JSON.parse(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'json'])).data).toEqual({ a: '1', b: 'two' });
    expect(await ok(['create', 'secret', 'generic', 'token', '--from-literal=t=s3cret', '-n', ns])).toBe('secret/token created\n');
    expect(await ok(['get', 'secret', 'token', '-n', ns, '-o', 'jsonpath={.data.t}'])).toBe(Buffer.from('s3cret').toString('base64'));
    expect(await ok(['create', 'job', 'once', '--image=busybox', '-n', ns, '--', 'echo', 'hi'])).toBe('job.batch/once created\n');
    expect(await ok(['get', 'job', 'once', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].command}'])).toBe('["echo","hi"]');
    const r = await k.kubectl(['create', 'configmap', 'settings', '--from-literal=a=1', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: failed to create configmap: configmaps "settings" already exists\n');
  });
});

describe('delete', () => {
  it('delete TYPE/NAME returns once graceful deletion has finished', async () => {
    const ns = await namespace('delete');
    await ok(['run', 'solo', '--image=nginx', '-n', ns]);
    await ok(['wait', '--for=condition=Ready', 'pod/solo', '-n', ns, '--timeout=20s']);
    expect(await ok(['delete', 'pod/solo', '-n', ns])).toBe(`pod "solo" deleted from ${ns} namespace\n`);
    expect(await k.cluster.client.find(PODS, ns, 'solo')).toBeUndefined();
    const r = await k.kubectl(['delete', 'pod', 'solo', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server (NotFound): pods "solo" not found\n');
  });

  it('delete -f removes what a manifest names', async () => {
    const ns = await namespace('delete-f');
    const file = k.file(
      'delete/app.yaml',
      `${deployment('web', 'nginx', 1)}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n`,
    );
    await ok(['apply', '-f', file, '-n', ns]);
    expect(await ok(['delete', '-f', file, '-n', ns])).toBe(`deployment.apps "web" deleted from ${ns} namespace\nservice "web" deleted from ${ns} namespace\n`);
    expect(await ok(['get', 'deploy,svc', '-n', ns])).toBe('');
    // The ReplicaSet and its pods follow through garbage collection.
    await waitFor(async () => (await k.cluster.client.list(PODS, ns)).items.length === 0, { what: 'pods of a deleted deployment to go' });
  });
});

describe('scale and rollout', () => {
  it('scale, rollout restart/status/history/undo', async () => {
    const ns = await namespace('rollout');
    await ok(['apply', '-n', ns, '-f', k.file('rollout/v1.yaml', deployment('web', 'nginx:1.25', 2))]);
    await rolledOut(ns, 'web');
    expect(await ok(['scale', 'deployment/web', '--replicas=3', '-n', ns])).toBe('deployment.apps/web scaled\n');
    await rolledOut(ns, 'web');
    expect(rows(await ok(['get', 'deploy', 'web', '-n', ns]))[1]?.slice(1, 4)).toEqual(['3/3', '3', '3']);
    const stale = await k.kubectl(['scale', 'deployment/web', '--replicas=1', '--current-replicas=5', '-n', ns]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe('error: Expected replicas to be 5, was 3\n');

    await ok(['apply', '-n', ns, '-f', k.file('rollout/v2.yaml', deployment('web', 'nginx:1.26', 3))]);
    expect(await ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=30s'])).toMatch(/deployment "web" successfully rolled out\n$/);
    expect(await ok(['rollout', 'restart', 'deployment/web', '-n', ns])).toBe('deployment.apps/web restarted\n');
    await rolledOut(ns, 'web');
    const history = rows(await ok(['rollout', 'history', 'deployment/web', '-n', ns]));
    expect(history[0]).toEqual(['deployment.apps/web']);
    expect(history.slice(1)).toEqual([
      ['REVISION', 'CHANGE-CAUSE'],
      ['1', '<none>'],
      ['2', '<none>'],
      ['3', '<none>'],
    ]);

    expect(await ok(['rollout', 'undo', 'deployment/web', '--to-revision=1', '-n', ns])).toBe('deployment.apps/web rolled back\n');
    await rolledOut(ns, 'web');
    expect(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('nginx:1.25');
    const after = rows(await ok(['rollout', 'history', 'deployment/web', '-n', ns]))
      .slice(2)
      .map((r) => r[0]);
    expect(after).toEqual(['2', '3', '4']);
  });
});

describe('events, wait, explain, config', () => {
  it('get events prints kubectl event columns', async () => {
    const ns = await namespace('events');
    await ok(['run', 'ev', '--image=nginx', '-n', ns]);
    await ok(['wait', '--for=condition=Ready', 'pod/ev', '-n', ns, '--timeout=20s']);
    const table = rows(await ok(['get', 'events', '-n', ns]));
    expect(table[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(table.slice(1)).toContainEqual([
      expect.stringMatching(/^\d+s$/),
      'Normal',
      'Scheduled',
      'pod/ev',
      expect.stringMatching(new RegExp(`^Successfully assigned ${ns}/ev to node-[123]$`)),
    ]);
    const viaSelector = rows(await ok(['get', 'events', '-A', '--field-selector', `involvedObject.kind=Pod,involvedObject.name=ev`]));
    expect(viaSelector.slice(1).every((r) => r[0] === ns && r[4] === 'pod/ev')).toBe(true);
  });

  it('wait --for=condition=Ready returns when pods become ready, and times out otherwise', async () => {
    const ns = await namespace('wait');
    await ok(['apply', '-n', ns, '-f', k.file('wait/web.yaml', deployment('web', 'nginx', 2))]);
    const out = await ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '-n', ns, '--timeout=30s']);
    expect(out.trim().split('\n')).toHaveLength(2);
    expect(out).toMatch(/^pod\/web-\S+ condition met\n/);
    await ok(['wait', '--for=condition=Available', 'deploy/web', '-n', ns, '--timeout=30s']);
    const never = await k.kubectl(['wait', '--for=condition=Frozen', 'deploy/web', '-n', ns, '--timeout=2s']);
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('timed out waiting for the condition on deployments/web');
  });

  it('explain prints the Kubernetes documentation of a field', async () => {
    const out = await ok(['explain', 'pod.spec.containers']);
    expect(out).toMatch(/^KIND: {7}Pod\nVERSION: {4}v1\n\nFIELD: containers <\[\]Container>\n/);
    expect(out).toContain('List of containers belonging to the pod.');
    expect(out).toMatch(/\n {2}image\t<string>\n/);
    expect(out).toMatch(/\n {2}name\t<string> -required-\n/);
    expect(out).toMatch(/\n {2}ports\t<\[\]ContainerPort>\n/);
    const strategy = await ok(['explain', 'deployment.spec.strategy.type']);
    expect(strategy).toMatch(/^GROUP: {6}apps\nKIND: {7}Deployment\nVERSION: {4}v1\n\nFIELD: type <string>/);
    const missing = await k.kubectl(['explain', 'pod.spec.nonsense']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('field "nonsense" does not exist');
  });

  it('config view and use-context work on the kubeconfig', async () => {
    const view = parse(await ok(['config', 'view', '-o', 'yaml'])) as { clusters: { cluster: { server: string } }[]; 'current-context': string };
    expect(view.clusters[0]!.cluster.server).toBe(k.cluster.url);
    expect(view['current-context']).toBe('kumo');
    expect(await ok(['config', 'get-contexts', '-o', 'name'])).toBe('kumo\nkumo-other\n');
    const other = `${k.kubeconfig}.copy`;
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(other, readFileSync(k.kubeconfig));
    expect(await ok(['--kubeconfig', other, 'config', 'use-context', 'kumo-other'])).toBe('Switched to context "kumo-other".\n');
    expect(await ok(['--kubeconfig', other, 'config', 'current-context'])).toBe('kumo-other\n');
    // kumo-other defaults to its own namespace.
    await namespace('kumo-other');
    await ok(['--kubeconfig', other, 'create', 'configmap', 'here', '--from-literal=x=y']);
    expect(await ok(['get', 'cm', 'here', '-n', 'kumo-other', '-o', 'name'])).toBe('configmap/here\n');
  });
});

describe('multi-document output', () => {
  it('get -o yaml of several objects is a List kubectl can re-apply', async () => {
    const ns = await namespace('roundtrip');
    await ok(['create', 'configmap', 'a', '--from-literal=x=1', '-n', ns]);
    await ok(['create', 'configmap', 'b', '--from-literal=x=2', '-n', ns]);
    const yaml = await ok(['get', 'cm', 'a', 'b', '-n', ns, '-o', 'yaml']);
    expect(parseAllDocuments(yaml)).toHaveLength(1);
    expect(await ok(['apply', '-f', '-', '-n', ns], yaml)).toMatch(/configmap\/a (configured|unchanged)\nconfigmap\/b (configured|unchanged)\n/);
  });
});

describe('drain (policy/v1 evictions)', () => {
  it('cordons a node, evicts its pods, and uncordons it', async () => {
    const ns = await namespace('drain');
    await ok(['apply', '-n', ns, '-f', k.file('drain/web.yaml', deployment('web', 'nginx', 3))]);
    await rolledOut(ns, 'web');
    const pods = (await k.cluster.client.list(PODS, ns)).items;
    const node = (pods[0]!.spec as { nodeName: string }).nodeName;
    const onNode = pods.filter((p) => (p.spec as { nodeName: string }).nodeName === node).map((p) => p.metadata.name!);

    // Only this Deployment's pods: other tests' bare pods may share the node, and drain refuses those.
    const out = await ok(['drain', node, '--ignore-daemonsets', '--pod-selector=app=web', '--timeout=30s']);
    expect(out).toMatch(new RegExp(`^node/${node} cordoned\n`));
    for (const name of onNode) expect(out).toContain(`pod/${name} evicted\n`);
    expect(out).toMatch(new RegExp(`node/${node} drained\n$`));
    expect(rows(await ok(['get', 'node', node]))[1]?.[1]).toBe('Ready,SchedulingDisabled');
    await rolledOut(ns, 'web');
    const after = (await k.cluster.client.list(PODS, ns)).items;
    expect(after.some((p) => (p.spec as { nodeName?: string }).nodeName === node)).toBe(false);
    expect(await ok(['uncordon', node])).toBe(`node/${node} uncordoned\n`);
  });
});
