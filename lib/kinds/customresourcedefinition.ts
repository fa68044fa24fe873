/**
 * CustomResourceDefinition (apiextensions.k8s.io/v1): cluster-scoped, after
 * apiextensions-apiserver's pkg/registry/customresourcedefinition (strategy
 * and the REST's Delete). Defaulting and validation are lib/apiextensions'
 * (kube's words and paths); what a stored CRD serves is built by
 * ./custom-resource.ts and kept current by the API server
 * (lib/apiserver/custom-resources.ts), which also sets the NamesAccepted and
 * Established conditions and runs the cleanup finalizer.
 */
import {
  CustomResourceDefinitionSchema,
  defaultCustomResourceDefinition,
  validateCustomResourceDefinition,
  type CustomResourceDefinition,
} from '../apiextensions/index.js';
import type { KObject } from '../api/object.js';
import { col, type Printer } from '../printers/columns.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';

/** The finalizer a CRD's deletion carries until its objects are gone (apiextensions.CustomResourceCleanupFinalizer). */
export const CUSTOM_RESOURCE_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const asCRD = (obj: KObject) => obj as unknown as CustomResourceDefinition;

/** The storage version's name, if the CRD names one. */
function storageVersion(crd: CustomResourceDefinition): string | undefined {
  return (crd.spec.versions ?? []).find((v) => v.storage)?.name;
}

const strategy: Strategy = {
  defaults: (obj) => defaultCustomResourceDefinition(asCRD(obj)),
  // As the CRD strategy's PrepareForCreate: the status is the server's, storedVersions starts at the storage version.
  prepareForCreate(obj) {
    const storage = storageVersion(asCRD(obj));
    obj.status = storage ? { storedVersions: [storage] } : {};
  },
  // PrepareForUpdate: the status is kept (it changes through /status), a new storage version joins storedVersions.
  prepareForUpdate(obj, old) {
    const status = structuredClone((old.status ?? {}) as NonNullable<CustomResourceDefinition['status']>);
    const storage = storageVersion(asCRD(obj));
    if (storage && !(status.storedVersions ?? []).includes(storage)) status.storedVersions = [...(status.storedVersions ?? []), storage];
    obj.status = status;
  },
  // The name is checked by validateCustomResourceDefinition (`<plural>.<group>` besides DNS-1123), once.
  nameRule: () => [],
  validateCreate: (obj) => validateCustomResourceDefinition(asCRD(obj)),
  validateUpdate: (obj, old) => validateCustomResourceDefinition(asCRD(obj), { old: asCRD(old) }),
  // As the CRD REST's Delete: the first delete marks the CRD and adds the cleanup finalizer, which the
  // API server removes once the CRD's objects are deleted; until then the CRD stays (Terminating).
  holdsDeletion: (obj) => !obj.metadata.deletionTimestamp,
  prepareForDelete(obj) {
    const meta = obj.metadata;
    if (!(meta.finalizers ?? []).includes(CUSTOM_RESOURCE_CLEANUP_FINALIZER)) meta.finalizers = [...(meta.finalizers ?? []), CUSTOM_RESOURCE_CLEANUP_FINALIZER];
    const status = (obj.status ?? {}) as NonNullable<CustomResourceDefinition['status']>;
    const terminating = {
      type: 'Terminating',
      status: 'True',
      reason: 'InstanceDeletionPending',
      message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
    };
    status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'Terminating'), terminating];
    obj.status = status;
  },
};

/** kube-apiserver's default table (rest.NewDefaultTableConvertor): NAME and CREATED AT, a UTC RFC 3339 time. */
const printer: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Created At', 'date')],
  row: (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''],
};

export const customResourceDefinitionKind = defineKind({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  resource: 'customresourcedefinitions',
  namespaced: false,
  schema: CustomResourceDefinitionSchema,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy,
  printer,
  describer: 'generic',
});
