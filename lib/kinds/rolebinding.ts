/**
 * RoleBinding (rbac.authorization.k8s.io/v1): grants a Role or ClusterRole
 * within its namespace, after kube's pkg/registry/rbac/rolebinding
 * (validation, roleRef immutable, the `bind` check:
 * lib/kinds/rbac/escalation.ts). A binding to a role that does not exist is
 * accepted and grants nothing.
 */
import { RoleBindingSchema } from '../api/rbac/v1/rolebinding.js';
import { defineKind } from './kind.js';
import { admitBindingWrite } from './rbac/escalation.js';
import { bindingDescriber, bindingPrinter } from './rbac/print.js';
import { defaultBinding, rbacNameRule, RBAC_GROUP, validateBinding, validateBindingUpdate } from './rbac/validation.js';

export const roleBindingKind = defineKind({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'RoleBinding',
  resource: 'rolebindings',
  namespaced: true,
  schema: RoleBindingSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none', viewers: 'none' },
  strategy: {
    noGeneration: true,
    nameRule: rbacNameRule,
    defaults: defaultBinding,
    validate: (obj) => validateBinding(obj, true),
    validateUpdate: validateBindingUpdate,
    admit: (obj, old, ctx) => {
      // Defaults come after admission in the generic path; the check reads the roleRef as it will be stored.
      defaultBinding(obj);
      return admitBindingWrite('rolebindings', obj, old, ctx);
    },
  },
  printer: bindingPrinter,
  describer: bindingDescriber,
});
