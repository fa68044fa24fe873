/**
 * The shapes every stored Kubernetes object shares. Kind-specific schemas in
 * lib/api/<group>/<version>/ refine these; the store and the generic REST
 * path only rely on what is here.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
  [extra: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
  [extra: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [extra: string]: unknown;
}

/** Any object as stored: apiVersion, kind, metadata and whatever else the kind has. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Where an object lives: `namespace` is '' for cluster-scoped resources. */
export interface ObjectKey {
  /** The resource's store key (storeResource in store-key.ts): `pods`, `deployments`, `example.com/widgets`. */
  resource: string;
  namespace: string;
  name: string;
}
