import { z } from 'zod';
import { Int32, opt } from '../../meta/v1/common.js';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const LeaseSchema = TypeMetaSchema.extend({
  spec: z
    .looseObject({
      holderIdentity: opt(z.string()),
      leaseDurationSeconds: opt(Int32),
      acquireTime: opt(z.string()),
      renewTime: opt(z.string()),
      leaseTransitions: opt(Int32),
      strategy: opt(z.string()),
      preferredHolder: opt(z.string()),
    })
    .optional(),
});

export type Lease = z.infer<typeof LeaseSchema>;

/** The namespace of the nodes' heartbeat Leases (corev1.NamespaceNodeLease). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
