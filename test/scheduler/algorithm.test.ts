/**
 * The scheduler's filters and scores, from golden YAML cases
 * (fixtures/filters.yaml, fixtures/scores.yaml): nodes, the pods bound to
 * them, a pod to place, and what kube-scheduler would say. Pure: the real
 * algorithm on a SchedulerCache, no API.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Node, Taint } from '#lib/api/core/v1/node';
import type { Pod } from '#lib/api/core/v1/pod';
import type { KObject } from '#lib/api/object';
import { feasibleTarget, filter, schedule, unschedulableMessage } from '#lib/scheduler/algorithm';
import { SchedulerCache } from '#lib/scheduler/cache';
import { podRequests } from '#lib/scheduler/resources';

/** A node in short form: Ready, with cpu 4, memory 8Gi, ephemeral-storage 20Gi and 110 pods unless it says otherwise. */
interface NodeCase {
  name: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  allocatable?: Record<string, string>;
  ready?: string;
}

/** A pod spec with, beside it, the node it is bound to, its phase and the controller owning it. */
type PodCase = NonNullable<Pod['spec']> & { node?: string; phase?: string; owner?: string };

interface Case {
  name: string;
  nodes: NodeCase[];
  bound?: PodCase[];
  pod: PodCase;
  /** Why each node rejects the pod ([] where it fits). */
  expect?: Record<string, string[]>;
  /** The FailedScheduling message. */
  message?: string;
  /** The node the pod goes to. */
  chooses?: string;
}

type N = Node & KObject;
type P = Pod & KObject;

function nodeOf(c: NodeCase): N {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: c.name, uid: `node-${c.name}`, labels: c.labels ?? {} },
    spec: { ...(c.taints ? { taints: c.taints } : {}), ...(c.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '20Gi', pods: '110', ...c.allocatable },
      conditions: [{ type: 'Ready', status: c.ready ?? 'True' }],
    },
  } as N;
}

let uids = 0;
function podOf(c: PodCase): P {
  const { node, phase, owner, ...spec } = c;
  const uid = `pod-${++uids}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: uid,
      namespace: 'default',
      uid,
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `rs-${owner}`, controller: true }] } : {}),
    },
    spec: { ...spec, containers: (spec.containers ?? []).map((x) => ({ image: 'busybox', ...x })), ...(node ? { nodeName: node } : {}) },
    status: { phase: phase ?? (node ? 'Running' : 'Pending') },
  } as P;
}

function cacheOf(c: Case): SchedulerCache {
  const cache = new SchedulerCache();
  cache.load(c.nodes.map(nodeOf), (c.bound ?? []).map(podOf));
  return cache;
}

const cases = (file: string) => parse(readFileSync(new URL(`fixtures/${file}`, import.meta.url), 'utf8')) as Case[];

describe('scheduler filters (fixtures/filters.yaml)', () => {
  for (const c of cases('filters.yaml')) {
    it(c.name, () => {
      const cache = cacheOf(c);
      const pod = podOf(c.pod);
      const requests = podRequests(pod);
      const reasons = Object.fromEntries([...cache.nodes.values()].map((info) => [info.name, filter(pod, info, requests)]));
      expect(reasons).toEqual(c.expect);

      const result = schedule(pod, [...cache.nodes.values()], 0);
      const fits = Object.entries(c.expect ?? {}).filter(([, why]) => why.length === 0);
      if (fits.length === 0) {
        expect(result.node).toBeUndefined();
        if (c.message) expect(unschedulableMessage(cache.nodes.size, result.reasons)).toBe(c.message);
      } else expect(fits.map(([name]) => name)).toContain(result.node);
    });
  }
});

describe('scheduler scores (fixtures/scores.yaml)', () => {
  for (const c of cases('scores.yaml')) {
    it(c.name, () => {
      const cache = cacheOf(c);
      const pod = podOf(c.pod);
      // Every start of the round-robin and every tie-break lands on the same node.
      for (let start = 0; start < c.nodes.length; start++) {
        for (const random of [() => 0, () => 0.999]) expect(schedule(pod, [...cache.nodes.values()], start, random).node).toBe(c.chooses);
      }
    });
  }

  it('breaks a tie at random among the top nodes', () => {
    const cache = cacheOf({ name: 'tie', nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], pod: { containers: [] } });
    const pod = podOf({ containers: [{ name: 'app' }] });
    const nodes = [...cache.nodes.values()];
    expect(schedule(pod, nodes, 0, () => 0).node).toBe('c');
    expect(schedule(pod, nodes, 0, () => 0.999).node).toBe('a');
  });
});

describe('how many nodes the scheduler looks at (percentageOfNodesToScore)', () => {
  it('evaluates every node of a small cluster, and stops at the adaptive share of a large one', () => {
    expect(feasibleTarget(99)).toBe(99);
    expect(feasibleTarget(1000)).toBe(420);
    expect(feasibleTarget(5000)).toBe(500);
    const cache = cacheOf({ name: 'large', nodes: Array.from({ length: 1000 }, (_, i) => ({ name: `n${i}` })), pod: { containers: [] } });
    const result = schedule(podOf({ containers: [{ name: 'app' }] }), [...cache.nodes.values()], 990);
    expect(result.evaluated).toBe(420);
  });

  it("filters only the nodes a pod's required affinity names by metadata.name (a DaemonSet's pod), the others counted as kube counts them", () => {
    const names = Array.from({ length: 1000 }, (_, i) => `n${i}`);
    const cache = cacheOf({
      name: 'pinned',
      nodes: [...names.map((name) => ({ name })), { name: 'busy', allocatable: { pods: '0' } }],
      pod: { containers: [] },
    });
    const pinned = (node: string) =>
      podOf({
        containers: [{ name: 'app' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
            },
          },
        },
      });
    const placed = schedule(pinned('n777'), [...cache.nodes.values()], 0);
    expect(placed).toMatchObject({ node: 'n777', evaluated: 1 });
    const refused = schedule(pinned('busy'), [...cache.nodes.values()], 0);
    expect(refused.node).toBeUndefined();
    expect(unschedulableMessage(cache.nodes.size, refused.reasons)).toBe(
      "0/1001 nodes are available: 1 Too many pods, 1000 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });
});
