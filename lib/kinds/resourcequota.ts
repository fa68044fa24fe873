/**
 * ResourceQuota (v1): namespaced, with a status subresource. After kube's
 * pkg/registry/core/resourcequota (status cleared on create, kept by spec
 * updates) and pkg/apis/core/validation ValidateResourceQuota. What a quota
 * limits is enforced by the ResourceQuota admission plugin
 * (lib/apiserver/quota-admission.ts); its status by the quota controller
 * (lib/controllers/resourcequota.ts).
 */
import { ResourceQuotaSchema, type ResourceQuota, type ScopedResourceSelectorRequirement } from '../api/core/v1/resourcequota.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { amount, formatAmount, parseAmount, type ResourceList } from '../api/quota/amounts.js';
import { COMPUTE_RESOURCE_NAMES } from '../api/quota/evaluators.js';
import { qualifiedName } from '../api/validation.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { LEVEL_0, tabbed } from '../printers/describe/writer.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { validateQuantity } from './validation/resource-list.js';

/** helper.standardQuotaResources. */
const STANDARD_QUOTA_RESOURCES = new Set([
  ...COMPUTE_RESOURCE_NAMES,
  'pods',
  'requests.storage',
  'persistentvolumeclaims',
  'services',
  'services.loadbalancers',
  'services.nodeports',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
]);

function isStandardQuotaResourceName(name: string): boolean {
  return STANDARD_QUOTA_RESOURCES.has(name) || name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

const SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];
const POD_COMPUTE = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);
const CONFLICTING = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];
const EXISTS_ONLY = ['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'];

/** helper.IsResourceQuotaScopeValidForResource. */
function scopeValidFor(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return resource === 'pods' || POD_COMPUTE.has(resource);
    case 'BestEffort':
      return resource === 'pods';
    case 'VolumeAttributesClass':
      return ['persistentvolumeclaims', 'requests.storage'].includes(resource);
    default:
      return true;
  }
}

/** The resource names and values of a ResourceList (spec.hard, status.hard, status.used). */
function validateList(list: ResourceList | null | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {})) {
    const field = `${path}[${k}]`;
    for (const msg of qualifiedName(k)) errs.push(fieldErrors.invalid(field, k, msg));
    if (!k.includes('/') && !isStandardQuotaResourceName(k)) errs.push(fieldErrors.invalid(field, k, 'must be a standard resource for quota'));
    validateQuantity(field, k, v, errs);
  }
  return errs;
}

/** Go's %#v of the scopes, as field.Invalid prints a slice. */
function goScopes(scopes: readonly string[]): string {
  return `[]core.ResourceQuotaScope{${scopes.map((s) => JSON.stringify(s)).join(', ')}}`;
}

function validateScopes(q: ResourceQuota): FieldError[] {
  const scopes = q.spec?.scopes ?? [];
  if (scopes.length === 0) return [];
  const hard = Object.keys(q.spec?.hard ?? {}).sort();
  const invalid = (why: string): FieldError => ({ type: 'FieldValueInvalid', field: 'spec.scopes', message: `Invalid value: ${goScopes(scopes)}: ${why}` });
  const errs: FieldError[] = [];
  for (const scope of scopes) {
    if (!SCOPES.includes(scope)) errs.push(invalid('unsupported scope'));
    for (const k of hard) if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k)) errs.push(invalid('unsupported scope applied to resource'));
  }
  for (const pair of CONFLICTING) if (pair.every((s) => scopes.includes(s))) errs.push(invalid('conflicting scopes'));
  return errs;
}

function validateScopeSelector(q: ResourceQuota): FieldError[] {
  const reqs: ScopedResourceSelectorRequirement[] = q.spec?.scopeSelector?.matchExpressions ?? [];
  const hard = Object.keys(q.spec?.hard ?? {}).sort();
  const path = 'spec.scopeSelector.matchExpressions';
  const errs: FieldError[] = [];
  for (const req of reqs) {
    const scope = req.scopeName ?? '';
    if (!SCOPES.includes(scope)) errs.push(fieldErrors.invalid(`${path}.scopeName`, scope, 'unsupported scope'));
    for (const k of hard) {
      if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k)) errs.push(fieldErrors.invalidOmitted(path, 'unsupported scope applied to resource'));
    }
    if (EXISTS_ONLY.includes(scope) && req.operator !== 'Exists') {
      errs.push(
        fieldErrors.invalid(
          `${path}.operator`,
          req.operator ?? '',
          "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    }
    const values = req.values ?? [];
    if (req.operator === 'In' || req.operator === 'NotIn') {
      if (values.length === 0)
        errs.push(fieldErrors.required(`${path}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
      if (values.length > 0)
        errs.push(fieldErrors.invalidOmitted(`${path}.values`, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else errs.push(fieldErrors.invalid(`${path}.operator`, req.operator ?? '', 'not a valid selector operator'));
  }
  const named = reqs.map((r) => r.scopeName ?? '');
  for (const pair of CONFLICTING) if (pair.every((s) => named.includes(s))) errs.push(fieldErrors.invalidOmitted(path, 'conflicting scopes'));
  return errs;
}

function validateStatus(q: ResourceQuota): FieldError[] {
  return [...validateList(q.status?.hard, 'status.hard'), ...validateList(q.status?.used, 'status.used')];
}

const resourceQuotaStrategy: Strategy = {
  noGeneration: true,
  // The quota controller fills status; a client's is dropped (kube's PrepareForCreate).
  prepareForCreate(obj) {
    delete (obj as ResourceQuota).status;
  },
  validate(obj) {
    const q = obj as ResourceQuota;
    return [...validateList(q.spec?.hard, 'spec.hard'), ...validateScopes(q), ...validateScopeSelector(q), ...validateStatus(q)];
  },
  validateUpdate(obj, old) {
    const scopes = (obj as ResourceQuota).spec?.scopes ?? [];
    if (deepEqual(scopes, (old as ResourceQuota).spec?.scopes ?? [])) return [];
    return [{ type: 'FieldValueInvalid', field: 'spec.scopes', message: `Invalid value: ${goScopes(scopes)}: field is immutable` }];
  },
  validateStatusUpdate: (obj) => validateStatus(obj as ResourceQuota),
};

/** Quantity.String() of a stored value (as it was written when it does not parse). */
function shown(v: string | number | undefined): string {
  const a = v === undefined ? amount(0n) : parseAmount(v);
  return a ? formatAmount(a) : String(v);
}

/** kubectl's printResourceQuota: `name: used/hard` for each hard name, limits.* in LIMIT, the rest in REQUEST. */
const resourceQuotaPrinter: Printer = {
  columns: [NAME, AGE, col('Request'), col('Limit')],
  row(obj, now) {
    const q = obj as ResourceQuota;
    const request: string[] = [];
    const limit: string[] = [];
    for (const r of Object.keys(q.status?.hard ?? {}).sort()) {
      const cell = `${r}: ${shown(q.status?.used?.[r])}/${shown(q.status?.hard?.[r])}`;
      (r.split('.').length > 1 && r.startsWith('limits.') ? limit : request).push(cell);
    }
    return [q.metadata.name ?? '', age(q.metadata.creationTimestamp, now), request.join(', '), limit.join(', ')];
  },
};

/** kubectl's helpTextForResourceQuotaScope. */
const SCOPE_HELP: Record<string, string> = {
  Terminating: 'Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system.',
  NotTerminating:
    'Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.',
  BestEffort: 'Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.',
  NotBestEffort: 'Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.',
};

/** kubectl's describeQuota; a used value in another format than its hard one prints in the hard one's (whole units). */
export function describeResourceQuota(q: ResourceQuota): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${q.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${q.metadata.namespace ?? ''}\n`);
    const scopes = [...(q.spec?.scopes ?? [])].sort();
    if (scopes.length > 0) {
      w.write(LEVEL_0, `Scopes:\t${scopes.join(', ')}\n`);
      for (const s of scopes) if (SCOPE_HELP[s]) w.write(LEVEL_0, ` * ${SCOPE_HELP[s]}\n`);
    }
    w.write(LEVEL_0, 'Resource\tUsed\tHard\n');
    w.write(LEVEL_0, '--------\t----\t----\n');
    for (const r of Object.keys(q.status?.hard ?? {}).sort()) {
      const hard = parseAmount(q.status?.hard?.[r]);
      let used = parseAmount(q.status?.used?.[r]) ?? amount(0n, hard?.binary);
      if (hard && used.binary !== hard.binary) used = amount(((used.milli + 999n) / 1000n) * 1000n, hard.binary);
      w.write(LEVEL_0, `${r}\t${formatAmount(used)}\t${shown(q.status?.hard?.[r])}\n`);
    }
  });
}

export const resourceQuotaKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  resource: 'resourcequotas',
  namespaced: true,
  schema: ResourceQuotaSchema,
  shortNames: ['quota'],
  categories: [],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none', viewers: 'read' },
  strategy: resourceQuotaStrategy,
  printer: resourceQuotaPrinter,
  describer: async (obj: KObject) => describeResourceQuota(obj as ResourceQuota),
});
