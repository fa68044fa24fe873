/**
 * The agent image's entrypoint on an ECS container instance, emulated: the
 * ECS task metadata endpoint (a local stand-in) names its task, the ECS API
 * (on the emulator, with a real EC2 instance registered as the container
 * instance) names the instance, and the node registers under the instance
 * id with the instance type, zone and region as labels, through the
 * deployed API bundle, after enrolling with the bootstrap token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateClusterCommand, ECSClient, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand, StartTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Node } from '#lib/api/core/v1/node';
import type { KObject } from '#lib/api/object';
import { NODES } from '#lib/kinds/resources';
import { KubeClient } from '#lib/client/client';
import { HttpTransport } from '#lib/client/transport';
import { discoverHost } from '#lib/cloud/ecs-host';
import { waitFor } from '../helpers/wait.js';
import { type AgentProcess, type ApiModule, type CloudAccount, deployToEmulator, FunctionUrlServer, loadBundle, scratchDir, startAgent } from './harness.js';

const bundles = inject('cloudBundles');
const account: CloudAccount | undefined = await deployToEmulator();

/** An EC2 API call in its query protocol (the emulator checks no signature). */
async function ec2(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    body: new URLSearchParams({ Version: '2016-11-15', ...params }).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
    },
  });
  return res.text();
}

describe.runIf(account)('a node agent on an ECS container instance', () => {
  const a = account!;
  const scratch = scratchDir('kumo-ecs-node-');
  let metadata: http.Server;
  let metadataUri = '';
  let instanceId = '';
  let containerInstanceArn = '';
  let server: FunctionUrlServer;
  let agentProcess: AgentProcess | undefined;

  beforeAll(async () => {
    const endpoint = a.emulator.endpoint;
    const images = await ec2(endpoint, { Action: 'DescribeImages', 'Owner.1': 'amazon' });
    const ami = /<imageId>(ami-[0-9a-f]+)<\/imageId>/.exec(images)![1]!;
    const run = await ec2(endpoint, {
      Action: 'RunInstances',
      ImageId: ami,
      MinCount: '1',
      MaxCount: '1',
      InstanceType: 't4g.small',
      'Placement.AvailabilityZone': 'us-east-1b',
    });
    instanceId = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(run)![1]!;
    const ecs = new ECSClient({});
    const cluster = (await ecs.send(new CreateClusterCommand({ clusterName: 'kumo-nodes' }))).cluster!.clusterArn!;
    const doc = JSON.stringify({ instanceId, region: 'us-east-1', availabilityZone: 'us-east-1b', instanceType: 't4g.small' });
    const instance = (await ecs.send(new RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: doc }))).containerInstance!
      .containerInstanceArn!;
    containerInstanceArn = instance;
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'kumo-agent', containerDefinitions: [{ name: 'agent', image: 'kumo-agent', memory: 256 }] }));
    const task = (await ecs.send(new StartTaskCommand({ cluster, taskDefinition: 'kumo-agent', containerInstances: [instance] }))).tasks![0]!.taskArn!;
    ecs.destroy();
    // The task metadata endpoint the ECS agent serves to the container (${ECS_CONTAINER_METADATA_URI_V4}/task).
    metadata = http.createServer((req, res) => {
      if (req.url !== '/v4/agent/task') {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ Cluster: cluster, TaskARN: task, Family: 'kumo-agent', Revision: '1', LaunchType: 'EC2' }));
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    metadataUri = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/v4/agent`;
    server = new FunctionUrlServer((await loadBundle<ApiModule>(bundles.api)).streamingHandler);
    await server.start();
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await server?.stop();
    metadata?.closeAllConnections();
    await new Promise<void>((resolve) => (metadata ? metadata.close(() => resolve()) : resolve()));
    scratch.remove();
    await a.dispose();
  });

  it('learns its node name and labels from the task metadata and the ECS API', async () => {
    const host = await discoverHost({ env: { ECS_CONTAINER_METADATA_URI_V4: metadataUri } });
    expect(host).toEqual({
      nodeName: instanceId,
      providerID: `aws:///us-east-1b/${instanceId}`,
      labels: {
        'node.kubernetes.io/instance-type': 't4g.small',
        'topology.kubernetes.io/zone': 'us-east-1b',
        'topology.kubernetes.io/region': 'us-east-1',
        // The emulator's ecs.os-type follows the image's platform.
        'kubernetes.io/os': expect.stringMatching(/^(linux|windows)$/),
        'kumo.io/ecs-cluster': 'kumo-nodes',
      },
      annotations: { 'ecs.kumo.io/container-instance-arn': containerInstanceArn },
    });
  });

  it('registers the instance as a Ready node through the API after enrolling', async () => {
    agentProcess = startAgent(bundles.agentEntrypoint, {
      server: server.url,
      nodeName: '',
      bootstrapSecretString: a.bootstrapSecretString,
      dataDir: join(scratch.path, 'data'),
      env: {
        ECS_CONTAINER_METADATA_URI_V4: metadataUri,
        AWS_ENDPOINT_URL: a.emulator.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    });
    const client = new KubeClient(new HttpTransport({ server: server.url, token: a.adminToken }));
    const node = await waitFor(
      async () => {
        const n = await client.find<Node & KObject>(NODES, undefined, instanceId);
        return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `node ${instanceId} Ready` },
    );
    expect(node.metadata.labels).toMatchObject({
      'topology.kubernetes.io/zone': 'us-east-1b',
      'node.kubernetes.io/instance-type': 't4g.small',
      'kubernetes.io/hostname': instanceId,
    });
    expect(node.spec?.providerID).toBe(`aws:///us-east-1b/${instanceId}`);
    expect(node.metadata.annotations?.['ecs.kumo.io/container-instance-arn']).toBe(containerInstanceArn);
    expect(agentProcess.output()).toContain(`kumo node agent: node ${instanceId}`);
    expect(agentProcess.output()).toContain(`node ${instanceId} enrolled`);
  });
});
