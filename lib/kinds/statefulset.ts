/**
 * StatefulSet (apps/v1): namespaced. After kube's pkg/registry/apps/statefulset
 * and pkg/apis/apps/validation: SetDefaults_StatefulSet, ValidateStatefulSet
 * (its messages word for word), the update rule that only replicas,
 * ordinals, template, updateStrategy, the claim retention policy and
 * minReadySeconds may change, status and scale subresources, kubectl's
 * columns (NAME READY AGE; wide CONTAINERS IMAGES) and describer.
 */
import type { Pod } from '../api/core/v1/pod.js';
import { StatefulSetSchema, type StatefulSet } from '../api/apps/v1/statefulset.js';
import { defaultPodSpec } from '../api/core/v1/pod-defaults.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { IntOrString } from '../api/meta/v1/common.js';
import type { KObject } from '../api/object.js';
import { dns1123Label, validateAnnotations, validateLabels } from '../api/validation.js';
import { AGE, col, NAME, templateInfo, type Printer } from '../printers/columns.js';
import { describeStatefulSet } from '../printers/describe/statefulset.js';
import { age } from '../printers/duration.js';
import { labelSelectorText } from '../printers/selector.js';
import { deepEqual } from '../util/json.js';
import { tolerate } from './describe.js';
import { defineKind } from './kind.js';
import { podKind } from './pod.js';
import type { Strategy } from './strategy.js';
import { validatePodSpec } from './validation/pod-spec.js';
import { validateSelectorAndTemplate } from './validation/selector.js';

type Spec = NonNullable<StatefulSet['spec']>;

const POLICIES = ['OrderedReady', 'Parallel'] as const;
const RETENTION = ['Retain', 'Delete'] as const;

/** SetDefaults_StatefulSet, and SetDefaults_PersistentVolumeClaim on each claim template (kube stores them with apiVersion and kind). */
function defaults(obj: KObject): void {
  const spec = ((obj as StatefulSet).spec ??= {});
  spec.podManagementPolicy ||= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate) strategy.rollingUpdate.partition ??= 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ||= 'Retain';
  retention.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (spec.template) defaultPodSpec((spec.template.spec ??= {}));
  for (const claim of spec.volumeClaimTemplates ?? []) {
    claim.apiVersion ||= 'v1';
    claim.kind ||= 'PersistentVolumeClaim';
    (claim.spec ??= {}).volumeMode ??= 'Filesystem';
    claim.status ??= { phase: 'Pending' };
  }
}

function nonNegative(v: number | null | undefined, path: string, errs: FieldError[]): void {
  if (typeof v === 'number' && v < 0) errs.push(fieldErrors.invalid(path, v, 'must be greater than or equal to 0'));
}

/** ValidatePositiveIntOrPercent, IsNotMoreThan100Percent and "cannot be 0" for rollingUpdate.maxUnavailable. */
function validateMaxUnavailable(v: IntOrString, path: string, errs: FieldError[]): void {
  let value: number;
  if (typeof v === 'number') {
    value = v;
    nonNegative(v, path, errs);
  } else {
    const m = /^(\d+)%$/.exec(v);
    if (!m) {
      errs.push(
        fieldErrors.invalid(
          path,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
      return;
    }
    value = Number(m[1]);
    if (value > 100) errs.push(fieldErrors.invalid(path, v, 'must not be greater than 100%'));
  }
  if (value === 0) errs.push(fieldErrors.invalid(path, v, 'cannot be 0'));
}

/** ValidateStatefulSetSpec. */
function validateSpec(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (!policy) errs.push(fieldErrors.required('spec.podManagementPolicy'));
  else if (!(POLICIES as readonly string[]).includes(policy))
    errs.push(fieldErrors.invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));

  const strategy = spec.updateStrategy ?? {};
  switch (strategy.type ?? '') {
    case '':
      errs.push(fieldErrors.required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (strategy.rollingUpdate) {
        errs.push(fieldErrors.invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate':
      if (strategy.rollingUpdate) {
        nonNegative(strategy.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition', errs);
        const mu = strategy.rollingUpdate.maxUnavailable;
        if (mu !== undefined && mu !== null) validateMaxUnavailable(mu, 'spec.updateStrategy.rollingUpdate.maxUnavailable', errs);
      }
      break;
    default:
      errs.push(fieldErrors.invalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }

  const retention = spec.persistentVolumeClaimRetentionPolicy;
  for (const f of ['whenDeleted', 'whenScaled'] as const) {
    const v = retention?.[f];
    if (retention && !(RETENTION as readonly string[]).includes(v ?? '')) {
      errs.push(fieldErrors.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v ?? '', RETENTION));
    }
  }
  nonNegative(spec.replicas, 'spec.replicas', errs);
  nonNegative(spec.minReadySeconds, 'spec.minReadySeconds', errs);
  nonNegative(spec.ordinals?.start, 'spec.ordinals.start', errs);
  // The service name becomes each pod's spec.subdomain, which must be a DNS label (kubernetes#130233).
  if (spec.serviceName) for (const msg of dns1123Label(spec.serviceName)) errs.push(fieldErrors.invalid('spec.serviceName', spec.serviceName, msg));

  const sel = spec.selector;
  if (sel && Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0) {
    errs.push(fieldErrors.invalid('spec.selector', sel, 'empty selector is invalid for statefulset'));
  } else {
    errs.push(...validateSelectorAndTemplate(sel, spec.template?.metadata?.labels, 'spec.selector', 'spec.template.metadata.labels'));
  }
  const template = spec.template;
  if (!template) errs.push(fieldErrors.required('spec.template'));
  else {
    errs.push(...validateLabels(template.metadata?.labels, 'spec.template.labels'));
    errs.push(...validateAnnotations(template.metadata?.annotations, 'spec.template.annotations'));
    // The pods get a persistentVolumeClaim volume per claim template (replacing a volume of that name), so mounts may name them.
    const claimNames = new Set((spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name ?? ''));
    const volumes = [
      ...(template.spec?.volumes ?? []).filter((v) => !claimNames.has(v.name)),
      ...[...claimNames].map((name) => ({ name, persistentVolumeClaim: { claimName: name } })),
    ];
    errs.push(...validatePodSpec({ ...template.spec, volumes }, 'spec.template.spec'));
    const rp = template.spec?.restartPolicy;
    if (rp !== 'Always') errs.push(fieldErrors.notSupported('spec.template.spec.restartPolicy', rp ?? '', ['Always']));
    if (typeof template.spec?.activeDeadlineSeconds === 'number') {
      errs.push(fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
    }
  }
  return errs;
}

/** The spec fields an update may change (ValidateStatefulSetUpdate copies them from the old spec before comparing). */
const MUTABLE = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy'] as const;

function validateUpdate(obj: KObject, old: KObject): FieldError[] {
  const strip = (s: Spec | undefined): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...(s ?? {}) };
    for (const f of MUTABLE) delete out[f];
    // A field absent and a field null are the same Go value.
    for (const [k, v] of Object.entries(out)) if (v === null || v === undefined) delete out[k];
    return out;
  };
  const errs = validateSpec((obj as StatefulSet).spec ?? {});
  if (!deepEqual(strip((obj as StatefulSet).spec ?? undefined), strip((old as StatefulSet).spec ?? undefined))) {
    errs.push(
      fieldErrors.forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

/** ValidateStatefulSetStatus and the collision count that never goes down. */
function validateStatusUpdate(obj: KObject, old: KObject): FieldError[] {
  const st = (obj as StatefulSet).status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'] as const) {
    nonNegative(st[f], `status.${f}`, errs);
  }
  const replicas = st.replicas ?? 0;
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    if ((st[f] ?? 0) > replicas) errs.push(fieldErrors.invalid(`status.${f}`, st[f], 'cannot be greater than status.replicas'));
  }
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) {
    errs.push(fieldErrors.invalid('status.availableReplicas', st.availableReplicas, 'cannot be greater than status.readyReplicas'));
  }
  const before = (old as StatefulSet).status?.collisionCount;
  if (typeof before === 'number' && (st.collisionCount ?? 0) < before) {
    errs.push(fieldErrors.invalid('status.collisionCount', st.collisionCount ?? 0, 'cannot be decremented'));
  }
  return errs;
}

export const statefulSetStrategy: Strategy = {
  defaults,
  prepareForCreate(obj) {
    (obj as StatefulSet).status = { replicas: 0, availableReplicas: 0 };
  },
  // A StatefulSet's name is every pod's hostname, a DNS label (kubernetes#114172).
  nameRule: dns1123Label,
  validate: (obj) => validateSpec((obj as StatefulSet).spec ?? {}),
  validateUpdate,
  validateStatusUpdate,
};

/** kubectl's printStatefulSet. */
const statefulSetPrinter: Printer = {
  columns: [NAME, col('Ready'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1)],
  row(obj, now) {
    const s = obj as StatefulSet;
    const [containers, images] = templateInfo(s.spec?.template);
    return [s.metadata.name ?? '', `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`, age(s.metadata.creationTimestamp, now), containers, images];
  },
};

export const statefulSetKind = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  resource: 'statefulsets',
  namespaced: true,
  schema: StatefulSetSchema,
  shortNames: ['sts'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: statefulSetStrategy,
  printer: statefulSetPrinter,
  describer: async (obj, ctx) => {
    const s = obj as StatefulSet;
    const pods = await tolerate(ctx.list<Pod & KObject>(podKind, obj.metadata.namespace, { labelSelector: labelSelectorText(s.spec?.selector) }), []);
    return describeStatefulSet(s, pods, await ctx.events(), ctx.now);
  },
});
