/** Strategies for PersistentVolumeClaims and PersistentVolumes. */
import { PV_PROTECTION, type PersistentVolume } from '../../api/core/v1/persistentvolume.js';
import { PVC_PROTECTION, type PersistentVolumeClaim } from '../../api/core/v1/persistentvolumeclaim.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import type { KObject } from '../../api/object.js';
import { parseQuantity } from '../../api/quantity.js';
import { deepEqual } from '../../util/json.js';
import type { Strategy } from '../strategy.js';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
/** The volume sources kumo knows a PersistentVolume by; any one of them makes a PV valid. */
const PV_SOURCES = ['hostPath', 'local', 'awsElasticBlockStore', 'csi', 'nfs', 'iscsi', 'fc', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cephfs', 'rbd'];

function validateAccessModes(modes: readonly string[] | null | undefined, field: string): FieldError[] {
  if (!modes || modes.length === 0) return [fieldErrors.required(field, 'at least 1 access mode is required')];
  const errs: FieldError[] = [];
  for (const m of modes) if (!ACCESS_MODES.includes(m)) errs.push(fieldErrors.notSupported(field, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(fieldErrors.forbidden(field, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function addFinalizer(obj: KObject, f: string): void {
  const list = obj.metadata.finalizers ?? [];
  if (!list.includes(f)) obj.metadata.finalizers = [...list, f];
}

export const persistentVolumeClaimStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    const spec = ((obj as PersistentVolumeClaim).spec ??= {});
    spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(obj) {
    (obj as PersistentVolumeClaim).status = { phase: 'Pending' };
    addFinalizer(obj, PVC_PROTECTION);
  },
  validate(obj) {
    const spec = (obj as PersistentVolumeClaim).spec ?? {};
    const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
    const storage = spec.resources?.requests?.storage;
    if (storage === undefined) errs.push(fieldErrors.required('spec.resources[storage]'));
    else if (!((parseQuantity(storage) ?? 0) > 0)) errs.push(fieldErrors.invalid('spec.resources[storage]', storage, 'must be greater than zero'));
    if (spec.volumeMode && !VOLUME_MODES.includes(spec.volumeMode)) errs.push(fieldErrors.notSupported('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
    return errs;
  },
  validateUpdate(obj, old) {
    // What may change: the requested size (expansion), the attributes class, and volumeName/storageClassName when first set (binding).
    const strip = (o: KObject): Record<string, unknown> => {
      const spec: Record<string, unknown> = JSON.parse(JSON.stringify((o as PersistentVolumeClaim).spec ?? {}));
      delete spec.resources;
      delete spec.volumeAttributesClassName;
      return spec;
    };
    const now = strip(obj);
    const before = strip(old);
    for (const f of ['volumeName', 'storageClassName']) {
      if (!before[f]) {
        delete now[f];
        delete before[f];
      }
    }
    if (deepEqual(now, before)) return [];
    return [fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
  },
};

export const persistentVolumeStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    const spec = ((obj as PersistentVolume).spec ??= {});
    spec.persistentVolumeReclaimPolicy ??= 'Retain';
    spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(obj) {
    (obj as PersistentVolume).status = { phase: 'Pending' };
    addFinalizer(obj, PV_PROTECTION);
  },
  validate(obj) {
    const spec = (obj as PersistentVolume).spec ?? {};
    const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
    const storage = spec.capacity?.storage;
    if (storage === undefined) errs.push(fieldErrors.required('spec.capacity', 'must specify a storage capacity'));
    else if (!((parseQuantity(storage) ?? 0) > 0)) errs.push(fieldErrors.invalid('spec.capacity[storage]', storage, 'must be greater than zero'));
    const sources = PV_SOURCES.filter((k) => (spec as Record<string, unknown>)[k]);
    if (sources.length === 0) errs.push(fieldErrors.required('spec', 'must specify a volume type'));
    if (sources.length > 1) errs.push(fieldErrors.forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
    if (spec.persistentVolumeReclaimPolicy && !RECLAIM_POLICIES.includes(spec.persistentVolumeReclaimPolicy)) {
      errs.push(fieldErrors.notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));
    }
    if (spec.hostPath && !spec.hostPath.path.startsWith('/'))
      errs.push(fieldErrors.invalid('spec.hostPath.path', spec.hostPath.path, 'must be an absolute path'));
    return errs;
  },
};
