/**
 * Cluster DNS on a node of the cloud: the node agent image's entrypoint (the
 * bundle the ECS node pool runs), with the docker runtime and its DNS server
 * on a random 169.254.20.x, against the API bundle on the emulator. Its
 * informers read the four kinds through the Function URL with the node's
 * own token; a busybox pod bound to the node resolves a Service by name.
 * The container is reached through the Docker engine (exec through the API
 * needs the agents' VPC, not emulated here).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Service } from '#lib/api/core/v1/service';
import type { KObject } from '#lib/api/object';
import { DockerEngine } from '#lib/agent/docker/engine';
import { DockerRuntime } from '#lib/agent/docker/runtime';
import { LABELS } from '#lib/agent/runtime';
import { KubeClient } from '#lib/client/client';
import { HttpTransport } from '#lib/client/transport';
import { PODS, resourceByName } from '#lib/kinds/resources';
import { waitFor } from '../helpers/wait.js';
import { dockerForTests, ensureTestImage, removeNodeContainers, TEST_IMAGE, uniqueNode } from '../agent/docker.js';
import { type AgentProcess, type ApiModule, type CloudAccount, deployToEmulator, FunctionUrlServer, loadBundle, scratchDir, startAgent } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();
const docker = await dockerForTests();

describe.runIf(account && docker)('cluster DNS on a docker node of the cloud API', () => {
  const a = account!;
  const scratch = scratchDir('kumo-cloud-dns-');
  const node = uniqueNode('cloud-dns');
  const address = `169.254.20.${1 + Math.floor(Math.random() * 250)}`;
  const engine = new DockerEngine();
  let server: FunctionUrlServer;
  let agent: AgentProcess | undefined;
  let client: KubeClient;

  beforeAll(async () => {
    await ensureTestImage();
    const api = await loadBundle<ApiModule>(bundles.api);
    server = new FunctionUrlServer(api.streamingHandler, 30_000);
    await server.start();
    client = new KubeClient(new HttpTransport({ server: server.url, token: a.adminToken }));
    agent = startAgent(bundles.agentEntrypoint, {
      server: server.url,
      nodeName: node,
      bootstrapSecretString: a.bootstrapSecretString,
      dataDir: join(scratch.path, 'data'),
      env: { KUMO_RUNTIME: 'docker', KUMO_CLUSTER_DNS: address },
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    await removeNodeContainers(node);
    engine.close();
    scratch.remove();
    await a.dispose();
  });

  it("resolves a Service from a pod through the node's server, fed through the cloud API", async () => {
    await waitFor(() => agent!.output().includes(`cluster DNS served on ${address}:53`), {
      timeoutMs: 30_000,
      what: `the agent's DNS server (${agent!.output()})`,
    });
    const svc = await client.create<Service & KObject>(resourceByName('services')!, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ port: 80 }] },
    });
    await client.create(PODS, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client' },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
      },
    } as KObject);
    const filters = JSON.stringify({ label: [`${LABELS.node}=${node}`, `${LABELS.podName}=client`, `${LABELS.containerName}=c`] });
    const container = await waitFor(
      async () => (await engine.json<{ Id: string; State: string }[]>('GET', '/containers/json', { query: { filters } })).find((c) => c.State === 'running'),
      { timeoutMs: 30_000, what: 'the pod container running' },
    );
    const runtime = new DockerRuntime({ nodeName: node, nodeIP: '127.0.0.1', engine });
    const run = async (command: string[]) => {
      let out = '';
      const collect = (b: Uint8Array) => (out += Buffer.from(b).toString());
      await runtime.exec(container.Id, command, { tty: false, stdin: false }, { stdout: collect, stderr: collect });
      return out;
    };
    expect(await run(['cat', '/etc/resolv.conf'])).toContain(`nameserver ${address}\n`);
    // The informers list through a long-polling API: the Service reaches the records within a few polls.
    const answer = await waitFor(
      async () => {
        const out = await run(['nslookup', '-type=a', 'web.default.svc.cluster.local']);
        return out.includes(`Address: ${svc.spec!.clusterIP}`) ? out : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'web.default.svc.cluster.local to resolve' },
    );
    expect(answer).toContain('Name:\tweb.default.svc.cluster.local');
  });
});
