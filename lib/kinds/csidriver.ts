/**
 * CSIDriver (storage.k8s.io/v1): cluster-scoped, served as far as kubectl
 * and charts read it (kube's defaults, validation of the enumerations, and
 * kubectl's columns); no CSI driver runs in kumo, so nothing acts on it.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { CSIDriverSchema, type CSIDriver } from '../api/storage/v1/csi.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';

const LIFECYCLE_MODES = ['Ephemeral', 'Persistent'] as const;
const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'] as const;

const csiDriverStrategy: Strategy = {
  noGeneration: true,
  // storage/v1 SetDefaults_CSIDriver.
  defaults(obj) {
    const spec = ((obj as CSIDriver).spec ??= {});
    spec.attachRequired ??= true;
    spec.podInfoOnMount ??= false;
    spec.storageCapacity ??= false;
    spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
    spec.requiresRepublish ??= false;
    spec.seLinuxMount ??= false;
    if ((spec.volumeLifecycleModes ?? []).length === 0) spec.volumeLifecycleModes = ['Persistent'];
  },
  validate(obj) {
    const spec = (obj as CSIDriver).spec ?? {};
    const errs: FieldError[] = [];
    for (const [i, m] of (spec.volumeLifecycleModes ?? []).entries()) {
      if (!(LIFECYCLE_MODES as readonly string[]).includes(m)) errs.push(fieldErrors.notSupported(`spec.volumeLifecycleModes[${i}]`, m, LIFECYCLE_MODES));
    }
    if (spec.fsGroupPolicy && !(FS_GROUP_POLICIES as readonly string[]).includes(spec.fsGroupPolicy))
      errs.push(fieldErrors.notSupported('spec.fsGroupPolicy', spec.fsGroupPolicy, FS_GROUP_POLICIES));
    return errs;
  },
};

/** kubectl get csidriver (pkg/printers/internalversion printCSIDriver). */
const csiDriverPrinter: Printer = {
  columns: [
    NAME,
    col('AttachRequired', 'boolean'),
    col('PodInfoOnMount', 'boolean'),
    col('StorageCapacity', 'boolean'),
    col('TokenRequests'),
    col('RequiresRepublish', 'boolean'),
    col('Modes'),
    AGE,
  ],
  row(obj, now) {
    const spec = (obj as CSIDriver).spec ?? {};
    const tokens = (spec.tokenRequests ?? []).map((t) => t.audience);
    const modes = spec.volumeLifecycleModes ?? [];
    return [
      obj.metadata.name ?? '',
      spec.attachRequired ?? true,
      spec.podInfoOnMount ?? false,
      spec.storageCapacity ?? false,
      tokens.length > 0 ? tokens.join(',') : '<unset>',
      spec.requiresRepublish ?? false,
      modes.length > 0 ? modes.join(',') : '<none>',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

export const csiDriverKind = defineKind({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIDriver',
  resource: 'csidrivers',
  namespaced: false,
  schema: CSIDriverSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  strategy: csiDriverStrategy,
  printer: csiDriverPrinter,
  describer: 'generic',
  bootstrap: [],
});
