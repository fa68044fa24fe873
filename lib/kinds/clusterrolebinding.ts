/**
 * ClusterRoleBinding (rbac.authorization.k8s.io/v1): grants a ClusterRole
 * in every namespace and at the cluster scope, after kube's
 * pkg/registry/rbac/clusterrolebinding (lib/kinds/rolebinding.ts says the
 * rest).
 */
import { ClusterRoleBindingSchema } from '../api/rbac/v1/clusterrolebinding.js';
import { defineKind } from './kind.js';
import { admitBindingWrite } from './rbac/escalation.js';
import { bindingDescriber, bindingPrinter } from './rbac/print.js';
import { defaultBinding, rbacNameRule, RBAC_GROUP, validateBinding, validateBindingUpdate } from './rbac/validation.js';

export const clusterRoleBindingKind = defineKind({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  resource: 'clusterrolebindings',
  namespaced: false,
  schema: ClusterRoleBindingSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none', viewers: 'none' },
  strategy: {
    noGeneration: true,
    nameRule: rbacNameRule,
    defaults: defaultBinding,
    validate: (obj) => validateBinding(obj, false),
    validateUpdate: validateBindingUpdate,
    admit: (obj, old, ctx) => {
      defaultBinding(obj);
      return admitBindingWrite('clusterrolebindings', obj, old, ctx);
    },
  },
  printer: bindingPrinter,
  describer: bindingDescriber,
});
