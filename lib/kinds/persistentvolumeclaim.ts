/** PersistentVolumeClaim (v1): namespaced. */
import { PersistentVolumeClaimSchema, type PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { persistentVolumeClaimPrinter } from '../printers/columns.js';
import { describePersistentVolumeClaim } from '../printers/describe/storage.js';
import { tolerate } from './describe.js';
import { defineKind } from './kind.js';
import { admitClaimLimits } from './limitranger.js';
import { podKind } from './pod.js';
import { admitClaimResize, admitDefaultStorageClass } from './storageclass.js';
import { persistentVolumeClaimStrategy } from './strategies/storage.js';

export const persistentVolumeClaimKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  resource: 'persistentvolumeclaims',
  namespaced: true,
  schema: PersistentVolumeClaimSchema,
  shortNames: ['pvc'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'read' },
  // kube's plugin order: DefaultStorageClass, then LimitRanger's storage min and max, then PersistentVolumeClaimResize.
  strategy: {
    ...persistentVolumeClaimStrategy,
    async admit(obj, old, ctx) {
      await admitDefaultStorageClass(obj, old, ctx);
      await admitClaimLimits(obj, old, ctx);
      await admitClaimResize(obj, old, ctx);
    },
  },
  printer: persistentVolumeClaimPrinter,
  describer: async (obj, ctx) => {
    // kubectl's getPodsForPVC: the namespace's pods that mount the claim.
    const pods = await tolerate(ctx.list<Pod & KObject>(podKind, obj.metadata.namespace, {}), []);
    const users = pods.filter((p) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === obj.metadata.name));
    return describePersistentVolumeClaim(obj as PersistentVolumeClaim, users, await ctx.events(), ctx.now);
  },
});
