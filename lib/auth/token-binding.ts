/**
 * The RBAC binding that grants a bound kumo token its role (`kumo token
 * create --role`): `view` → ClusterRole view; `admin -n NS` → ClusterRole
 * admin in NS; `admin` → ClusterRole cluster-admin. Cluster-wide grants are
 * ClusterRoleBindings, namespaced ones RoleBindings in their namespace, each
 * named `kumo-token-<id>` for the user `kumo:token:<id>` and labelled with
 * the token id, so `kumo token revoke` finds and deletes it.
 */
import { RBAC_GROUP, type RbacBinding } from '../kinds/rbac/validation.js';
import type { Grant } from './tokens.js';
import { tokenSecretName } from './tokens.js';
import { tokenUserName } from './users.js';

/** Label on a token's binding: the token id. */
export const TOKEN_ID_LABEL = 'kumo.dev/token-id';

export function tokenBinding(id: string, grant: Grant): RbacBinding {
  const namespace = grant.namespace;
  const role = grant.role === 'view' ? 'view' : namespace ? 'admin' : 'cluster-admin';
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name: tokenSecretName(id), ...(namespace ? { namespace } : {}), labels: { [TOKEN_ID_LABEL]: id } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC_GROUP, kind: 'User', name: tokenUserName(id) }],
  };
}
