/** Deployment (apps/v1): namespaced. */
import { DeploymentSchema, type Deployment } from '../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../api/apps/v1/replicaset.js';
import type { KObject } from '../api/object.js';
import { deploymentPrinter } from '../printers/columns.js';
import { describeDeployment } from '../printers/describe/workloads.js';
import { labelSelectorText } from '../printers/selector.js';
import { tolerate } from './describe.js';
import { defineKind } from './kind.js';
import { replicaSetKind } from './replicaset.js';
import { deploymentStrategy } from './strategies/apps.js';

export const deploymentKind = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  resource: 'deployments',
  namespaced: true,
  schema: DeploymentSchema,
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: deploymentStrategy,
  printer: deploymentPrinter,
  describer: async (obj, ctx) => {
    const d = obj as Deployment;
    const labelSelector = labelSelectorText(d.spec?.selector);
    const replicaSets = await tolerate(ctx.list<ReplicaSet & KObject>(replicaSetKind, obj.metadata.namespace, { labelSelector }), []);
    return describeDeployment(d, replicaSets, await ctx.events(), ctx.now);
  },
});
