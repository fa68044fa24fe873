/**
 * Node facts from an ECS container instance (pure), and the agent's Node
 * carrying them: providerID set at registration or on takeover of a Node
 * that has none, annotations merged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeManager } from '#lib/agent/node';
import type { Node } from '#lib/api/core/v1/node';
import type { KObject } from '#lib/api/object';
import { NODES } from '#lib/kinds/resources';
import { ANNOTATION_CONTAINER_INSTANCE, factsOfContainerInstance, parseProviderId, providerIdOf } from '#lib/cloudprovider/node-facts';
import { systemClock } from '#lib/util/clock';
import { startCluster } from '../helpers/cluster.js';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/kumo-nodes/0f1e2d3c4b5a';

describe('node facts of an ECS container instance', () => {
  it('gives the providerID, the well-known labels and the container instance annotation', () => {
    const facts = factsOfContainerInstance({
      containerInstanceArn: ARN,
      ec2InstanceId: 'i-0abc123',
      attributes: [
        { name: 'ecs.availability-zone', value: 'eu-west-1b' },
        { name: 'ecs.instance-type', value: 'm7g.large' },
        { name: 'ecs.cpu-architecture', value: 'arm64' },
        { name: 'ecs.os-type', value: 'linux' },
      ],
    });
    expect(facts).toEqual({
      providerID: 'aws:///eu-west-1b/i-0abc123',
      labels: {
        'topology.kubernetes.io/region': 'eu-west-1',
        'topology.kubernetes.io/zone': 'eu-west-1b',
        'node.kubernetes.io/instance-type': 'm7g.large',
        'kubernetes.io/arch': 'arm64',
        'kubernetes.io/os': 'linux',
      },
      annotations: { [ANNOTATION_CONTAINER_INSTANCE]: ARN },
    });
  });

  it('maps x86_64 to amd64 and takes the zone from the task when the instance has none', () => {
    const facts = factsOfContainerInstance({ ec2InstanceId: 'i-1', attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }] }, 'us-east-2c');
    expect(facts.providerID).toBe('aws:///us-east-2c/i-1');
    expect(facts.labels).toEqual({ 'kubernetes.io/arch': 'amd64', 'topology.kubernetes.io/zone': 'us-east-2c', 'topology.kubernetes.io/region': 'us-east-2' });
  });

  it('parses providerIDs of its own shape only', () => {
    expect(parseProviderId(providerIdOf('us-east-1a', 'i-0f'))).toEqual({ zone: 'us-east-1a', instanceId: 'i-0f' });
    expect(parseProviderId('aws:///i-0f')).toEqual({ instanceId: 'i-0f' });
    expect(parseProviderId('gce://project/zone/vm')).toBeUndefined();
    expect(parseProviderId(undefined)).toBeUndefined();
  });
});

describe("the agent's Node with instance facts", () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  const dataDir = mkdtempSync(join(tmpdir(), 'kumo-node-facts-'));
  const manager = (name: string, extra: { providerID?: string; annotations?: Record<string, string> }) =>
    new NodeManager(cluster.client, systemClock, {
      name,
      nodeIP: '127.0.0.1',
      port: 0,
      labels: { 'topology.kubernetes.io/zone': 'us-east-1a' },
      taints: [],
      reserved: {},
      maxPods: 110,
      dataDir,
      runtimeName: 'process',
      runtimeVersion: async () => 'process://test',
      leaseDurationSeconds: 40,
      ...extra,
    });

  beforeAll(async () => {
    cluster = await startCluster({ controllers: false });
  });
  afterAll(async () => {
    await cluster.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers with spec.providerID and the annotations', async () => {
    await manager('i-0aaa', { providerID: 'aws:///us-east-1a/i-0aaa', annotations: { [ANNOTATION_CONTAINER_INSTANCE]: ARN } }).register();
    const node = await cluster.client.get<Node & KObject>(NODES, undefined, 'i-0aaa');
    expect(node.spec?.providerID).toBe('aws:///us-east-1a/i-0aaa');
    expect(node.metadata.annotations?.[ANNOTATION_CONTAINER_INSTANCE]).toBe(ARN);
    expect(node.metadata.labels?.['topology.kubernetes.io/zone']).toBe('us-east-1a');
  });

  it('sets a providerID on a Node that has none when it takes it over, keeping other annotations', async () => {
    await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'i-0bbb', annotations: { keep: 'me' } } } as KObject);
    await manager('i-0bbb', { providerID: 'aws:///us-east-1a/i-0bbb', annotations: { [ANNOTATION_CONTAINER_INSTANCE]: ARN } }).register();
    const node = await cluster.client.get<Node & KObject>(NODES, undefined, 'i-0bbb');
    expect(node.spec?.providerID).toBe('aws:///us-east-1a/i-0bbb');
    expect(node.metadata.annotations).toEqual({ keep: 'me', [ANNOTATION_CONTAINER_INSTANCE]: ARN });
  });
});
