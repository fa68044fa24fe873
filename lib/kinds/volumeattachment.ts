/**
 * VolumeAttachment (storage.k8s.io/v1): cluster-scoped, served as far as
 * kubectl and charts read it (kube's validation, spec fixed once created,
 * status through its subresource, kubectl's columns); no attacher runs in
 * kumo, so nothing attaches what one names.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { VolumeAttachmentSchema, type VolumeAttachment } from '../api/storage/v1/csi.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';

const EXACTLY_ONE_SOURCE = 'must specify exactly one of inlineVolumeSpec and persistentVolumeName';

const volumeAttachmentStrategy: Strategy = {
  noGeneration: true,
  prepareForCreate(obj) {
    delete (obj as VolumeAttachment).status;
  },
  validate(obj) {
    const spec = (obj as VolumeAttachment).spec ?? {};
    const errs: FieldError[] = [];
    if (!spec.attacher) errs.push(fieldErrors.required('spec.attacher'));
    const source = spec.source ?? {};
    const pvName = source.persistentVolumeName;
    const inline = source.inlineVolumeSpec;
    if ((inline === undefined || inline === null) && (pvName === undefined || pvName === null))
      errs.push(fieldErrors.required('spec.source', EXACTLY_ONE_SOURCE));
    else if (inline && pvName !== undefined && pvName !== null) errs.push(fieldErrors.forbidden('spec.source', EXACTLY_ONE_SOURCE));
    else if (pvName === '') errs.push(fieldErrors.required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
    if (!spec.nodeName) errs.push(fieldErrors.required('spec.nodeName'));
    return errs;
  },
  validateUpdate(obj, old) {
    return deepEqual((obj as VolumeAttachment).spec, (old as VolumeAttachment).spec) ? [] : [fieldErrors.invalidOmitted('spec', 'field is immutable')];
  },
};

/** kubectl get volumeattachment (pkg/printers/internalversion printVolumeAttachment). */
const volumeAttachmentPrinter: Printer = {
  columns: [NAME, col('Attacher'), col('PV'), col('Node'), col('Attached', 'boolean'), AGE],
  row(obj, now) {
    const va = obj as VolumeAttachment;
    return [
      va.metadata.name ?? '',
      va.spec?.attacher ?? '',
      va.spec?.source?.persistentVolumeName ?? '',
      va.spec?.nodeName ?? '',
      va.status?.attached ?? false,
      age(va.metadata.creationTimestamp, now),
    ];
  },
};

export const volumeAttachmentKind = defineKind({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'VolumeAttachment',
  resource: 'volumeattachments',
  namespaced: false,
  schema: VolumeAttachmentSchema,
  shortNames: [],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  strategy: volumeAttachmentStrategy,
  printer: volumeAttachmentPrinter,
  describer: 'generic',
  bootstrap: [],
});
