/**
 * Services with real containers (docker runtime, two nodes on this host):
 * a 3-replica busybox httpd Deployment behind a NodePort Service answers
 * through the node proxy on loopback; traffic reaches every pod, stops going
 * to a pod within two probe periods of it turning not ready, and a rolling
 * update behind the Service loses no request. Containers find the Service
 * by env vars and by name, ConfigMap and Secret volumes follow updates, a
 * Secret never shows in logs, events, describe or the database file, and a
 * claim's data outlives its pod.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '#lib/api/core/v1/service';
import type { EndpointSlice } from '#lib/api/discovery/v1/endpointslice';
import type { KObject } from '#lib/api/object';
import { defaultSecretRoot } from '#lib/agent/volumes/manager';
import { resourceByName } from '#lib/kinds/resources';
import { PODS } from '#lib/kinds/resources';
import { describeObject } from '#lib/cli/commands/describe';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from './docker.js';
import { agentCluster, eventsOf, type P, podObject, ready, waitGone, waitPod } from './harness.js';
import { jsonLogger } from '#lib/log/logger';

const docker = await dockerForTests();
const rt = (name: string) => resourceByName(name)!;
const image = { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent' };
type S = Service & KObject;

/** One HTTP GET on a fresh connection; rejects on any failure. */
function get(host: string, port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, headers: { connection: 'close' }, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The echo Deployment: each pod serves its own name on 8080 and /ready for its readiness probe. */
function echoDeployment(replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'echo' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'echo' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'echo' } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'httpd',
              ...image,
              command: ['sh', '-c', 'mkdir -p /www && echo "$POD_NAME" > /www/index.html && echo ok > /www/ready && exec httpd -f -p 8080 -h /www'],
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 1 },
              // Kubernetes' advice for zero-downtime rollouts: keep serving while the endpoint update spreads.
              lifecycle: { preStop: { sleep: { seconds: 1 } } },
            },
          ],
        },
      },
    },
  };
}

describe.skipIf(!docker)('docker runtime: Services, the node proxy, config and volumes', () => {
  const nodes = [uniqueNode('svc-a'), uniqueNode('svc-b')];
  const logLines: string[] = [];
  let c: Awaited<ReturnType<typeof agentCluster>>;
  let nodePort = 0;
  let clusterIP = '';

  beforeAll(async () => {
    await ensureTestImage();
    c = await agentCluster({
      runtime: 'docker',
      nodeNames: nodes,
      agent: { volumeSyncMs: 1_000 },
      proxy: { nodePortAddresses: ['127.0.0.1'] },
      print: (l) => logLines.push(l),
      logger: jsonLogger({ service: 'test', level: 'DEBUG', sink: (l) => logLines.push(l) }),
    });
    await c.client.create(rt('deployments'), 'default', echoDeployment(3));
    const svc = await c.client.create<S>(rt('services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo' },
      spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
    });
    nodePort = svc.spec!.ports![0]!.nodePort!;
    clusterIP = svc.spec!.clusterIP!;
  }, 60_000);

  afterAll(async () => {
    const dataDir = c?.dataDir;
    await c?.dispose();
    for (const n of nodes) {
      await removeNodeContainers(n);
      // Secret volumes live on tmpfs, outside the data dir the cluster removed.
      if (dataDir) rmSync(defaultSecretRoot(join(dataDir, 'agent', n)), { recursive: true, force: true });
    }
  });

  const activePods = async () => (await c.client.list<P>(PODS, 'default', { labelSelector: 'app=echo' })).items.filter((p) => !p.metadata.deletionTimestamp);
  const readyEndpoints = async () => {
    const slices = (await c.client.list<EndpointSlice & KObject>(rt('endpointslices'), 'default', { labelSelector: 'kubernetes.io/service-name=echo' })).items;
    return slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
  };
  const exec = async (pod: P, container: string, command: string[]) => {
    let out = '';
    const collect = (b: Uint8Array) => (out += Buffer.from(b).toString());
    const code = await c.agents
      .get(pod.spec!.nodeName!)!
      .exec('default', pod.metadata.name!, container, command, { stdin: false, tty: false }, { stdout: collect, stderr: collect });
    return { code, out };
  };
  const threeReady = async () => {
    const pods = await activePods();
    return pods.length === 3 && pods.every(ready) && (await readyEndpoints()).length === 3 ? pods : undefined;
  };

  it('answers through the node proxy: 300 sequential requests reach all three pods', async () => {
    const pods = await waitFor(threeReady, { timeoutMs: 60_000, what: '3 ready pods listed in the EndpointSlice' });
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2);
    await waitFor(() => c.proxy!.listening().includes(`127.0.0.1:${nodePort}`), { what: 'the node port to listen' });
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const name = await get('127.0.0.1', nodePort);
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(pods.map((p) => p.metadata.name!).sort());
    // Round-robin: an even split (exactly 100 each unless a probe flapped under load).
    for (const n of seen.values()) expect(n).toBeGreaterThanOrEqual(50);
  });

  it('stops sending traffic to a pod within two probe periods of it turning not ready, failing no request', async () => {
    const pods = await waitFor(threeReady, { timeoutMs: 30_000, what: '3 ready pods' });
    const victim = pods[0]!;
    expect((await exec(victim, 'httpd', ['rm', '/www/ready'])).code).toBe(0);
    const t0 = Date.now();
    const answers: { at: number; name: string }[] = [];
    while (Date.now() - t0 < 4_000) {
      const at = Date.now();
      answers.push({ at, name: await get('127.0.0.1', nodePort) });
    }
    const late = answers.filter((a) => a.at - t0 > 2 * 1_000);
    expect(late.length).toBeGreaterThan(10);
    expect(late.filter((a) => a.name === victim.metadata.name)).toEqual([]);
    expect(new Set(late.map((a) => a.name)).size).toBe(2);
    const slices = (await c.client.list<EndpointSlice & KObject>(rt('endpointslices'), 'default', { labelSelector: 'kubernetes.io/service-name=echo' })).items;
    const e = slices.flatMap((s) => s.endpoints ?? []).find((x) => x.targetRef?.name === victim.metadata.name);
    expect(e?.conditions).toEqual({ ready: false, serving: false, terminating: false });

    // Ready again: traffic comes back.
    expect((await exec(victim, 'httpd', ['sh', '-c', 'echo ok > /www/ready'])).code).toBe(0);
    await waitFor(async () => (await get('127.0.0.1', nodePort)) === victim.metadata.name, {
      timeoutMs: 10_000,
      intervalMs: 10,
      what: 'traffic back on the pod',
    });
  });

  it('rolls the Deployment behind the Service without failing a request', async () => {
    const before = (await waitFor(threeReady, { timeoutMs: 30_000, what: '3 ready pods' })).map((p) => p.metadata.name!);
    await c.client.patch(rt('deployments'), 'default', 'echo', {
      spec: { template: { metadata: { annotations: { 'kumo.io/restartedAt': new Date().toISOString() } } } },
    });
    const deadline = Date.now() + 90_000;
    const names = new Set<string>();
    let requests = 0;
    const done = async () => {
      const d = await c.client.get<KObject & { metadata: { generation?: number }; status?: Record<string, number> }>(rt('deployments'), 'default', 'echo');
      const s = d.status ?? {};
      return s.observedGeneration === d.metadata.generation && s.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3;
    };
    // A continuous request loop, bounded in count and time, until the rollout is complete.
    while (Date.now() < deadline && requests < 20_000) {
      names.add(await get('127.0.0.1', nodePort));
      requests++;
      if (requests % 20 === 0 && (await done())) break;
    }
    expect(await done()).toBe(true);
    const after = (await activePods()).map((p) => p.metadata.name!);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    // Old pods answered during the rollout, and every request succeeded (get() rejects otherwise).
    expect(requests).toBeGreaterThan(20);
    expect([...names].some((n) => before.includes(n))).toBe(true);
    await waitFor(async () => after.includes(await get('127.0.0.1', nodePort)), { what: 'a new pod answering' });
  });

  it('lets containers find the Service by env vars and by name, also for Services created later', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('client', { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', ...image, command: ['sleep', '3600'] }] }),
    );
    const pod = await waitPod(c.client, 'client', (p) => p.status?.phase === 'Running', 'Running');
    const env = (
      await exec(pod, 'c', ['sh', '-c', 'echo $ECHO_SERVICE_HOST $ECHO_SERVICE_PORT $ECHO_SERVICE_PORT_WEB $ECHO_PORT $ECHO_PORT_80_TCP_ADDR'])
    ).out.trim();
    expect(env).toBe(`${clusterIP} 80 80 tcp://${clusterIP}:80 ${clusterIP}`);
    const hosts = (await exec(pod, 'c', ['cat', '/etc/hosts'])).out;
    expect(hosts).toContain(`${clusterIP}\techo.default.svc.cluster.local echo.default.svc echo.default echo\n`);

    await c.client.create(rt('services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'late' },
      spec: { selector: { app: 'echo' }, ports: [{ port: 8081, targetPort: 8080 }] },
    });
    const late = await c.client.get<S>(rt('services'), 'default', 'late');
    await waitFor(async () => (await exec(pod, 'c', ['cat', '/etc/hosts'])).out.includes(`${late.spec!.clusterIP}\tlate.default.svc.cluster.local`), {
      what: 'the new Service in /etc/hosts',
    });

    // Through the ClusterIP, by name, from inside a container: needs the ClusterIPs bound on this host (root / CAP_NET_ADMIN).
    await waitFor(() => c.proxy!.listening().includes(`${clusterIP}:80`) || !!c.proxy!.clusterIPsUnavailable, { what: 'the ClusterIP listener' });
    if (c.proxy!.clusterIPsUnavailable) {
      if (process.env.CI === 'true') throw new Error(`CI=true but ClusterIPs cannot be served here: ${c.proxy!.clusterIPsUnavailable}`);
      console.warn(`\n*** SKIPPING the ClusterIP part: ${c.proxy!.clusterIPsUnavailable} ***\n`);
      return;
    }
    const viaName = await exec(pod, 'c', ['wget', '-q', '-O', '-', 'http://echo/']);
    expect(viaName.code).toBe(0);
    expect(viaName.out.trim()).toMatch(/^echo-/);
    expect((await exec(pod, 'c', ['wget', '-q', '-O', '-', 'http://late.default.svc.cluster.local:8081/'])).out.trim()).toMatch(/^echo-/);
    expect(await get(clusterIP, 80)).toMatch(/^echo-/);
  });

  it('mounts ConfigMap and Secret volumes (items, modes, optional) and propagates a ConfigMap change to the file within seconds', async () => {
    await c.client.create(rt('configmaps'), 'default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'app-config' },
      data: { 'app.conf': 'color=blue\n', 'other.txt': 'x' },
    });
    await c.client.create(rt('secrets'), 'default', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls' },
      stringData: { 'tls.key': 'KEY', 'tls.crt': 'CRT' },
    });
    await c.client.create(
      PODS,
      'default',
      podObject('config-reader', {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            ...image,
            command: ['sleep', '3600'],
            envFrom: [{ configMapRef: { name: 'app-config' }, prefix: 'CFG_' }, { configMapRef: { name: 'missing', optional: true } }],
            volumeMounts: [
              { name: 'config', mountPath: '/etc/app' },
              { name: 'tls', mountPath: '/etc/tls' },
              { name: 'maybe', mountPath: '/etc/maybe' },
            ],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }] } },
          { name: 'tls', secret: { secretName: 'tls', defaultMode: 0o400 } },
          { name: 'maybe', configMap: { name: 'missing', optional: true } },
        ],
      }),
    );
    const pod = await waitPod(c.client, 'config-reader', (p) => p.status?.phase === 'Running', 'Running', 30_000);
    expect((await exec(pod, 'c', ['cat', '/etc/app/conf/app.conf'])).out).toBe('color=blue\n');
    expect((await exec(pod, 'c', ['ls', '/etc/app'])).out).toBe('conf\n');
    expect((await exec(pod, 'c', ['stat', '-L', '-c', '%a', '/etc/app/conf/app.conf', '/etc/tls/tls.key'])).out).toBe('600\n400\n');
    expect(
      (
        await exec(pod, 'c', [
          'sh',
          '-c',
          "cat /etc/tls/tls.key /etc/tls/tls.crt; echo; tr '\\0' '\\n' < /proc/1/environ | grep ^CFG_ | sort; ls /etc/maybe | wc -l",
        ])
      ).out,
    ).toBe('KEYCRT\nCFG_app.conf=color=blue\nCFG_other.txt=x\n0\n');
    // Mounted read-only, as in Kubernetes.
    expect((await exec(pod, 'c', ['sh', '-c', 'echo y > /etc/app/new 2>/dev/null'])).code).not.toBe(0);

    await c.client.patch(rt('configmaps'), 'default', 'app-config', { data: { 'app.conf': 'color=green\n' } });
    const changedAt = Date.now();
    await waitFor(async () => (await exec(pod, 'c', ['cat', '/etc/app/conf/app.conf'])).out === 'color=green\n', {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the new value in the mounted file',
    });
    // Well within the minute Kubernetes promises (the sync period here is 1 s).
    expect(Date.now() - changedAt).toBeLessThan(15_000);
  });

  it('holds a pod whose volume or env refers to something missing, with the kubelet’s reasons', async () => {
    await c.client.create(
      PODS,
      'default',
      podObject('needs-cm', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', ...image, command: ['sleep', '3600'], volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
        volumes: [{ name: 'v', configMap: { name: 'later' } }],
      }),
    );
    await c.client.create(rt('secrets'), 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'half' }, stringData: { present: 'p' } });
    await c.client.create(
      PODS,
      'default',
      podObject('needs-key', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', ...image, command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'half', key: 'absent' } } }] }],
      }),
    );
    await waitFor(
      async () => (await eventsOf(c.client, 'needs-cm')).includes('FailedMount: MountVolume.SetUp failed for volume "v" : configmap "later" not found'),
      { what: 'a FailedMount event' },
    );
    expect((await c.client.get<P>(PODS, 'default', 'needs-cm')).status?.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating').toBe(
      'ContainerCreating',
    );
    const keyPod = await waitPod(
      c.client,
      'needs-key',
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
      'CreateContainerConfigError',
    );
    expect(keyPod.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe("couldn't find key absent in Secret default/half");

    await c.client.create(rt('configmaps'), 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' }, data: { a: '1' } });
    await waitPod(c.client, 'needs-cm', (p) => p.status?.phase === 'Running', 'Running once the ConfigMap exists', 30_000);
  });

  it('never shows a Secret value in logs, events, describe output or the database file', async () => {
    const value = `s3cr3t-${randomBytes(8).toString('hex')}`;
    const b64 = Buffer.from(value).toString('base64');
    await c.client.create(rt('secrets'), 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: b64 } });
    await c.client.create(
      PODS,
      'default',
      podObject('db-user', {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            ...image,
            command: ['sleep', '3600'],
            env: [
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
              { name: 'MISSING', valueFrom: { secretKeyRef: { name: 'db', key: 'nope', optional: true } } },
            ],
            envFrom: [{ secretRef: { name: 'db' }, prefix: 'S_' }],
            volumeMounts: [{ name: 's', mountPath: '/s' }],
          },
        ],
        volumes: [{ name: 's', secret: { secretName: 'db' } }],
      }),
    );
    const pod = await waitPod(c.client, 'db-user', (p) => p.status?.phase === 'Running', 'Running', 30_000);
    // The container gets it...
    expect((await exec(pod, 'c', ['sh', '-c', 'echo "$DB_PASSWORD $S_password ${MISSING-unset}"; cat /s/password'])).out).toBe(
      `${value} ${value} unset\n${value}`,
    );
    // ...and nothing else shows it.
    const everything = [
      logLines.join('\n'),
      JSON.stringify((await c.client.list(rt('events'), undefined)).items),
      await describeObject(c.client, rt('pods'), pod, true, Date.now()),
      await describeObject(c.client, rt('secrets'), await c.client.get(rt('secrets'), 'default', 'db'), true, Date.now()),
      readdirSync(c.dataDir)
        .filter((f) => f.startsWith('state.db'))
        .map((f) => readFileSync(join(c.dataDir, f)).toString('latin1'))
        .join(''),
    ].join('\n');
    expect(everything).not.toContain(value);
    expect(everything).not.toContain(b64);
    expect(everything).toContain('password:  ');
  });

  it("keeps a claim's data when its pod is deleted and created again", async () => {
    await c.client.create(rt('persistentvolumeclaims'), 'default', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const writer = (cmd: string) =>
      podObject('stateful', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', ...image, command: ['sh', '-c', cmd], volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
      });
    const stamp = randomBytes(6).toString('hex');
    await c.client.create(PODS, 'default', writer(`echo ${stamp} > /data/stamp && exec sleep 3600`));
    const first = await waitPod(c.client, 'stateful', (p) => p.status?.phase === 'Running', 'Running', 30_000);
    expect((await exec(first, 'c', ['cat', '/data/stamp'])).out).toBe(`${stamp}\n`);
    await c.client.delete(PODS, 'default', 'stateful');
    await waitGone(c.client, 'stateful');
    await c.client.create(PODS, 'default', writer('exec sleep 3600'));
    const second = await waitPod(c.client, 'stateful', (p) => p.status?.phase === 'Running', 'Running', 30_000);
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    expect((await exec(second, 'c', ['cat', '/data/stamp'])).out).toBe(`${stamp}\n`);
  });
});
