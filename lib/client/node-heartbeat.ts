/**
 * What a node posts to say it is alive, shared by the agent (lib/agent) and
 * the simulated nodes (lib/sim) so the node lifecycle controller reads the
 * same thing from both: its Lease in kube-node-lease and the kubelet's four
 * node conditions.
 */
import type { Lease } from '../api/coordination/v1/lease.js';
import { NODE_LEASE_NAMESPACE } from '../api/coordination/v1/lease.js';
import type { Condition } from '../api/meta/v1/condition.js';
import type { KObject } from '../api/object.js';
import { isAlreadyExists } from '../api/errors.js';
import { LEASES, NODES } from '../kinds/resources.js';
import type { KubeClient } from './client.js';

/**
 * Creates the node's Lease (named after the node, held by it), owned by its
 * Node when that exists so the garbage collector removes it with the node.
 * Undefined when the Lease already exists (someone else made it: the caller
 * renews it next time).
 */
export async function createNodeLease(
  client: KubeClient,
  name: string,
  leaseDurationSeconds: number,
  renewTime: string,
): Promise<(Lease & KObject) | undefined> {
  const node = await client.find(NODES, undefined, name);
  const lease: KObject = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(node ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid! }] } : {}),
    },
    spec: { holderIdentity: name, leaseDurationSeconds, renewTime },
  };
  try {
    return await client.create<Lease & KObject>(LEASES, NODE_LEASE_NAMESPACE, lease);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return undefined;
  }
}

/** What the node knows of its own health; every field absent is a healthy node. */
export interface NodeHealth {
  memoryPressure?: boolean;
  diskPressure?: boolean;
  /** Why the container runtime cannot be used; set, the node is not Ready. */
  runtimeError?: string;
}

/**
 * The kubelet's node conditions (MemoryPressure, DiskPressure, PIDPressure,
 * Ready) with its reasons and messages, every time stamped `now` (the caller
 * keeps an unchanged condition's lastTransitionTime).
 */
export function nodeConditions(now: string, health: NodeHealth = {}): Condition[] {
  const c = (type: string, status: boolean, reason: string, message: string): Condition => ({
    type,
    status: status ? 'True' : 'False',
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const { memoryPressure = false, diskPressure = false, runtimeError } = health;
  return [
    c(
      'MemoryPressure',
      memoryPressure,
      memoryPressure ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory',
      memoryPressure ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available',
    ),
    c(
      'DiskPressure',
      diskPressure,
      diskPressure ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure',
      diskPressure ? 'kubelet has disk pressure' : 'kubelet has no disk pressure',
    ),
    c('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    runtimeError === undefined ? c('Ready', true, 'KubeletReady', 'kubelet is posting ready status') : c('Ready', false, 'KubeletNotReady', runtimeError),
  ];
}
