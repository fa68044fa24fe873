export { ServiceAccountSchema, type ServiceAccount } from './shapes.generated.js';

/** The user name of a ServiceAccount (kube's serviceaccount.MakeUsername). */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The groups every ServiceAccount of a namespace is in (serviceaccount.MakeGroupNames). */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** The ServiceAccount every namespace gets, and that a pod naming none runs as. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';
