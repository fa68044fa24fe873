import type { Strategy } from '../strategy.js';
import { deploymentStrategy, replicaSetStrategy } from './apps.js';
import { configMapStrategy, eventStrategy, namespaceStrategy, nodeStrategy, secretStrategy, serviceStrategy } from './core.js';
import { jobStrategy } from './jobs.js';
import { endpointSliceStrategy, endpointsStrategy } from './discovery.js';
import { podStrategy } from './pods.js';
import { persistentVolumeClaimStrategy, persistentVolumeStrategy } from './storage.js';

/** Strategy per resource; resources without one get only the generic rules. */
export const strategies: Readonly<Record<string, Strategy>> = {
  pods: podStrategy,
  nodes: nodeStrategy,
  namespaces: namespaceStrategy,
  events: eventStrategy,
  configmaps: configMapStrategy,
  secrets: secretStrategy,
  services: serviceStrategy,
  deployments: deploymentStrategy,
  replicasets: replicaSetStrategy,
  jobs: jobStrategy,
  leases: { noGeneration: true },
  endpoints: endpointsStrategy,
  endpointslices: endpointSliceStrategy,
  persistentvolumeclaims: persistentVolumeClaimStrategy,
  persistentvolumes: persistentVolumeStrategy,
};
