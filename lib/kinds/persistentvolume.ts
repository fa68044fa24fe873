/** PersistentVolume (v1): cluster-scoped. */
import { PersistentVolumeSchema, type PersistentVolume } from '../api/core/v1/persistentvolume.js';
import { persistentVolumePrinter } from '../printers/columns.js';
import { describePersistentVolume } from '../printers/describe/storage.js';
import { defineKind } from './kind.js';
import { persistentVolumeStrategy } from './strategies/storage.js';

export const persistentVolumeKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  resource: 'persistentvolumes',
  namespaced: false,
  schema: PersistentVolumeSchema,
  shortNames: ['pv'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  strategy: persistentVolumeStrategy,
  printer: persistentVolumePrinter,
  describer: async (obj, ctx) => describePersistentVolume(obj as PersistentVolume, await ctx.events(), ctx.now),
});
