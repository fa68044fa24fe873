/**
 * The four RBAC kinds, two by two: a role kind (Role, ClusterRole) and a
 * binding kind (RoleBinding, ClusterRoleBinding) differ only in identity,
 * scope and schema, as kube's pkg/registry/rbac packages do.
 */
import type { z } from 'zod';
import { defineKind, type Kind } from '../kind.js';
import { admitBindingWrite, admitRoleWrite } from './escalation.js';
import { bindingDescriber, bindingPrinter, roleDescriber, rolePrinter } from './print.js';
import { defaultBinding, rbacNameRule, RBAC_GROUP, validateBinding, validateBindingUpdate, validateRole } from './validation.js';

interface Identity {
  kind: string;
  resource: string;
  namespaced: boolean;
  schema: z.ZodType;
}

const common = {
  group: RBAC_GROUP,
  version: 'v1',
  shortNames: [],
  categories: [],
  subresources: [],
  authorization: { nodes: 'none' },
} as const;

/** Role or ClusterRole: rules (and, cluster-wide, aggregation), escalation-checked. */
export function roleKindOf(id: Identity & { resource: 'roles' | 'clusterroles' }): Kind {
  return defineKind({
    ...common,
    ...id,
    garbageCollection: { dependent: true, owner: true },
    strategy: {
      noGeneration: true,
      nameRule: rbacNameRule,
      validate: (obj) => validateRole(obj, id.namespaced),
      admit: (obj, old, ctx) => admitRoleWrite(id.resource, obj, old, ctx),
    },
    printer: rolePrinter,
    describer: roleDescriber,
  });
}

/** RoleBinding or ClusterRoleBinding: subjects and an immutable roleRef, `bind`-checked. */
export function bindingKindOf(id: Identity & { resource: 'rolebindings' | 'clusterrolebindings' }): Kind {
  return defineKind({
    ...common,
    ...id,
    garbageCollection: { dependent: true, owner: false },
    strategy: {
      noGeneration: true,
      nameRule: rbacNameRule,
      defaults: defaultBinding,
      validate: (obj) => validateBinding(obj, id.namespaced),
      validateUpdate: validateBindingUpdate,
      admit: (obj, old, ctx) => {
        // Defaults come after admission in the generic path; the check reads the roleRef as it will be stored.
        defaultBinding(obj);
        return admitBindingWrite(id.resource, obj, old, ctx);
      },
    },
    printer: bindingPrinter,
    describer: bindingDescriber,
  });
}
