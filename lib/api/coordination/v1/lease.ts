export { LeaseSchema, type Lease } from './shapes.generated.js';

/** The namespace of the nodes' heartbeat Leases (corev1.NamespaceNodeLease). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
