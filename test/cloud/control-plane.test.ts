/**
 * The whole control plane in cloud mode, from the deployed artifacts: the
 * API bundle behind a stand-in Function URL, the controller and scheduler
 * bundles fed by the emulator's DynamoDB stream through the stack's event
 * filters and by the resync schedule, and three node agents started from
 * the agent image's entrypoint (bootstrap token → own node token), with the
 * fake runtime. A user points `kumo` at it with `kumo kubeconfig --stack`,
 * applies the seed's Deployment, and sees it run; then a node dies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand, waitUntilStackCreateComplete } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import type { Node } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { NODES, PODS, SECRETS } from '#lib/kinds/resources';
import { tokenSecretName, TOKEN_NAMESPACE } from '#lib/auth/tokens';
import { main } from '#lib/cli/main';
import { memoryIO } from '#lib/cli/io';
import { KubeClient } from '#lib/client/client';
import { HttpTransport } from '#lib/client/transport';
import { STACK_OUTPUTS } from '#lib/cloud/stack-outputs';
import { CONTROLLER_FILTERS, SCHEDULER_FILTERS } from '#lib/cloud/stream-filters';
import { waitFor } from '../helpers/wait.js';
import { invocationContext } from '../functions/events.js';
import { EventSourceMappings, type StreamFunction } from './esm.js';
import {
  type AgentProcess,
  type ApiModule,
  type CloudAccount,
  deployToEmulator,
  type EventHandler,
  FunctionUrlServer,
  loadBundle,
  resyncSchedule,
  SCHEDULED_EVENT,
  scratchDir,
  startAgent,
} from './harness.js';

type P = Pod & KObject;
type N = Node & KObject;

const bundles = inject('cloudBundles');
const NODE_NAMES = ['node-a', 'node-b', 'node-c'];
const NODE_GRACE_SECONDS = 15;

const account: CloudAccount | undefined = await deployToEmulator({
  KUMO_NODE_GRACE_SECONDS: String(NODE_GRACE_SECONDS),
  KUMO_DEFAULT_TOLERATION_SECONDS: '2',
  KUMO_JOB_BACKOFF_MS: '100',
});

const running = (p: P) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running';

describe.runIf(account)('the control plane from the deployed bundles, on the emulator', () => {
  const a = account!;
  const scratch = scratchDir('kumo-cloud-cp-');
  const kubeconfig = join(scratch.path, 'kubeconfig');
  const io = () => memoryIO('', { ...process.env, KUBECONFIG: kubeconfig });
  let server: FunctionUrlServer;
  let mappings: EventSourceMappings;
  let controllerFn: EventHandler;
  let resync: ReturnType<typeof resyncSchedule>;
  let client: KubeClient;
  const agents = new Map<string, AgentProcess>();

  async function kumo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = io();
    const code = await main(args, out);
    return { code, stdout: out.stdout, stderr: out.stderr };
  }

  function agent(nodeName: string): AgentProcess {
    const p = startAgent(bundles.agentEntrypoint, {
      server: server.url,
      nodeName,
      bootstrapSecretString: a.bootstrapSecretString,
      dataDir: join(scratch.path, nodeName),
    });
    agents.set(nodeName, p);
    return p;
  }

  beforeAll(async () => {
    const api = await loadBundle<ApiModule>(bundles.api);
    server = new FunctionUrlServer(api.streamingHandler, 30_000);
    await server.start();
    // Two execution environments of each stream consumer: batches go to either, sometimes to both at once.
    const controllers = [await loadBundle<{ handler: EventHandler }>(bundles.controllers), await loadBundle<{ handler: EventHandler }>(bundles.controllers)];
    const schedulers = [await loadBundle<{ handler: EventHandler }>(bundles.scheduler), await loadBundle<{ handler: EventHandler }>(bundles.scheduler)];
    mappings = new EventSourceMappings(
      a.tableName,
      [
        { name: 'controllers', filters: CONTROLLER_FILTERS, instances: controllers.map((c) => c.handler as StreamFunction) },
        { name: 'scheduler', filters: SCHEDULER_FILTERS, instances: schedulers.map((s) => s.handler as StreamFunction) },
      ],
      { duplicate: 0.1, parallel: 0.2 },
    );
    await mappings.start();
    controllerFn = controllers[0]!.handler;
    resync = resyncSchedule([controllers[0]!.handler, schedulers[0]!.handler], 3_000);
    client = new KubeClient(new HttpTransport({ server: server.url, token: a.adminToken }));
    for (const n of NODE_NAMES) agent(n);
  });

  afterAll(async () => {
    await Promise.all([...agents.values()].map((p) => p.stop()));
    await resync?.stop();
    await mappings?.stop();
    await server?.stop();
    scratch.remove();
    await a.dispose();
  });

  it('writes a kubeconfig context from the stack outputs and the admin token secret (kumo kubeconfig --stack)', async () => {
    const cfn = new CloudFormationClient({});
    const template = {
      Resources: { Marker: { Type: 'AWS::SQS::Queue' } },
      Outputs: { [STACK_OUTPUTS.apiUrl]: { Value: `${server.url}/` }, [STACK_OUTPUTS.adminTokenSecretArn]: { Value: a.adminSecretArn } },
    };
    await cfn.send(new CreateStackCommand({ StackName: 'KumoTest', TemplateBody: JSON.stringify(template) }));
    await waitUntilStackCreateComplete({ client: cfn, maxWaitTime: 60, minDelay: 1 }, { StackName: 'KumoTest' });
    cfn.destroy();

    const r = await kumo('kubeconfig', '--stack', 'KumoTest');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`kubeconfig context "kumo-KumoTest" for ${server.url} written to ${kubeconfig} (current context)\n`);
    const cfg = parse(readFileSync(kubeconfig, 'utf8'));
    expect(cfg['current-context']).toBe('kumo-KumoTest');
    expect(cfg.clusters[0].cluster.server).toBe(server.url);
    expect(cfg.users[0].user.token).toBe(a.adminToken);

    const missing = await kumo('kubeconfig', '--stack', 'NoSuchStack');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: stack NoSuchStack does not exist/);
  });

  it('registers the three agents as Ready nodes, each enrolled once with its own token', async () => {
    await waitFor(
      async () => {
        const nodes = (await client.list<N>(NODES, undefined)).items;
        const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 3 ? ready : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: '3 Ready nodes' },
    );
    const got = await kumo('get', 'nodes');
    expect(got.code).toBe(0);
    for (const n of NODE_NAMES) expect(got.stdout).toMatch(new RegExp(`^${n}\\s+Ready\\s`, 'm'));
    for (const n of NODE_NAMES) {
      const record = await client.get(SECRETS, TOKEN_NAMESPACE, tokenSecretName(`node-${n}`));
      expect((record as { type?: string }).type).toBe('kumo.dev/token');
      expect(readFileSync(join(scratch.path, n, 'node-token'), 'utf8')).toMatch(new RegExp(`^node-${n}\\.[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{22}\\n$`));
      expect(agents.get(n)!.output()).toContain(`node ${n} enrolled`);
    }
  });

  it('runs the seed Deployment applied through the bundled API handler as 3 Running pods on the agents', async () => {
    const applied = await kumo('apply', '-f', 'examples/deployment.yaml');
    expect(applied).toMatchObject({ code: 0, stdout: 'deployment.apps/web-deploy created\n', stderr: '' });
    const pods = await waitFor(
      async () => {
        const list = (await client.list<P>(PODS, 'default', { labelSelector: 'app=web' })).items.filter(running);
        return list.length === 3 ? list : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: '3 running web pods' },
    );
    expect(new Set(pods.map((p) => p.spec?.nodeName))).toEqual(new Set(NODE_NAMES));
    const table = await kumo('get', 'pods', '-l', 'app=web');
    expect(
      table.stdout
        .trim()
        .split('\n')
        .slice(1)
        .filter((l) => /\s1\/1\s+Running\s/.test(l)),
    ).toHaveLength(3);

    // The filters did their job: the controllers saw the workload's changes (once the stream has caught up),
    // never a lease renewal or a new event, though both were on the stream.
    const c = mappings.stats.get('controllers')!;
    await waitFor(
      () =>
        ['deployments', 'replicasets', 'pods'].every((r) => (c.records.get(r) ?? 0) > 0) &&
        (c.filtered.get('leases') ?? 0) > 0 &&
        (c.filtered.get('events') ?? 0) > 0,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'the stream to reach the controllers',
      },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: delivered ${JSON.stringify([...c.records])}, filtered ${JSON.stringify([...c.filtered])}, invocations ${c.invocations}`);
    });
    expect(c.records.get('leases') ?? 0).toBe(0);
    expect(c.records.get('events') ?? 0).toBe(0);
    expect([...mappings.stats.get('scheduler')!.records.keys()].sort()).toEqual(['nodes', 'pods']);
  });

  it('runs the scheduled resync over every key and compacts the change log', async () => {
    const result = (await controllerFn(SCHEDULED_EVENT, invocationContext(60_000))) as { keys: number; failed: number; compacted: boolean };
    expect(result.keys).toBeGreaterThan(0);
    expect(result).toMatchObject({ failed: 0, compacted: true });
  });

  it("moves a dead node's pods to the other nodes, and takes the node back when its agent returns", async () => {
    const before = (await client.list<P>(PODS, 'default', { labelSelector: 'app=web' })).items.filter(running);
    const victim = before[0]!.spec!.nodeName!;
    await agents.get(victim)!.kill();
    const after = await waitFor(
      async () => {
        const list = (await client.list<P>(PODS, 'default', { labelSelector: 'app=web' })).items.filter(running);
        return list.length === 3 && list.every((p) => p.spec?.nodeName !== victim) ? list : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `pods moved off ${victim}` },
    );
    expect(after.map((p) => p.metadata.name)).not.toContain(before[0]!.metadata.name);
    const node = await client.get<N>(NODES, undefined, victim);
    expect(node.spec?.taints?.map((t) => t.key)).toContain('node.kubernetes.io/unreachable');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');

    // The same host comes back: its agent reuses the token it enrolled with, and the node is Ready and untainted again.
    const back = agent(victim);
    await waitFor(
      async () => {
        const n = await client.get<N>(NODES, undefined, victim);
        return (
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !(n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable')
        );
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `${victim} Ready again` },
    );
    expect(back.output()).toContain(`node ${victim}: using the token in`);
  });
});
