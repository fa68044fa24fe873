/** ConfigMap (v1): namespaced. */
import { ConfigMapSchema, type ConfigMap } from '../api/core/v1/configmap.js';
import { configMapPrinter } from '../printers/columns.js';
import { describeConfigMap } from '../printers/describe/core.js';
import { defineKind } from './kind.js';
import { configMapStrategy } from './strategies/core.js';

export const configMapKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  resource: 'configmaps',
  namespaced: true,
  schema: ConfigMapSchema,
  shortNames: ['cm'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'own' },
  strategy: configMapStrategy,
  printer: configMapPrinter,
  describer: async (obj, ctx) => describeConfigMap(obj as ConfigMap, await ctx.events(), ctx.now),
});
