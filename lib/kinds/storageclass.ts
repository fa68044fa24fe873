/**
 * StorageClass (storage.k8s.io/v1): cluster-scoped. A class of storage a
 * claim names, after kube's pkg/registry/storage/storageclass (defaults,
 * pkg/apis/storage/validation's messages: provisioner, parameters,
 * reclaimPolicy and volumeBindingMode fixed once created) and kubectl's
 * columns and describer. The DefaultStorageClass admission plugin that
 * gives a claim of no class the default one lives beside the claim kind
 * (admitDefaultStorageClass below).
 */
import type { PersistentVolumeClaim } from '../api/core/v1/persistentvolumeclaim.js';
import { StatusError } from '../api/errors.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { parseQuantity } from '../api/quantity.js';
import {
  ANN_DEFAULT_CLASS,
  StorageClassSchema,
  VOLUME_BINDING_IMMEDIATE,
  VOLUME_BINDING_WAIT,
  defaultClass,
  isDefaultClass,
  type StorageClass,
} from '../api/storage/v1/storageclass.js';
import { qualifiedName } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents } from '../printers/describe/common.js';
import { LEVEL_0, LEVEL_1, tabbed } from '../printers/describe/writer.js';
import { formatLabels } from '../printers/table-printer.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';
import type { AdmitContext, Strategy } from './strategy.js';

const RECLAIM_POLICIES = ['Delete', 'Retain'] as const;
const BINDING_MODES = [VOLUME_BINDING_IMMEDIATE, VOLUME_BINDING_WAIT] as const;
/** validation.maxProvisionerParameterSize: keys and values together. */
const MAX_PARAMETERS_SIZE = 256 * 1024;

function validateParameters(params: Record<string, string> | null | undefined): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PARAMETERS_SIZE) return [fieldErrors.tooLong('parameters', MAX_PARAMETERS_SIZE)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(fieldErrors.invalid('parameters', k, 'field can not be empty.'));
    size += k.length + v.length;
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(fieldErrors.tooLong('parameters', MAX_PARAMETERS_SIZE));
  return errs;
}

/** apivalidation.ValidateTopologySelectorTerm for each allowed topology. */
function validateAllowedTopologies(terms: StorageClass['allowedTopologies']): FieldError[] {
  const errs: FieldError[] = [];
  (terms ?? []).forEach((term, i) => {
    const exprs = term.matchLabelExpressions ?? [];
    if (exprs.length === 0) errs.push(fieldErrors.required(`allowedTopologies[${i}].matchLabelExpressions`, 'must have at least one label selector'));
    exprs.forEach((e, j) => {
      const at = `allowedTopologies[${i}].matchLabelExpressions[${j}]`;
      for (const msg of qualifiedName(e.key ?? '')) errs.push(fieldErrors.invalid(`${at}.key`, e.key, msg));
      if ((e.values ?? []).length === 0) errs.push(fieldErrors.required(`${at}.values`, 'must specify as least one value'));
    });
  });
  return errs;
}

const storageClassStrategy: Strategy = {
  noGeneration: true,
  // storage/v1 SetDefaults_StorageClass.
  defaults(obj) {
    const sc = obj as StorageClass;
    sc.reclaimPolicy ??= 'Delete';
    sc.volumeBindingMode ??= VOLUME_BINDING_IMMEDIATE;
  },
  validate(obj) {
    const sc = obj as StorageClass;
    const errs: FieldError[] = [];
    const provisioner = sc.provisioner ?? '';
    if (provisioner === '') errs.push(fieldErrors.required('provisioner'));
    else for (const msg of qualifiedName(provisioner.toLowerCase())) errs.push(fieldErrors.invalid('provisioner', provisioner, msg));
    errs.push(...validateParameters(sc.parameters));
    if (sc.reclaimPolicy && !(RECLAIM_POLICIES as readonly string[]).includes(sc.reclaimPolicy))
      errs.push(fieldErrors.notSupported('reclaimPolicy', sc.reclaimPolicy, RECLAIM_POLICIES));
    if (!sc.volumeBindingMode) errs.push(fieldErrors.required('volumeBindingMode'));
    else if (!(BINDING_MODES as readonly string[]).includes(sc.volumeBindingMode))
      errs.push(fieldErrors.notSupported('volumeBindingMode', sc.volumeBindingMode, BINDING_MODES));
    errs.push(...validateAllowedTopologies(sc.allowedTopologies));
    return errs;
  },
  validateUpdate(obj, old) {
    const sc = obj as StorageClass;
    const prev = old as StorageClass;
    const errs: FieldError[] = [];
    if (!deepEqual(sc.parameters ?? {}, prev.parameters ?? {})) errs.push(fieldErrors.forbidden('parameters', 'updates to parameters are forbidden.'));
    if (sc.provisioner !== prev.provisioner) errs.push(fieldErrors.forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (sc.reclaimPolicy !== prev.reclaimPolicy) errs.push(fieldErrors.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if (sc.volumeBindingMode !== prev.volumeBindingMode) errs.push(fieldErrors.invalid('volumeBindingMode', sc.volumeBindingMode, 'field is immutable'));
    return errs;
  },
};

async function storageClasses(ctx: AdmitContext): Promise<(StorageClass & KObject)[]> {
  return (await ctx.list({ group: 'storage.k8s.io', resource: 'storageclasses' })) as unknown as (StorageClass & KObject)[];
}

/**
 * kube's DefaultStorageClass admission plugin, on create: a claim that names
 * no class (storageClassName unset, not "", and no beta annotation) gets the
 * default class's name; no default class leaves it unset.
 */
export async function admitDefaultStorageClass(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (old) return;
  const claim = obj as PersistentVolumeClaim;
  if (claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
  if (claim.spec?.storageClassName !== undefined && claim.spec.storageClassName !== null) return;
  const dflt = defaultClass(await storageClasses(ctx));
  if (!dflt) return;
  claim.spec = { ...(claim.spec ?? {}), storageClassName: dflt.metadata.name };
}

/**
 * kube's PersistentVolumeClaimResize admission plugin: a bound claim's
 * storage request may grow only when its class allows volume expansion.
 */
export async function admitClaimResize(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (!old || old.metadata.deletionTimestamp) return;
  const claim = obj as PersistentVolumeClaim;
  const prev = old as PersistentVolumeClaim;
  const size = (c: PersistentVolumeClaim) => parseQuantity(c.spec?.resources?.requests?.storage as string | undefined) ?? 0;
  if (size(claim) <= size(prev)) return;
  if (prev.status?.phase !== 'Bound') return;
  const name = claim.spec?.storageClassName;
  const sc = name ? (await storageClasses(ctx)).find((c) => c.metadata.name === name) : undefined;
  if (sc?.allowVolumeExpansion) return;
  throw StatusError.forbiddenObject(
    { group: '', resource: 'persistentvolumeclaims' },
    claim.metadata.name ?? '',
    'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
  );
}

/** kubectl get storageclass (pkg/printers/internalversion printStorageClass). */
const storageClassPrinter: Printer = {
  columns: [NAME, col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion', 'string'), AGE],
  row(obj, now) {
    const sc = obj as StorageClass;
    const name = `${sc.metadata.name ?? ''}${isDefaultClass(sc) ? ' (default)' : ''}`;
    return [
      name,
      sc.provisioner ?? '',
      sc.reclaimPolicy || 'Delete',
      sc.volumeBindingMode || VOLUME_BINDING_IMMEDIATE,
      String(sc.allowVolumeExpansion ?? false),
      age(sc.metadata.creationTimestamp, now),
    ];
  },
};

export const storageClassKind = defineKind({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  resource: 'storageclasses',
  namespaced: false,
  schema: StorageClassSchema,
  shortNames: ['sc'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'read' },
  strategy: storageClassStrategy,
  printer: storageClassPrinter,
  // kubectl's StorageClassDescriber.
  describer: async (obj, ctx) => {
    const sc = obj as StorageClass;
    const events = await ctx.events();
    return tabbed((w) => {
      w.write(LEVEL_0, `Name:\t${sc.metadata.name ?? ''}\n`);
      w.write(LEVEL_0, `IsDefaultClass:\t${isDefaultClass(sc) ? 'Yes' : 'No'}\n`);
      w.write(LEVEL_0, `Annotations:\t${formatLabels(sc.metadata.annotations)}\n`);
      w.write(LEVEL_0, `Provisioner:\t${sc.provisioner ?? ''}\n`);
      w.write(LEVEL_0, `Parameters:\t${formatLabels(sc.parameters)}\n`);
      const expand = sc.allowVolumeExpansion;
      w.write(LEVEL_0, `AllowVolumeExpansion:\t${expand === undefined || expand === null ? '<unset>' : expand ? 'True' : 'False'}\n`);
      if ((sc.mountOptions ?? []).length === 0) w.write(LEVEL_0, 'MountOptions:\t<none>\n');
      else {
        w.write(LEVEL_0, 'MountOptions:\n');
        for (const o of sc.mountOptions ?? []) w.write(LEVEL_1, `${o}\n`);
      }
      if (sc.reclaimPolicy) w.write(LEVEL_0, `ReclaimPolicy:\t${sc.reclaimPolicy}\n`);
      if (sc.volumeBindingMode) w.write(LEVEL_0, `VolumeBindingMode:\t${sc.volumeBindingMode}\n`);
      if (sc.allowedTopologies) {
        // kubectl's printAllowedTopologies.
        w.write(LEVEL_0, 'AllowedTopologies:\t');
        if (sc.allowedTopologies.length === 0) w.write(LEVEL_0, '<none>\n');
        else {
          w.write(LEVEL_0, '\n');
          sc.allowedTopologies.forEach((term, i) => {
            const exprs = (term.matchLabelExpressions ?? []).map((e) => `${e.key} in [${(e.values ?? []).join(', ')}]`);
            w.write(LEVEL_1, `Term ${i}:\t${exprs.length === 0 ? '<none>' : exprs.join('\n')}\n`);
          });
        }
      }
      if (events) describeEvents(events, w, ctx.now);
    });
  },
  bootstrap: [],
});

/** The default class `kumo up` creates at start (the local-path provisioner, bound where the first consumer runs). */
export function localDefaultClass(name: string, provisioner: string): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, annotations: { [ANN_DEFAULT_CLASS]: 'true' } },
    provisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: VOLUME_BINDING_WAIT,
    allowVolumeExpansion: true,
  };
}
