/** Secret (v1): namespaced. */
import { SecretSchema, type Secret } from '../api/core/v1/secret.js';
import { secretPrinter } from '../printers/columns.js';
import { describeSecret } from '../printers/describe/core.js';
import { defineKind } from './kind.js';
import { secretStrategy } from './strategies/core.js';

export const secretKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'Secret',
  resource: 'secrets',
  namespaced: true,
  schema: SecretSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'own' },
  strategy: secretStrategy,
  printer: secretPrinter,
  describer: async (obj) => describeSecret(obj as Secret),
});
